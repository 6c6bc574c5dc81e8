"""Pure rules of webhooks: signatures, the SSRF guard's address checks, retry timing."""

from __future__ import annotations

import base64
import hashlib
import hmac
from email.utils import formatdate

import pytest

from product_importer.settings import DEFAULT_WEBHOOK_RETRY_SCHEDULE
from product_importer.webhooks.addresses import AllowList, UnsafeUrl, resolve_target
from product_importer.webhooks.delivery import JITTER, retry_delay
from product_importer.webhooks.endpoints import InvalidEndpoint, check_events
from product_importer.webhooks.sender import parse_retry_after, send_webhook
from product_importer.webhooks.signing import (
    generate_secret,
    sign_payload,
    signature_header,
    verify_signature,
)


def test_signature_matches_the_standard_webhooks_reference_vector():
    # The example of the Standard Webhooks specification and its reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signature = sign_payload(
        secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_secret_is_whsec_and_32_random_bytes_in_base64():
    first, second = generate_secret(), generate_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


def test_both_secrets_sign_and_each_verifies_alone():
    old, new = generate_secret(), generate_secret()
    header = signature_header([new, old], "msg_1", 1700000000, '{"a":1}')
    assert len(header.split()) == 2
    assert verify_signature(new, "msg_1", 1700000000, '{"a":1}', header)
    assert verify_signature(old, "msg_1", 1700000000, '{"a":1}', header)
    assert not verify_signature(generate_secret(), "msg_1", 1700000000, '{"a":1}', header)
    assert not verify_signature(new, "msg_1", 1700000000, '{"a":2}', header)
    # The same HMAC any receiver computes by hand.
    key = base64.b64decode(new.removeprefix("whsec_"))
    digest = hmac.new(key, b'msg_1.1700000000.{"a":1}', hashlib.sha256).digest()
    assert "v1," + base64.b64encode(digest).decode() in header.split()


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://localhost:8080/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "IPv4-mapped address wrapping 127.0.0.1, a loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://192.168.0.10/hook", "private"),
        ("http://172.16.5.5/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://100.64.0.1/hook", "shared \\(carrier-grade NAT\\)"),
    ],
)
def test_non_public_addresses_are_refused_without_the_allow_list(url, kind):
    with pytest.raises(UnsafeUrl, match=f"is an? {kind}"):
        resolve_target(url, AllowList())


# IANA special-purpose ranges Python's `is_global` lets through, and IPv6 forms that wrap
# an IPv4 address: each refused, saying what it is.
SPECIAL_PURPOSE = [
    ("http://[2002:7f00:1::]/", "a 6to4 address wrapping 127.0.0.1, a loopback IPv4"),
    ("http://[2002:a00:1::]/", "a 6to4 address wrapping 10.0.0.1, a private IPv4"),
    ("http://[2002:a9fe:a9fe::]/", "a 6to4 address wrapping 169.254.169.254, a link-local IPv4"),
    ("http://[64:ff9b::7f00:1]/", "a NAT64 address wrapping 127.0.0.1, a loopback IPv4"),
    ("http://[64:ff9b::a9fe:a9fe]/", "a NAT64 address wrapping 169.254.169.254, a link-local"),
    ("http://[64:ff9b:1::808:808]/", "a local-use NAT64 address"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "an IETF protocol assignment"),
    ("http://[2001::1]/", "an IETF protocol assignment"),
    ("http://[::ffff:10.0.0.1]/", "an IPv4-mapped address wrapping 10.0.0.1, a private IPv4"),
    ("http://[::ffff:7f00:1]/", "an IPv4-mapped address wrapping 127.0.0.1"),
    ("http://[::127.0.0.1]/", "an IPv4-compatible (deprecated)"),
    ("http://[::8.8.8.8]/", "an IPv4-compatible (deprecated)"),
    ("http://[::]/", "an unspecified"),
    ("http://192.0.0.8/", "an IETF protocol assignment"),
    ("http://192.0.0.170/", "an IETF protocol assignment"),
    ("http://192.0.2.1/", "a documentation"),
    ("http://192.88.99.1/", "a 6to4 relay anycast"),
    ("http://192.31.196.1/", "an AS112"),
    ("http://192.52.193.1/", "an AMT"),
    ("http://192.175.48.1/", "an AS112"),
    ("http://198.18.0.1/", "a benchmarking"),
    ("http://198.51.100.7/", "a documentation"),
    ("http://203.0.113.7/", "a documentation"),
    ("http://0.1.2.3/", "a this-network"),
    ("http://224.0.0.1/", "a multicast"),
    ("http://240.0.0.1/", "a reserved"),
    ("http://255.255.255.255/", "a broadcast"),
    ("http://[2001:db8::1]/", "a documentation"),
    ("http://[3fff::1]/", "a documentation"),
    ("http://[5f00::1]/", "a segment-routing"),
    ("http://[100::1]/", "a discard-only"),
    ("http://[2620:4f:8000::1]/", "an AS112"),
    ("http://[fc00::1]/", "a private (unique-local)"),
    ("http://[fec0::1]/", "a site-local (deprecated)"),
    ("http://[fe80::1]/", "a link-local"),
    ("http://[ff02::1]/", "a multicast"),
    ("http://[4000::1]/", "a reserved (outside global unicast 2000::/3)"),
]


