"""FastAPI dependencies that require a signed-in caller with a role.

A caller is an API token (`Authorization: Bearer pit_...`) or a browser session (the
`pi_session` cookie). No caller: 401. A caller whose role is too small: 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from product_importer.access import Principal, Role
from product_importer.access.sessions import COOKIE_NAME, principal_for_session
from product_importer.access.tokens import principal_for_token

_bearer = HTTPBearer(auto_error=False, description="An API token: `pit_...`")


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """Who is calling: the bearer token if one is sent, else the session cookie."""
    if credentials is not None:
        return principal_for_token(credentials.credentials)
    return principal_for_session(request.cookies.get(COOKIE_NAME))


def require(role: Role) -> Callable[..., Principal]:
    """A dependency for a router or route:
    `APIRouter(dependencies=[Depends(require(Role.editor))])`."""

    def dependency(
        request: Request, principal: Annotated[Principal | None, Depends(caller)]
    ) -> Principal:
        if principal is None:
            raise HTTPException(
                401,
                "sign in first: send `Authorization: Bearer <API token>` or a session cookie",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.may(role):
            raise HTTPException(
                403, f"this needs the {role} role; {principal.name} has {principal.role}"
            )
        request.state.principal = principal
        return principal

    dependency.required_role = role  # type: ignore[attr-defined]
    return dependency
