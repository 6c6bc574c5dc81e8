"""Tables of the access package (schema owned by migrations 0003 and 0014)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Identity, Index, Text, func, text
from sqlmodel import Field, SQLModel


def _id() -> Column:
    return Column(BigInteger, Identity(always=False), primary_key=True)


def _created() -> Column:
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (Index("users_username_lower_key", text("lower(username)"), unique=True),)

    id: int | None = Field(default=None, sa_column=_id())
    username: str = Field(sa_column=Column(Text, nullable=False))
    role: str = Field(sa_column=Column(Text, nullable=False))
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_created())


class UserSession(SQLModel, table=True):
    __tablename__ = "user_sessions"
    __table_args__ = (Index("user_sessions_user_idx", "user_id"),)

    id: int | None = Field(default=None, sa_column=_id())
    token_hash: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    user_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    created_at: datetime | None = Field(default=None, sa_column=_created())
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    client_ip: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"
    __table_args__ = (Index("api_tokens_owner_idx", "owner_id"),)

    id: int | None = Field(default=None, sa_column=_id())
    name: str = Field(sa_column=Column(Text, nullable=False))
    role: str = Field(sa_column=Column(Text, nullable=False))
    token_hash: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    hint: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str = Field(sa_column=Column(Text, nullable=False))
    # The user who made it (migration 0014): the token is deleted with them. None for a
    # token made on the command line.
    owner_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    )
    created_at: datetime | None = Field(default=None, sa_column=_created())
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
