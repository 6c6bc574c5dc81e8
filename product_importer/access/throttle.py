"""Failed sign-ins are counted per user name and per client address in Redis; past the
limit, sign-in pauses for that name or address until the window ends."""

from __future__ import annotations

from product_importer.redis_client import key, redis_sync
from product_importer.settings import settings


class TooManyAttempts(Exception):
    def __init__(self, retry_after_s: int) -> None:
        minutes = max(1, round(retry_after_s / 60))
        super().__init__(f"too many failed sign-ins: try again in {minutes} min")
        self.retry_after_s = retry_after_s


def _keys(username: str, client_ip: str | None) -> list[tuple[str, int]]:
    keys = [
        (key("sign-in-failures", "user", username.lower()), settings.sign_in_max_failures_per_user)
    ]
    if client_ip:
        keys.append(
            (key("sign-in-failures", "ip", client_ip), settings.sign_in_max_failures_per_address)
        )
    return keys


def check(username: str, client_ip: str | None) -> None:
    """Raise TooManyAttempts while this name or address is paused."""
    r = redis_sync()
    for name, limit in _keys(username, client_ip):
        if int(r.get(name) or 0) >= limit:  # type: ignore[arg-type]
            raise TooManyAttempts(max(1, int(r.ttl(name))))  # type: ignore[arg-type]


def record_failure(username: str, client_ip: str | None) -> None:
    r = redis_sync()
    pipe = r.pipeline()
    for name, _ in _keys(username, client_ip):
        pipe.incr(name)
        pipe.expire(name, settings.sign_in_window_s, nx=True)
    pipe.execute()


def clear(username: str) -> None:
    """A successful sign-in forgets the name's failures (not the address's)."""
    redis_sync().delete(key("sign-in-failures", "user", username.lower()))
