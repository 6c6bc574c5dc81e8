"""Users: create, list, change role or password, delete; check a password."""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from product_importer import db
from product_importer.access import (
    AccessProblem,
    AccessRecordNotFound,
    NameTaken,
    Principal,
    Role,
)
from product_importer.access.models import User

USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
PASSWORD_MIN = 10

# argon2id with the library's defaults (RFC 9106 "low memory" profile).
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name costs as long as a
    wrong password and answer times do not tell which names exist. Made on first use, not
    on import: a hash costs about a second of CPU, which every process that imports this
    module (the web app, each command) would otherwise pay at start."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    role: Role
    created_at: datetime


def _info(user: User) -> UserInfo:
    assert user.id is not None and user.created_at is not None
    return UserInfo(user.id, user.username, Role(user.role), user.created_at)


def new_password() -> str:
    """A random password to hand to a new user (about 100 bits)."""
    return secrets.token_urlsafe(12)


def _check_username(username: str) -> str:
    if not USERNAME.match(username or ""):
        raise AccessProblem(
            f"username must be 1-64 letters, digits or . _ @ - (no spaces), got {username!r}"
        )
    return username


def _check_password(password: str) -> str:
    if len(password) < PASSWORD_MIN:
        raise AccessProblem(f"password must have at least {PASSWORD_MIN} characters")
    return password


def _by_name(s, username: str) -> User | None:
    return s.exec(select(User).where(func.lower(User.username) == username.lower())).first()


def create_user(username: str, role: Role, password: str | None = None) -> tuple[UserInfo, str]:
    """Create a user; answer it and its password (a random one unless given)."""
    _check_username(username)
    password = _check_password(password) if password is not None else new_password()
    user = User(username=username, role=Role(role).value, password_hash=_hasher.hash(password))
    try:
        with db.session() as s:
            s.add(user)
            s.flush()
            info = _info(user)
    except IntegrityError as exc:
        raise NameTaken(f"a user named {username!r} already exists") from exc
    return info, password


def list_users() -> list[UserInfo]:
    with db.session() as s:
        return [_info(u) for u in s.exec(select(User).order_by(User.username))]


def get_user(user_id: int) -> UserInfo | None:
    with db.session() as s:
        user = s.get(User, user_id)
        return _info(user) if user else None


def find_user(username: str) -> UserInfo | None:
    with db.session() as s:
        user = _by_name(s, username)
        return _info(user) if user else None


def _admins_besides(s, user_id: int) -> int:
    return s.exec(
        select(func.count()).where(User.role == Role.admin.value, User.id != user_id)
    ).one()


def update_user(user_id: int, *, role: Role | None = None, password: str | None = None) -> UserInfo:
    """Change a user's role and/or password. A new password ends the user's sessions."""
    from product_importer.access.sessions import end_user_sessions

    with db.session() as s:
        user = s.get(User, user_id)
        if user is None:
            raise AccessRecordNotFound(f"no user with id {user_id}")
        demoted = role is not None and Role(role) is not Role.admin and user.role == Role.admin
        if demoted and _admins_besides(s, user_id) == 0:
            raise AccessProblem("the last admin cannot lose the admin role")
        if role is not None:
            user.role = Role(role).value
        if password is not None:
            user.password_hash = _hasher.hash(_check_password(password))
        s.add(user)
        s.flush()
        info = _info(user)
    if password is not None:
        end_user_sessions(user_id)
    return info


def delete_user(user_id: int) -> None:
    """Delete a user and their sessions; the last admin stays."""
    with db.session() as s:
        user = s.get(User, user_id)
        if user is None:
            raise AccessRecordNotFound(f"no user with id {user_id}")
        if user.role == Role.admin and _admins_besides(s, user_id) == 0:
            raise AccessProblem("the last admin cannot be deleted")
        s.delete(user)


def authenticate(username: str, password: str) -> Principal | None:
    """The user if the password is theirs, else None (same work either way)."""
    with db.session() as s:
        user = _by_name(s, username or "")
        try:
            _hasher.verify(user.password_hash if user else _dummy_hash(), password or "")
        except (VerificationError, InvalidHashError):
            return None
        if user is None:
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
            s.add(user)
        return Principal("user", int(user.id or 0), user.username, Role(user.role))


def ensure_first_admin(username: str = "admin") -> str | None:
    """With no user at all, create an admin and answer its password; else None."""
    with db.session() as s:
        if s.exec(select(func.count()).select_from(User)).one():
            return None
    try:
        return create_user(username, Role.admin)[1]
    except AccessProblem:  # another process created it first
        return None
