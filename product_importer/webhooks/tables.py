"""The webhook tables as SQLAlchemy declares them (the code reads and writes them in SQL;
the migrations own the schema, and tests/test_schema.py holds the two together), and the
delivery statuses, in one place."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import SQLModel


class DeliveryStatus(StrEnum):
    """Where one event is on its way to one endpoint."""

    pending = "pending"  # waits for its (next) attempt
    sending = "sending"  # a worker holds it and sends
    succeeded = "succeeded"
    failed = "failed"  # every attempt failed, or the endpoint was disabled

    @property
    def is_final(self) -> bool:
        return self in (DeliveryStatus.succeeded, DeliveryStatus.failed)


def _id() -> Column:
    return Column("id", BigInteger, Identity(always=False), primary_key=True)


def _time(name: str, **kwargs) -> Column:
    return Column(name, DateTime(timezone=True), **kwargs)


webhook_endpoints = Table(
    "webhook_endpoints",
    SQLModel.metadata,
    _id(),
    Column("url", Text, nullable=False),
    Column("events", ARRAY(Text), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("secret", Text, nullable=False),
    Column("previous_secret", Text),
    _time("previous_secret_expires_at"),
    Column("disabled_reason", Text),
    _time("disabled_at"),
    Column("failure_streak", Integer, nullable=False, server_default=text("0")),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    _time("last_attempt_at"),
    _time("created_at", nullable=False, server_default=func.now()),
    _time("updated_at", nullable=False, server_default=func.now()),
)

_STATUSES = ", ".join(f"'{s.value}'" for s in DeliveryStatus)

webhook_deliveries = Table(
    "webhook_deliveries",
    SQLModel.metadata,
    _id(),
    Column(
        "endpoint_id",
        BigInteger,
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_id", BigInteger),
    Column("event_type", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("is_test", Boolean, nullable=False, server_default=text("false")),
    Column("status", Text, nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("schedule_step", Integer, nullable=False, server_default=text("0")),
    _time("next_attempt_at", nullable=False, server_default=func.now()),
    _time("lease_until"),
    _time("enqueued_at"),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    _time("created_at", nullable=False, server_default=func.now()),
    _time("finished_at"),
    CheckConstraint(f"status IN ({_STATUSES})", name="webhook_deliveries_status_check"),
    Index(
        "webhook_deliveries_event_endpoint_key",
        "event_id",
        "endpoint_id",
        unique=True,
        postgresql_where=text("NOT is_test"),
    ),
    Index("webhook_deliveries_endpoint_idx", "endpoint_id", text("id DESC")),
    # Each endpoint's newest test send, without reading its real deliveries.
    Index(
        "webhook_deliveries_tests_idx",
        "endpoint_id",
        text("id DESC"),
        postgresql_where=text("is_test"),
    ),
    Index(
        "webhook_deliveries_due_idx",
        "next_attempt_at",
        postgresql_where=text("status IN ('pending', 'sending')"),
    ),
)

webhook_attempts = Table(
    "webhook_attempts",
    SQLModel.metadata,
    _id(),
    Column(
        "delivery_id",
        BigInteger,
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("attempt", Integer, nullable=False),
    _time("attempted_at", nullable=False, server_default=func.now()),
    Column("status_code", Integer),
    Column("latency_ms", Integer, nullable=False),
    Column("response_excerpt", Text, nullable=False, server_default=text("''")),
    Column("error", Text),
    Index("webhook_attempts_delivery_idx", "delivery_id", "attempt"),
)