@pytest.mark.parametrize(("url", "what"), SPECIAL_PURPOSE, ids=[u for u, _ in SPECIAL_PURPOSE])
def test_special_purpose_and_wrapped_addresses_are_refused(url, what):
    with pytest.raises(UnsafeUrl) as refused:
        resolve_target(url, AllowList())
    message = str(refused.value)
    assert f" is {what}" in message
    assert message.endswith(
        " address; webhooks may only target public addresses unless the operator sets "
        "WEBHOOK_ALLOW_PRIVATE"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://8.8.8.8/hook",
        "https://1.1.1.1:8443/hook",
        "http://[2606:4700:4700::1111]/hook",
        "http://[2a00:1450:4001:81b::200e]/hook",
        "http://[2002:808:808::]/hook",  # 6to4 of a public IPv4
        "http://[64:ff9b::808:808]/hook",  # NAT64 of a public IPv4
        "http://[::ffff:8.8.8.8]/hook",
    ],
)
def test_public_addresses_are_accepted(url):
    assert resolve_target(url, AllowList()).url == url


def test_the_allow_list_lets_in_only_its_networks():
    only_loopback = AllowList.parse("127.0.0.0/8")
    assert resolve_target("http://127.0.0.1:9/x", only_loopback).address == "127.0.0.1"
    with pytest.raises(UnsafeUrl, match="private"):
        resolve_target("http://10.0.0.1/x", only_loopback)
    assert resolve_target("http://10.0.0.1/x", AllowList.parse("1")).address == "10.0.0.1"
    assert AllowList.parse("0") == AllowList()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "is empty"),
        ("ftp://example.com/x", "must start with http:// or https://"),
        ("http:///path", "has no host"),
        ("http://exa mple.com/", "must not contain spaces"),
        ("http://example.com:99999/", "bad port"),
        ("http://no-such-host.invalid/", "does not resolve"),
    ],
)
def test_malformed_urls_are_refused_with_the_reason(url, problem):
    with pytest.raises(UnsafeUrl, match=problem):
        resolve_target(url, AllowList(everything=True))


def test_the_address_is_checked_again_when_sending():
    # Saved while allowed; refused at send time once the allow-list no longer covers it.
    result = send_webhook(
        "http://127.0.0.1:9/hook",
        message_id="msg_x",
        body="{}",
        secrets=[generate_secret()],
        allow=AllowList(),
    )
    assert result.status_code is None and not result.ok
    assert result.error and result.error.startswith("url refused: 127.0.0.1 is a loopback")


def test_retry_after_takes_seconds_or_an_http_date_and_is_capped():
    assert parse_retry_after("7") == 7
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 120, usegmt=True), now=now) == pytest.approx(120)
    assert parse_retry_after("99999999") == 24 * 3600


def test_retry_delays_follow_the_schedule_with_jitter_then_stop(monkeypatch):
    schedule = (5.0, 300.0)
    monkeypatch.setattr(
        "product_importer.webhooks.delivery.settings",
        type("S", (), {"webhook_retry_schedule": schedule})(),
    )
    for step, base in enumerate(schedule):
        delays = [retry_delay(step, None) for _ in range(200)]
        assert all(base * (1 - JITTER) <= d <= base * (1 + JITTER) for d in delays)
        assert len(set(delays)) > 1
    assert retry_delay(0, 42.0) == 42.0
    assert retry_delay(2, None) is None and retry_delay(2, 42.0) is None
    assert DEFAULT_WEBHOOK_RETRY_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000)


def test_event_lists_are_checked_and_star_means_all():
    assert check_events(["product.created", "product.created"]) == ["product.created"]
    assert check_events(["product.created", "*"]) == ["*"]
    with pytest.raises(InvalidEndpoint, match="^events: unknown event type 'product.exploded'"):
        check_events(["product.exploded"])
    with pytest.raises(InvalidEndpoint, match="^events: choose at least one"):
        check_events([])
