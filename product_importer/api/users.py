"""Users and API tokens (admins only)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from product_importer.access import AccessProblem, Role, tokens, users
from product_importer.api.access import require

router = APIRouter(prefix="/api", tags=["access"], dependencies=[Depends(require(Role.admin))])


class UserOut(BaseModel):
    id: int
    username: str
    role: Role
    created_at: datetime


class NewUser(BaseModel):
    username: str
    role: Role = Role.editor
    password: str | None = Field(None, description="omit for a random one, answered once")


class CreatedUser(UserOut):
    password: str


class UserChange(BaseModel):
    role: Role | None = None
    password: str | None = None


class TokenOut(BaseModel):
    id: int
    name: str
    role: Role
    hint: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewToken(BaseModel):
    name: str
    role: Role = Role.editor


class CreatedToken(TokenOut):
    token: str = Field(description="shown only in this answer; stored hashed")


def _problem(exc: Exception) -> HTTPException:
    if isinstance(exc, LookupError):
        return HTTPException(404, str(exc.args[0]))
    return HTTPException(409 if "already exists" in str(exc) else 422, str(exc))


@router.get("/users", response_model=list[UserOut])
def list_users() -> list[UserOut]:
    return [UserOut(**vars(u)) for u in users.list_users()]


@router.post("/users", status_code=201, response_model=CreatedUser)
def create_user(body: NewUser) -> CreatedUser:
    """Create a user; the answer holds their password (random unless given) once."""
    try:
        info, password = users.create_user(body.username, body.role, body.password)
    except AccessProblem as exc:
        raise _problem(exc) from exc
    return CreatedUser(**vars(info), password=password)


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(user_id: int, body: UserChange) -> UserOut:
    """Change a role or set a password (which signs the user out everywhere)."""
    try:
        return UserOut(**vars(users.update_user(user_id, role=body.role, password=body.password)))
    except (AccessProblem, LookupError) as exc:
        raise _problem(exc) from exc


@router.delete("/users/{user_id}", status_code=204)
def delete_user(user_id: int) -> None:
    try:
        users.delete_user(user_id)
    except (AccessProblem, LookupError) as exc:
        raise _problem(exc) from exc


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens() -> list[TokenOut]:
    return [TokenOut(**vars(t)) for t in tokens.list_tokens()]


@router.post("/tokens", status_code=201, response_model=CreatedToken)
def create_token(body: NewToken, request: Request) -> CreatedToken:
    """Create an API token; the answer holds the token, the only time it is shown."""
    try:
        info, token = tokens.create_token(body.name, body.role, request.state.principal.name)
    except AccessProblem as exc:
        raise _problem(exc) from exc
    return CreatedToken(**vars(info), token=token)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: int) -> TokenOut:
    """Revoke a token: it stops working at once; its record stays for the audit."""
    try:
        return TokenOut(**vars(tokens.revoke_token(token_id)))
    except LookupError as exc:
        raise _problem(exc) from exc
