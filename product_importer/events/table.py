"""The events table (the outbox) as SQLAlchemy declares it; `record_event` writes it in
SQL, the migrations own the schema, tests/test_schema.py holds the two together."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import SQLModel

events = Table(
    "events",
    SQLModel.metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("type", Text, nullable=False),
    Column("data", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column(
        "created_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=text("clock_timestamp()"),
    ),
    Column("fanned_out_at", DateTime(timezone=True)),
    Index("events_created_at_idx", "created_at"),
    Index("events_not_fanned_out_idx", "id", postgresql_where=text("fanned_out_at IS NULL")),
)
