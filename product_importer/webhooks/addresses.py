"""The SSRF guard: a webhook may target public addresses only, unless the operator allows more.

The host is resolved and every address it resolves to is checked, when an endpoint is saved
and again before each attempt (DNS can change in between). The sender then connects to the
very address that was checked, so a second lookup cannot swap in a private one.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from product_importer.settings import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
URL_MAX = 2048


class UnsafeUrl(ValueError):
    """The URL is malformed or points where webhooks may not go; the message says which
    (phrased to follow "url: ")."""


@dataclass(frozen=True)
class AllowList:
    """Non-public networks the operator lets webhooks reach (WEBHOOK_ALLOW_PRIVATE)."""

    everything: bool = False
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, raw: str) -> AllowList:
        """ "1"/"true"/"yes" allows every address; otherwise a comma-separated CIDR list."""
        raw = raw.strip()
        if raw.lower() in ("", "0", "false", "no"):
            return cls()
        if raw.lower() in ("1", "true", "yes"):
            return cls(everything=True)
        try:
            networks = tuple(
                ipaddress.ip_network(part.strip(), strict=False)
                for part in raw.split(",")
                if part.strip()
            )
        except ValueError as exc:
            raise RuntimeError(
                f"WEBHOOK_ALLOW_PRIVATE must be 1 or a comma-separated list of networks: {exc}"
            ) from exc
        return cls(networks=networks)

    def allows(self, address: IPAddress) -> bool:
        return self.everything or any(address in network for network in self.networks)


def configured_allow_list() -> AllowList:
    return AllowList.parse(settings.webhook_allow_private)


def _kind(address: IPAddress) -> str | None:
    """Why an address is not public (None when it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return _kind(address.ipv4_mapped)
    for attribute, kind in (
        ("is_loopback", "loopback"),
        ("is_unspecified", "unspecified"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(address, attribute):
            return kind
    return None if address.is_global else "non-public"


def parse_url(url: str) -> SplitResult:
    """Check the URL's form: http(s), a host, no spaces, not too long."""
    if not url or not url.strip():
        raise UnsafeUrl("is empty")
    if len(url) > URL_MAX:
        raise UnsafeUrl(f"is longer than {URL_MAX} characters")
    if any(c.isspace() for c in url):
        raise UnsafeUrl("must not contain spaces")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("must start with http:// or https://")
    if not parts.hostname:
        raise UnsafeUrl("has no host")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number or out of range)
    except ValueError as exc:
        raise UnsafeUrl(f"has a bad port: {exc}") from exc
    return parts


@dataclass(frozen=True)
class Target:
    """Where an attempt goes: the URL, and the checked address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str


def resolve_target(url: str, allow: AllowList | None = None) -> Target:
    """Resolve the URL's host and refuse it if any address is not allowed."""
    allow = configured_allow_list() if allow is None else allow
    parts = parse_url(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"host {host!r} does not resolve") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeUrl(f"host {host!r} does not resolve")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        kind = _kind(address)
        if kind and not allow.allows(address):
            shown = host if host == text else f"{host} resolves to {text}, which"
            raise UnsafeUrl(
                f"{shown} is a {kind} address; webhooks may only target "
                "public addresses unless the operator sets WEBHOOK_ALLOW_PRIVATE"
            )
    return Target(url=url, scheme=parts.scheme, host=host, port=port, address=addresses[0])
