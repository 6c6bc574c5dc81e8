"""Sign in and out. A browser posts the sign-in form here (no JavaScript needed) and is
redirected back with the session cookie; scripts may post JSON instead."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from product_importer.access import Principal, Role, throttle, users
from product_importer.access.redirects import local_path
from product_importer.access.sessions import COOKIE_NAME, end_session, start_session
from product_importer.api.access import require
from product_importer.api.params import Text
from product_importer.settings import settings

router = APIRouter(prefix="/api/session", tags=["session"])

SIGN_IN_PAGE = "/sign-in"
# The known-device cookie (access/throttle.py): sent only to this route.
DEVICE_COOKIE = "pi_device"
_DEVICE_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


class SignIn(BaseModel):
    username: Text
    password: Text


class SessionOut(BaseModel):
    name: str
    role: Role
    kind: str


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def _problems(exc: ValidationError) -> str:
    """What is wrong, field by field: `password: must not contain ...`."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'body'}: "
        f"{error['msg'].removeprefix('Value error, ')}"
        for error in exc.errors()
    )


def _back_to_form(error: str, target: str, username: str) -> RedirectResponse:
    """Back to the sign-in page with the problem and the user name typed (kept, so only
    the password is typed again; a name no user can have is not carried)."""
    kept = username if users.USERNAME.match(username) else ""
    url = f"{SIGN_IN_PAGE}?error={quote(error)}&next={quote(target)}&user={quote(kept)}"
    return RedirectResponse(url, status_code=303)


@router.post(
    "",
    response_model=SessionOut,
    responses={401: {"description": "Wrong name or password"}, 429: {"description": "Paused"}},
)
async def sign_in(request: Request) -> Response:
    """Sign in with a user name and password (JSON or a form post); sets the session cookie."""
    form = _is_form(request)
    if form:
        data = await request.form()
        try:
            fields = SignIn(
                username=str(data.get("username", "")), password=str(data.get("password", ""))
            )
        except ValidationError as exc:
            raise HTTPException(422, f"the sign-in form: {_problems(exc)}") from exc
        username, password = fields.username, fields.password
        target = local_path(str(data.get("next", "")))
    else:
        try:
            body = SignIn.model_validate_json(await request.body())
        except ValidationError as exc:
            raise HTTPException(
                422, f'send JSON {{"username": ..., "password": ...}}: {_problems(exc)}'
            ) from exc
        username, password, target = body.username, body.password, "/"
    client_ip = request.client.host if request.client else None
    sent = request.cookies.get(DEVICE_COOKIE, "")
    device = sent if _DEVICE_TOKEN.fullmatch(sent) else None
    try:
        # Counted before the password is checked: concurrent guesses cannot overtake it.
        await run_in_threadpool(throttle.reserve, username, client_ip, device)
    except throttle.TooManyAttempts as exc:
        if form:
            return _back_to_form(str(exc), target, username)
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after_s)}) from exc
    principal = await run_in_threadpool(users.authenticate, username, password)
    if principal is None:
        if form:
            return _back_to_form("wrong user name or password", target, username)
        raise HTTPException(401, "wrong user name or password")
    kept = await run_in_threadpool(throttle.succeeded, username, client_ip, device)
    token, expires = await run_in_threadpool(start_session, principal, client_ip)
    response: Response = (
        RedirectResponse(target, status_code=303)
        if form
        else JSONResponse(
            SessionOut(name=principal.name, role=principal.role, kind="user").model_dump()
        )
    )
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=settings.session_hours * 3600,
        expires=expires,
        path="/",
        httponly=True,  # page scripts never see it
        samesite="lax",  # other sites cannot post with it
        secure=settings.cookie_secure,
    )
    response.set_cookie(
        DEVICE_COOKIE,
        kept,
        max_age=settings.sign_in_device_days * 86400,
        path=router.prefix,  # only sign-in reads it
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return response


@router.get("", response_model=SessionOut)
def who_am_i(principal: Annotated[Principal, Depends(require(Role.editor))]) -> SessionOut:
    """The caller: a user (session) or an API token, with its role."""
    return SessionOut(name=principal.name, role=principal.role, kind=principal.kind)


@router.post("/sign-out", status_code=303, response_class=RedirectResponse)
def sign_out(request: Request) -> RedirectResponse:
    """End the browser's session (whatever state it is in) and go to the sign-in page."""
    end_session(request.cookies.get(COOKIE_NAME))
    response = RedirectResponse(SIGN_IN_PAGE, status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response
