"""One HTTP attempt of a webhook: signed, pinned to the checked address, bounded in time
and in how much of the answer is kept."""

from __future__ import annotations

import email.utils
import ipaddress
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx

from product_importer.settings import settings
from product_importer.webhooks.addresses import AllowList, UnsafeUrl, resolve_target
from product_importer.webhooks.signing import signature_header

# Characters of the receiver's answer kept in the log.
EXCERPT_CHARS = 1000
USER_AGENT = "ProductImporter-Webhooks/1.0"
# A Retry-After longer than this is capped (a receiver must not park a delivery for ever).
RETRY_AFTER_MAX_S = 24 * 3600


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt gave: an HTTP status, or an error that kept it from getting one."""

    status_code: int | None
    latency_ms: int
    response_excerpt: str = ""
    error: str | None = None
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        now_dt = datetime.fromtimestamp(time.time() if now is None else now, UTC)
        seconds = (when - now_dt).total_seconds()
    return min(max(0.0, seconds), RETRY_AFTER_MAX_S)


def _pinned_url(url: str, address: str) -> str:
    """The URL with its host replaced by the checked address."""
    parts = urlsplit(url)
    host = f"[{address}]" if ipaddress.ip_address(address.split("%")[0]).version == 6 else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    userinfo, at, _ = parts.netloc.rpartition("@")  # credentials in the URL still authenticate
    return urlunsplit((parts.scheme, userinfo + at + netloc, parts.path or "/", parts.query, ""))


_shared_client: httpx.Client | None = None
_shared_client_lock = threading.Lock()


@contextmanager
def _client_for(scheme: str, timeout: float) -> Iterator[httpx.Client]:
    """Plain HTTP shares one pooled client per process (keep-alive makes a busy endpoint
    cheap). HTTPS gets a client per attempt: the pool is keyed by the pinned address, and a
    TLS connection opened for one host name must never carry another's requests."""
    global _shared_client
    if scheme == "https":
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            yield client
        return
    with _shared_client_lock:
        if _shared_client is None:
            _shared_client = httpx.Client(
                timeout=timeout,
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            )
    yield _shared_client


def _host_header(url: str) -> str:
    return urlsplit(url).netloc.rpartition("@")[2]


def send_webhook(
    url: str,
    *,
    message_id: str,
    body: str,
    secrets: list[str],
    timeout_s: float | None = None,
    allow: AllowList | None = None,
) -> AttemptResult:
    """POST `body` to `url` once, signed with every secret in `secrets`. Never raises for
    what the network or the receiver do: the result carries the error instead."""
    timeout = float(settings.webhook_timeout_s if timeout_s is None else timeout_s)
    started = time.monotonic()

    def elapsed_ms() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        # Checked again at every attempt: the name may point elsewhere since it was saved.
        target = resolve_target(url, allow)
    except UnsafeUrl as exc:
        return AttemptResult(None, elapsed_ms(), error=f"url refused: {exc}")
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": _host_header(url),
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, message_id, timestamp, body),
    }
    # TLS still checks the certificate against the name, not the address we connect to.
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        with (
            _client_for(target.scheme, timeout) as client,
            client.stream(
                "POST",
                _pinned_url(url, target.address),
                content=body.encode(),
                headers=headers,
                timeout=timeout,
                extensions=extensions,
            ) as response,
        ):
            # Only the start of the answer is read: a huge or endless body costs nothing.
            excerpt = b""
            for chunk in response.iter_bytes(chunk_size=EXCERPT_CHARS):
                excerpt += chunk
                if len(excerpt) >= EXCERPT_CHARS:
                    break
            return AttemptResult(
                status_code=response.status_code,
                latency_ms=elapsed_ms(),
                response_excerpt=excerpt[:EXCERPT_CHARS].decode("utf-8", "replace"),
                error=None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}",
                retry_after_s=parse_retry_after(response.headers.get("retry-after")),
            )
    except httpx.TimeoutException:
        return AttemptResult(None, elapsed_ms(), error=f"timed out after {timeout:g} s")
    except httpx.HTTPError as exc:
        return AttemptResult(None, elapsed_ms(), error=f"{type(exc).__name__}: {exc}")
