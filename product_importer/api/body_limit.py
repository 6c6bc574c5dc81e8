"""A cap on every request body that is not an upload, counted as the bytes stream in.

An ASGI middleware in front of every route (the API's and, with the app mounted inside
it, Reflex's): a `Content-Length` over the route's limit is answered `413` before a byte
of the body is read; a body sent without one (chunked) is counted as it arrives and cut
off at the limit, so no route ever holds more than the limit in memory. Uploads (the
import upload and Reflex's upload endpoint) have limits of their own (MAX_UPLOAD_MB) and
pass untouched.
"""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from product_importer.settings import settings

# The sign-in form (name, password, the page to go back to) is small.
SIGN_IN_MAX_BODY_KB = 4
SIGN_IN_PATH = "/api/session"
# Bodies streamed to the upload intake, which bounds them itself.
UPLOAD_PATHS = ("/api/imports",)
UPLOAD_PREFIXES = ("/_upload",)  # Reflex's upload endpoint (the Import page's files)


class BodyTooLarge(HTTPException):
    """A request body over its route's limit (an HTTPException: FastAPI's body parsing
    passes it on as it is, and answers it as JSON)."""

    def __init__(self, limit_kb: int, setting: str | None) -> None:
        named = f" ({setting})" if setting else ""
        super().__init__(
            413,
            f"the request body is larger than this route's limit of {limit_kb} KB{named}",
            headers={"Connection": "close"},
        )


def limit_for(method: str, path: str) -> tuple[int, str | None] | None:
    """The route's body limit in KB and the setting that chooses it (None: no cap here)."""
    if (method == "POST" and path in UPLOAD_PATHS) or path.startswith(UPLOAD_PREFIXES):
        return None
    if path == SIGN_IN_PATH:
        return SIGN_IN_MAX_BODY_KB, None
    return settings.max_body_kb, "MAX_BODY_KB"


class BodyLimit:
    """ASGI middleware: refuse a body over its limit without reading it whole."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = limit_for(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        limit_kb, setting = limit
        most = limit_kb * 1024
        length = dict(scope["headers"]).get(b"content-length", b"").strip()
        if length and (not length.isdigit() or int(length) > most):
            error: HTTPException = BodyTooLarge(limit_kb, setting)
            if not length.isdigit():
                error = HTTPException(400, "the Content-Length header is not a number")
            answer = JSONResponse(
                {"detail": error.detail}, status_code=error.status_code, headers=error.headers
            )
            await answer(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > most:
                    raise BodyTooLarge(limit_kb, setting)
            return message

        await self.app(scope, counted, send)
