"""Redis clients, one of each kind per process."""

from __future__ import annotations

from functools import lru_cache

import redis
import redis.asyncio

from product_importer.settings import settings


@lru_cache(maxsize=1)
def redis_sync() -> redis.Redis:
    return redis.Redis.from_url(
        settings.require_redis_url(), decode_responses=True, socket_connect_timeout=5
    )


def redis_async() -> redis.asyncio.Redis:
    """A new asyncio client: asyncio clients must not be shared across event loops."""
    return redis.asyncio.Redis.from_url(settings.require_redis_url(), decode_responses=True)


def key(*parts: object) -> str:
    """A Redis key in this app's namespace."""
    return ":".join((settings.redis_namespace, *map(str, parts)))
