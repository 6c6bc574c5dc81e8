"""Browser sessions: an opaque random token in a cookie, stored hashed with an expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, delete, select

from product_importer import db
from product_importer.access import Principal, Role
from product_importer.access.models import User, UserSession
from product_importer.access.secrets import new_secret, secret_hash
from product_importer.settings import settings

COOKIE_NAME = "pi_session"
SESSION_PREFIX = "pis_"


def start_session(principal: Principal, client_ip: str | None = None) -> tuple[str, datetime]:
    """A new session for a signed-in user: answer its token (for the cookie) and expiry."""
    token = new_secret(SESSION_PREFIX)
    expires = datetime.now(UTC) + timedelta(hours=settings.session_hours)
    with db.session() as s:
        # Sessions past their expiry are of no use to anyone: sweep them here.
        s.exec(delete(UserSession).where(col(UserSession.expires_at) < datetime.now(UTC)))
        s.add(
            UserSession(
                token_hash=secret_hash(token),
                user_id=principal.id,
                expires_at=expires,
                client_ip=client_ip,
            )
        )
    return token, expires


def principal_for_session(token: str | None) -> Principal | None:
    """The user behind a session cookie, if the session exists and has not expired."""
    if not token or not token.startswith(SESSION_PREFIX):
        return None
    with db.session() as s:
        row = s.exec(
            select(User.id, User.username, User.role)
            .join(UserSession, col(UserSession.user_id) == col(User.id))
            .where(
                UserSession.token_hash == secret_hash(token),
                UserSession.expires_at > datetime.now(UTC),
            )
        ).first()
    return Principal("user", int(row[0] or 0), row[1], Role(row[2])) if row else None


def end_session(token: str | None) -> None:
    """Sign out: the session stops working everywhere at once."""
    if token:
        with db.session() as s:
            s.exec(delete(UserSession).where(col(UserSession.token_hash) == secret_hash(token)))


def end_user_sessions(user_id: int) -> None:
    with db.session() as s:
        s.exec(delete(UserSession).where(col(UserSession.user_id) == user_id))
