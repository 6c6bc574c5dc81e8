"""JSON shapes of the webhooks API (field names are a contract: see README "Webhooks")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from product_importer.api.params import Text
from product_importer.webhooks.deliveries import Attempt, Delivery, TestResult
from product_importer.webhooks.endpoints import Endpoint

EVENTS_DOC = 'Event types to send, or ["*"] for all.'


class WebhookIn(BaseModel):
    """A new endpoint (POST), or every field of one (PUT)."""

    url: Text = Field(description="http(s) URL that receives the events")
    events: list[Text] = Field(default_factory=lambda: ["*"], description=EVENTS_DOC)
    enabled: bool = True
    description: Text = ""


class WebhookPatch(BaseModel):
    """Some fields of an endpoint (PATCH); the others stay as they are."""

    url: Text | None = None
    events: list[Text] | None = Field(default=None, description=EVENTS_DOC)
    enabled: bool | None = None
    description: Text | None = None


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    enabled: bool
    description: str
    disabled_reason: str | None
    disabled_at: datetime | None
    failure_streak: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: Endpoint) -> WebhookOut:
        return cls(**_public_fields(endpoint))


class WebhookWithSecret(WebhookOut):
    """The answer to create and rotate-secret: the only answers that show the secret."""

    secret: str

    @classmethod
    def of(cls, endpoint: Endpoint) -> WebhookWithSecret:
        return cls(**_public_fields(endpoint), secret=endpoint.secret)


def _public_fields(endpoint: Endpoint) -> dict[str, Any]:
    shown = {name: getattr(endpoint, name) for name in WebhookOut.model_fields}
    return shown | {"url": endpoint.shown_url}


class TestIn(BaseModel):
    event_type: Text | None = Field(
        default=None, description="type of the sample event (default: the first subscribed)"
    )


class TestOut(BaseModel):
    status_code: int | None
    latency_ms: int
    ok: bool
    error: str | None
    delivery_id: int

    @classmethod
    def of(cls, result: TestResult) -> TestOut:
        return cls(**vars(result))


class AttemptOut(BaseModel):
    attempt: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    response_excerpt: str
    error: str | None

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptOut:
        return cls(**vars(attempt))


class DeliveryOut(BaseModel):
    id: int
    webhook_id: int
    event_id: int | None
    event_type: str
    message_id: str
    status: str
    attempts: int
    is_test: bool
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[AttemptOut]

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        skipped = ("endpoint_id", "attempt_log")
        fields = {k: v for k, v in vars(delivery).items() if k not in skipped}
        return cls(
            **fields,
            webhook_id=delivery.endpoint_id,
            attempt_log=[AttemptOut.of(a) for a in delivery.attempt_log],
        )
