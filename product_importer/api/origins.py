"""Which pages may act with a browser's session: the app's own, and ALLOWED_ORIGINS.

One rule, `is_allowed_origin`, used in three places:
- `OriginGuard` (ASGI, in front of every route): sign-in, and every POST / PUT / PATCH /
  DELETE that carries the session cookie, coming from another site's page (its `Origin`,
  or else its `Referer`) is refused `403` before it runs. Calls with a bearer token are
  not affected (another site's page cannot send one without the API's consent).
- The websocket (`allow_websocket_origins`): Socket.IO refuses a handshake from another
  site's page.
- CORS: rxconfig.py gives Reflex ALLOWED_ORIGINS alone (Reflex's default echoes any
  origin, with credentials); a page of the app's own origin needs no CORS.

"The app's own origin" is the address the request came to: its `Host` header (the one a
proxy passes on), scheme aside, default ports filled in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from product_importer.access.sessions import COOKIE_NAME
from product_importer.settings import settings

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SIGN_IN_PATH = "/api/session"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _host_port(netloc: str, scheme: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname.lower(), port


def _origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an Origin or Referer value; None for "null" or garbage."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        return None
    found = _host_port(parts.netloc.rpartition("@")[2], parts.scheme)
    return (parts.scheme, *found) if found else None


def is_allowed_origin(origin: str, host: str | None) -> bool:
    """Whether a page of `origin` may act here: the request's own `host`, or listed."""
    seen = _origin_of(origin)
    if seen is None:
        return False
    scheme, name, port = seen
    if host:
        own = _host_port(host.strip(), scheme)
        if own == (name, port):
            return True
    return any(_origin_of(allowed) == seen for allowed in settings.allowed_origins)


def _refusal(origin: str) -> JSONResponse:
    return JSONResponse(
        {
            "detail": f"a request from another site's page ({origin}) may not act with a "
            "session here: only this app's own pages, or an origin listed in "
            "ALLOWED_ORIGINS (scripts: use an API token)"
        },
        status_code=403,
    )


def _cookie_names(cookie_header: str) -> set[str]:
    return {part.split("=", 1)[0].strip() for part in cookie_header.split(";")}


class OriginGuard:
    """ASGI middleware: refuse cross-site sign-ins and cookie-carrying state changes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        bearer = headers.get("authorization", "").lower().startswith("bearer ")
        with_session = COOKIE_NAME in _cookie_names(headers.get("cookie", ""))
        if bearer or not (with_session or scope["path"] == SIGN_IN_PATH):
            await self.app(scope, receive, send)
            return
        # A browser sends Origin with every cross-site POST; Referer is the fallback. A
        # client that sends neither is no browser page (a browser cannot be made to drop
        # both for another site), so there is nothing to forge.
        origin = headers.get("origin") or headers.get("referer")
        if origin is not None and not is_allowed_origin(origin, headers.get("host")):
            await _refusal(origin)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def allow_websocket_origins(sio: Any) -> None:
    """Make a Socket.IO server accept handshakes from allowed origins only (Engine.IO asks
    the callable with the request's environ: its `HTTP_HOST` is the app's own address)."""

    def accepts(origin: str, environ: Mapping[str, str]) -> bool:
        return is_allowed_origin(origin, environ.get("HTTP_HOST"))

    check: Callable[[str, Mapping[str, str]], bool] = accepts
    sio.eio.cors_allowed_origins = check
