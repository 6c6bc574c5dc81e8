"""Failed sign-ins, counted in Redis; past a limit, sign-in pauses until the window ends.

Three counters, each over `SIGN_IN_WINDOW_S` (15 min): one user name from one address
(5: a person mistyping is paused, nobody else), one user name from anywhere (50: a guess
spread over many addresses), one address across every name it tries (20: one address
trying many names). Keys hold hashes, never the name or the address.

An attempt is counted *before* its password is checked (`reserve`), in one Lua script
that refuses it when any counter is full and else counts it in all three: concurrent
wrong passwords can never get more than the limit through, whatever their timing. A
right password gives its attempt back (`succeeded`): the name+address counter is cleared,
the other two are lowered by one.

A browser the user has signed in from before is a *known device* (OWASP's "device
cookies"): a right password leaves a random token in its `pi_device` cookie, and Redis
keeps the token's hash for that user name for `SIGN_IN_DEVICE_DAYS`. A known device's
attempts for its name count only on a counter of their own (name+device, the
name+address limit), never on the name's or the address's: an attacker filling those
(from anywhere, or from the same proxy) pauses every unknown browser for that name or
address, never the real user on their own browser.

The scripts use only commands every supported Redis has (6.2 and later: GET, INCR, DECR,
EXPIRE without flags, TTL, DEL), so the embedded Redis 6.2 runs them like Redis 7.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache

import redis

from product_importer.redis_client import key, redis_sync
from product_importer.settings import settings

# KEYS: the counters; ARGV[1]: the window (s); ARGV[1 + i]: the limit of KEYS[i].
# Answers 0 when the attempt was counted, else the seconds until the fullest counter ends.
_RESERVE = """
local window = tonumber(ARGV[1])
local wait = 0
for i, name in ipairs(KEYS) do
  if tonumber(redis.call('GET', name) or '0') >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('TTL', name)
    if ttl < 0 then
      redis.call('EXPIRE', name, window)
      ttl = window
    end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for _, name in ipairs(KEYS) do
  redis.call('INCR', name)
  if redis.call('TTL', name) < 0 then redis.call('EXPIRE', name, window) end
end
return 0
"""
# KEYS[1]: the name+address counter (cleared); KEYS[2..]: counters given one attempt back.
_SUCCEEDED = """
redis.call('DEL', KEYS[1])
for i = 2, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
"""


class TooManyAttempts(Exception):
    def __init__(self, retry_after_s: int) -> None:
        minutes = max(1, round(retry_after_s / 60))
        super().__init__(f"too many failed sign-ins: try again in {minutes} min")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Limits:
    per_name_and_address: int
    per_name: int
    per_address: int
    window_s: int
    device_days: int = 90

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            per_name_and_address=settings.sign_in_max_failures_per_user,
            per_name=settings.sign_in_max_failures_per_name,
            per_address=settings.sign_in_max_failures_per_address,
            window_s=settings.sign_in_window_s,
            device_days=settings.sign_in_device_days,
        )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


class SignInThrottle:
    """The sign-in counters of one Redis."""

    def __init__(self, client: redis.Redis, limits: Limits) -> None:
        self.limits = limits
        self._client = client
        self._reserve = client.register_script(_RESERVE)
        self._succeeded = client.register_script(_SUCCEEDED)

    @staticmethod
    def _device_key(name: str, device: str) -> str:
        return key("sign-in", "device", _digest(name, device))

    def _counters(
        self, username: str, client_ip: str | None, device: str | None
    ) -> list[tuple[str, int]]:
        name = username.strip().lower()
        limits = self.limits
        if device and self._client.exists(self._device_key(name, device)):
            return [
                (key("sign-in", "name-device", _digest(name, device)), limits.per_name_and_address)
            ]
        address = client_ip or "unknown"
        return [
            (key("sign-in", "name-address", _digest(name, address)), limits.per_name_and_address),
            (key("sign-in", "name", _digest(name)), limits.per_name),
            (key("sign-in", "address", _digest(address)), limits.per_address),
        ]

    def reserve(self, username: str, client_ip: str | None, device: str | None = None) -> None:
        """Count this attempt as a failure until it `succeeded`; raise TooManyAttempts while
        any of its counters is full (the attempt is then not counted). `device` is the
        browser's device token, if it sent one."""
        counters = self._counters(username, client_ip, device)
        wait = self._reserve(
            keys=[name for name, _ in counters],
            args=[self.limits.window_s, *(limit for _, limit in counters)],
        )
        if int(wait):  # type: ignore[arg-type]
            raise TooManyAttempts(int(wait))  # type: ignore[arg-type]

    def succeeded(self, username: str, client_ip: str | None, device: str | None = None) -> str:
        """The password was right: forget this client's failures of the name, give the
        attempt back, and remember the device for the name. Answers the device token the
        browser keeps (its own when it sent one, else a new one)."""
        self._succeeded(keys=[name for name, _ in self._counters(username, client_ip, device)])
        device = device or secrets.token_urlsafe(32)
        ttl_s = self.limits.device_days * 86400
        self._client.set(self._device_key(username.strip().lower(), device), 1, ex=ttl_s)
        return device


@lru_cache(maxsize=1)
def _default() -> SignInThrottle:
    return SignInThrottle(redis_sync(), Limits.from_settings())


def reserve(username: str, client_ip: str | None, device: str | None) -> None:
    _default().reserve(username, client_ip, device)


def succeeded(username: str, client_ip: str | None, device: str | None) -> str:
    return _default().succeeded(username, client_ip, device)
