"""Progress of a job over Redis: the latest snapshot in a hash, each change published on a
channel. Workers publish; the browser watchers and the SSE route follow."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from product_importer.jobs.snapshot import JobSnapshot
from product_importer.redis_client import key, redis_async, redis_sync

SNAPSHOT_TTL_S = 7 * 24 * 3600
# A follower re-reads the database after this long without a published update.
QUIET_RELOAD_S = 5.0

S = TypeVar("S", bound=JobSnapshot)


def _hash_key(topic: str, job_id: int) -> str:
    return key(topic, job_id, "progress")


def events_channel(topic: str, job_id: int) -> str:
    """The pub/sub channel a job's updates are published on (one subscriber per follower).
    Jobs of different kinds have their own id sequences: the topic keeps them apart."""
    return key(topic, job_id, "events")


def publish(topic: str, snapshot: JobSnapshot) -> None:
    """Store the snapshot as the job's latest and tell every subscriber."""
    payload = snapshot.to_json()
    pipe = redis_sync().pipeline(transaction=False)
    pipe.hset(_hash_key(topic, snapshot.job_id), mapping={"snapshot": payload})
    pipe.expire(_hash_key(topic, snapshot.job_id), SNAPSHOT_TTL_S)
    pipe.publish(events_channel(topic, snapshot.job_id), payload)
    pipe.execute()


def _news_from_database(current: JobSnapshot, from_db: JobSnapshot) -> bool:
    """Whether the database knows something the channel did not say: the job ended, or a
    worker stopped holding it (or took it up again)."""
    return (
        from_db.is_terminal
        or from_db.status != current.status
        or from_db.waiting_for_worker != current.waiting_for_worker
    )


async def follow(
    topic: str, job_id: int, load: Callable[[], Awaitable[S]], parse: Callable[[str], S]
) -> AsyncIterator[S]:
    """Yield the current snapshot, then each update, ending after a terminal status.

    Subscribes before reading the stored snapshot so no update falls in between.
    `load` reads the job from the database, the truth: used when Redis holds no
    snapshot or the database knows better (the job ended, or waits for a worker), and
    again whenever the channel stays quiet.
    """
    client = redis_async()
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(events_channel(topic, job_id))
        stored = await client.hget(_hash_key(topic, job_id), "snapshot")  # type: ignore[misc]
        from_db = await load()
        current = from_db
        if stored and not _news_from_database(parse(stored), from_db):
            current = parse(stored)
        yield current
        quiet_since = time.monotonic()
        while not current.is_terminal:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                current = parse(message["data"])
                quiet_since = time.monotonic()
                yield current
            elif time.monotonic() - quiet_since > QUIET_RELOAD_S:
                from_db = await load()
                quiet_since = time.monotonic()
                if _news_from_database(current, from_db):
                    current = from_db
                    yield current
    finally:
        await pubsub.aclose()
        await client.aclose()
