"""Job rows: read any kind of job's row as its model, from raw SQL or by id."""

from __future__ import annotations

from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row
from sqlmodel import SQLModel

Row = TypeVar("Row", bound=SQLModel)


class JobNotFound(LookupError):
    """No job of this kind with this id."""

    def __init__(self, label: str, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(f"{label} {job_id} not found")


def fetch_row(
    conn: psycopg.Connection, model: type[Row], query: str, params: Any = ()
) -> Row | None:
    """Run a query answering one row (SELECT or ... RETURNING *) as a `model`."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query, params).fetchone()  # type: ignore[call-overload]
    return model.model_validate(row) if row else None


def fetch_rows(
    conn: psycopg.Connection, model: type[Row], query: str, params: Any = ()
) -> list[Row]:
    """Run a query answering rows as `model`s."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()  # type: ignore[call-overload]
    return [model.model_validate(row) for row in rows]
