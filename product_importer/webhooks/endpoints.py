"""Webhook endpoints: create, read, change, delete, rotate the signing secret.

The secret is shown in full only in the answers to create and rotate; after a rotation the
previous secret stays valid (and is used to sign too) for `PREVIOUS_SECRET_VALID`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from product_importer import db
from product_importer.events import EventType
from product_importer.webhooks.addresses import AllowList, UnsafeUrl, resolve_target
from product_importer.webhooks.signing import generate_secret
from product_importer.webhooks.url_credentials import masked_url, restore_credentials

ALL_EVENTS = "*"
EVENT_TYPES: tuple[str, ...] = tuple(str(t) for t in EventType)
PREVIOUS_SECRET_VALID = timedelta(hours=24)
DESCRIPTION_MAX = 1000


class EndpointNotFound(LookupError):
    def __init__(self, endpoint_id: int) -> None:
        super().__init__(f"webhook {endpoint_id} not found")


class InvalidEndpoint(ValueError):
    """A field of an endpoint is wrong; the message starts with the field's name."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name


@dataclass
class Endpoint:
    """A webhook endpoint as stored. `repr` leaves the secrets out, so logs never show them."""

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
    created_at: datetime
    updated_at: datetime
    previous_secret_expires_at: datetime | None
    secret: str = field(repr=False)
    previous_secret: str | None = field(default=None, repr=False)

    @property
    def shown_url(self) -> str:
        """The URL as answers show it: a password in it masked (url_credentials.py)."""
        return masked_url(self.url)

    @classmethod
    def of_row(cls, row: dict) -> Endpoint:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in names})


@dataclass
class EndpointChanges:
    """What a PUT or PATCH changes; None leaves a field as it is."""

    url: str | None = None
    events: list[str] | None = None
    enabled: bool | None = None
    description: str | None = None


def check_events(events: list[str]) -> list[str]:
    """Known event types without repeats, or ["*"] for all."""
    if not events:
        raise InvalidEndpoint("events", 'choose at least one event type, or "*" for all')
    unknown = [e for e in events if e != ALL_EVENTS and e not in EVENT_TYPES]
    if unknown:
        raise InvalidEndpoint(
            "events",
            f'unknown event type {unknown[0]!r}; known: {", ".join(EVENT_TYPES)} or "*"',
        )
    if ALL_EVENTS in events:
        return [ALL_EVENTS]
    return list(dict.fromkeys(events))


def check_url(url: str, allow: AllowList | None = None) -> str:
    """The URL, stripped, if webhooks may target it (see `addresses`)."""
    url = (url or "").strip()
    try:
        resolve_target(url, allow)
    except UnsafeUrl as exc:
        raise InvalidEndpoint("url", str(exc)) from exc
    return url


def check_description(description: str | None) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidEndpoint("description", f"is longer than {DESCRIPTION_MAX} characters")
    return description


def _fetch(conn: psycopg.Connection, query: str, params: tuple | dict) -> Endpoint | None:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query, params).fetchone()
    return Endpoint.of_row(row) if row else None


def create_endpoint(
    url: str, events: list[str], *, enabled: bool = True, description: str = ""
) -> Endpoint:
    """Store a new endpoint with a new secret. Raises InvalidEndpoint naming the field."""
    values = (
        check_url(url),
        check_events(events),
        enabled,
        check_description(description),
        generate_secret(),
    )
    with db.pooled_connection() as conn:
        endpoint = _fetch(
            conn,
            """INSERT INTO webhook_endpoints (url, events, enabled, description, secret)
               VALUES (%s, %s, %s, %s, %s) RETURNING *""",
            values,
        )
        conn.commit()
    assert endpoint is not None
    return endpoint


def list_endpoints() -> list[Endpoint]:
    with db.pooled_connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM webhook_endpoints ORDER BY id").fetchall()
    return [Endpoint.of_row(row) for row in rows]


def get_endpoint(endpoint_id: int) -> Endpoint:
    with db.pooled_connection() as conn:
        endpoint = _fetch(conn, "SELECT * FROM webhook_endpoints WHERE id = %s", (endpoint_id,))
    if endpoint is None:
        raise EndpointNotFound(endpoint_id)
    return endpoint


def update_endpoint(endpoint_id: int, changes: EndpointChanges) -> Endpoint:
    """Change some fields. Enabling an endpoint clears why it was disabled and its failure
    streak; disabling it by hand records that an admin did."""
    values: dict[str, object] = {}
    if changes.events is not None:
        values["events"] = check_events(changes.events)
    if changes.description is not None:
        values["description"] = check_description(changes.description)
    with db.pooled_connection() as conn:
        current = _fetch(
            conn, "SELECT * FROM webhook_endpoints WHERE id = %s FOR UPDATE", (endpoint_id,)
        )
        if current is None:
            raise EndpointNotFound(endpoint_id)
        if changes.url is not None:
            # A URL sent back as it was shown (its password masked) keeps the stored one.
            values["url"] = check_url(restore_credentials(changes.url.strip(), current.url))
        if changes.enabled is not None and changes.enabled != current.enabled:
            values["enabled"] = changes.enabled
            if changes.enabled:
                values.update(disabled_reason=None, disabled_at=None, failure_streak=0)
            else:
                values.update(disabled_reason="disabled by an admin")
        assignments = ", ".join(f"{name} = %({name})s" for name in values)
        if "disabled_reason" in values and not changes.enabled:
            assignments += ", disabled_at = now()"
        endpoint = _fetch(
            conn,
            f"""UPDATE webhook_endpoints SET {assignments}{", " if assignments else ""}
                   updated_at = now()
               WHERE id = %(id)s RETURNING *""",
            {**values, "id": endpoint_id},
        )
        conn.commit()
    assert endpoint is not None
    return endpoint


def delete_endpoint(endpoint_id: int) -> None:
    """Remove the endpoint with its delivery log."""
    with db.pooled_connection() as conn:
        deleted = conn.execute(
            "DELETE FROM webhook_endpoints WHERE id = %s", (endpoint_id,)
        ).rowcount
        conn.commit()
    if not deleted:
        raise EndpointNotFound(endpoint_id)


def rotate_secret(endpoint_id: int) -> Endpoint:
    """A new secret; the current one keeps working (and signing) for 24 hours."""
    with db.pooled_connection() as conn:
        endpoint = _fetch(
            conn,
            """UPDATE webhook_endpoints SET previous_secret = secret, secret = %s,
                   previous_secret_expires_at = now() + %s, updated_at = now()
               WHERE id = %s RETURNING *""",
            (generate_secret(), PREVIOUS_SECRET_VALID, endpoint_id),
        )
        conn.commit()
    if endpoint is None:
        raise EndpointNotFound(endpoint_id)
    return endpoint


def subscribes(events: list[str], event_type: str) -> bool:
    return ALL_EVENTS in events or event_type in events
