"""API tokens for scripts: named, with a role, shown once, stored hashed, revocable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update
from sqlmodel import col, select

from product_importer import db
from product_importer.access import AccessProblem, AccessRecordNotFound, Principal, Role
from product_importer.access.models import ApiToken, User
from product_importer.access.secrets import new_secret, secret_hash

TOKEN_PREFIX = "pit_"


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    role: Role
    hint: str  # the last characters, so a person can tell tokens apart
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _info(t: ApiToken) -> TokenInfo:
    assert t.id is not None and t.created_at is not None
    return TokenInfo(
        t.id, t.name, Role(t.role), t.hint, t.created_by, t.created_at, t.last_used_at,
        t.revoked_at,
    )  # fmt: skip


def create_token(
    name: str, role: Role, created_by: str, owner_id: int | None = None
) -> tuple[TokenInfo, str]:
    """A new token: answer its record and the token itself (the only time it is seen).
    `owner_id`: the user it belongs to (the maker, or the maker token's owner); the token
    is deleted with that user and never worth more than that user's role of the moment."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise AccessProblem("token name must have 1-100 characters")
    token = new_secret(TOKEN_PREFIX)
    row = ApiToken(
        name=name,
        role=Role(role).value,
        token_hash=secret_hash(token),
        hint="…" + token[-4:],
        created_by=created_by,
        owner_id=owner_id,
    )
    with db.session() as s:
        s.add(row)
        s.flush()
        return _info(row), token


def list_tokens() -> list[TokenInfo]:
    with db.session() as s:
        return [_info(t) for t in s.exec(select(ApiToken).order_by(col(ApiToken.id).desc()))]


def revoke_token(token_id: int) -> TokenInfo:
    with db.session() as s:
        row = s.get(ApiToken, token_id)
        if row is None:
            raise AccessRecordNotFound(f"no API token with id {token_id}")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            s.add(row)
        s.flush()
        return _info(row)


def principal_for_token(token: str | None) -> Principal | None:
    """The token's principal if it exists and is not revoked; records its use. Its role is
    the smaller of its own and its owner's current one (one statement: a token whose owner
    was deleted is gone with them, ON DELETE CASCADE)."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    owner_role = select(User.role).where(col(User.id) == col(ApiToken.owner_id)).scalar_subquery()
    with db.session() as s:
        row = s.exec(
            update(ApiToken)
            .where(
                col(ApiToken.token_hash) == secret_hash(token), col(ApiToken.revoked_at).is_(None)
            )
            .values(last_used_at=datetime.now(UTC))
            .returning(
                col(ApiToken.id),
                col(ApiToken.name),
                col(ApiToken.role),
                col(ApiToken.owner_id),
                owner_role,
            )
        ).first()
    if row is None:
        return None
    token_id, name, role, owner_id, owner_role_now = row
    allowed = Role(role) if owner_role_now is None else Role(role).at_most(Role(owner_role_now))
    return Principal("token", token_id, name, allowed, owner_id)
