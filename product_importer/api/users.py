"""Users and API tokens (admins only)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from product_importer.access import Role, tokens, users
from product_importer.api.access import require
from product_importer.api.params import RowId, Text

router = APIRouter(prefix="/api", tags=["access"], dependencies=[Depends(require(Role.admin))])


class UserOut(BaseModel):
    id: int
    username: str
    role: Role
    created_at: datetime


class NewUser(BaseModel):
    username: Text
    role: Role = Role.editor
    password: Text | None = Field(None, description="omit for a random one, answered once")


class CreatedUser(UserOut):
    password: str


class UserChange(BaseModel):
    role: Role | None = None
    password: Text | None = None


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
    name: Text
    role: Role = Role.editor


class CreatedToken(TokenOut):
    token: str = Field(description="shown only in this answer; stored hashed")


@router.get("/users", response_model=list[UserOut])
def list_users() -> list[UserOut]:
    return [UserOut(**vars(u)) for u in users.list_users()]


@router.post("/users", status_code=201, response_model=CreatedUser)
def create_user(body: NewUser) -> CreatedUser:
    """Create a user; the answer holds their password (random unless given) once."""
    info, password = users.create_user(body.username, body.role, body.password)
    return CreatedUser(**vars(info), password=password)


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(user_id: RowId, body: UserChange) -> UserOut:
    """Change a role or set a password (which signs the user out everywhere)."""
    return UserOut(**vars(users.update_user(user_id, role=body.role, password=body.password)))


@router.delete("/users/{user_id}", status_code=204)
def delete_user(user_id: RowId) -> None:
    users.delete_user(user_id)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens() -> list[TokenOut]:
    return [TokenOut(**vars(t)) for t in tokens.list_tokens()]


@router.post("/tokens", status_code=201, response_model=CreatedToken)
def create_token(body: NewToken, request: Request) -> CreatedToken:
    """Create an API token; the answer holds the token, the only time it is shown."""
    principal = request.state.principal
    info, token = tokens.create_token(body.name, body.role, principal.name, principal.user_id)
    return CreatedToken(**vars(info), token=token)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: RowId) -> TokenOut:
    """Revoke a token: it stops working at once; its record stays for the audit."""
    return TokenOut(**vars(tokens.revoke_token(token_id)))
