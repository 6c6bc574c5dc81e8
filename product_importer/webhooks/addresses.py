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


def _networks(*rows: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(net), kind) for net, kind in rows)


# IANA's special-purpose address registries (IPv4 and IPv6), every entry, whether marked
# "globally reachable" or not (no webhook has business with an anycast relay or AS112),
# with what Python's `is_global` misses (192.0.0.0/24, 192.88.99.0/24, 3fff::/20 ...).
SPECIAL_V4 = _networks(
    ("0.0.0.0/32", "unspecified"),
    ("0.0.0.0/8", "this-network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("192.31.196.0/24", "AS112"),
    ("192.52.193.0/24", "AMT"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("192.175.48.0/24", "AS112"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
)
SPECIAL_V6 = _networks(
    ("::1/128", "loopback"),
    ("::/128", "unspecified"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy"),
    ("2001::/23", "IETF protocol assignment (Teredo, benchmarking, ORCHID ...)"),
    ("2001:db8::/32", "documentation"),
    ("2620:4f:8000::/48", "AS112"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment-routing"),
    ("fc00::/7", "private (unique-local)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
)
GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _wrapped_v4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 transition form carries, and the form's name."""
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    if address in NAT64:
        return "NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiouAEIOU" else "a ") + kind


def _kind(address: IPAddress) -> str | None:
    """Why an address is not public (None when it is)."""
    if isinstance(address, ipaddress.IPv6Address):
        wrapped = _wrapped_v4(address)
        if wrapped is not None:
            form, inner = wrapped
            kind = _kind(inner)
            return f"{form} address wrapping {inner}, {_a(kind)} IPv4" if kind else None
        for network, kind in SPECIAL_V6:
            if address in network:
                return kind
        if address not in GLOBAL_UNICAST_V6:
            return "reserved (outside global unicast 2000::/3)"
    else:
        if address == ipaddress.IPv4Address("255.255.255.255"):
            return "broadcast"
        for network, kind in SPECIAL_V4:
            if address in network:
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
                f"{shown} is {_a(kind)} address; webhooks may only target "
                "public addresses unless the operator sets WEBHOOK_ALLOW_PRIVATE"
            )
    return Target(url=url, scheme=parts.scheme, host=host, port=port, address=addresses[0])
