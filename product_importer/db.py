"""Database access: one SQLAlchemy engine (and its pool) per process, and which kind of
connection serves what. The rule:

- `session()`, an ORM session: ordinary reads and writes of rows through the models.
- `pooled_connection()`, a raw psycopg connection borrowed from the engine's pool: SQL
  the ORM cannot say (COPY, set-based statements, FOR UPDATE, RETURNING into a model).
  Every request handler that needs raw SQL uses this one. It goes back to the pool rolled
  back, so it must leave no session state behind: `SET LOCAL`, never `SET`; transaction
  advisory locks, never session ones; no LISTEN.
- `connect()`, an unpooled connection of its own: only in workers and command-line tools,
  where the connection's session *is* the work: a session advisory lock that claims a job
  (released by PostgreSQL the moment the worker dies), session settings of a long apply,
  a LISTEN. No request is served by one: a request never pays a connection's start-up, and
  the pool bounds how many connections the web processes hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlmodel import Session, create_engine

from product_importer.settings import settings


def sqlalchemy_url(url: str) -> str:
    """Turn a libpq URL into the SQLAlchemy URL that selects the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# Connections one process's pool holds: kept open, and opened beyond them under load.
POOL_SIZE = 5
POOL_MAX_OVERFLOW = 10
POOL_CAPACITY = POOL_SIZE + POOL_MAX_OVERFLOW


@lru_cache(maxsize=1)
def engine() -> Engine:
    """The process-wide engine (created on first use, after settings are final)."""
    return create_engine(
        sqlalchemy_url(settings.require_database_url()),
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=POOL_MAX_OVERFLOW,
        connect_args={"connect_timeout": 5},
    )


@contextmanager
def session() -> Iterator[Session]:
    """An ORM session that commits on success and rolls back on error."""
    with Session(engine(), expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


def scalar(conn: psycopg.Connection, query: Any, params: Any = None) -> Any:
    """The first column of the one row a query answers (a query that always answers one)."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise LookupError("the query answered no row")
    return row[0]


def connect(*, autocommit: bool = False) -> psycopg.Connection:
    """An unpooled psycopg connection whose session is the work (workers and tools only:
    see the module's rule)."""
    return psycopg.connect(settings.require_database_url(), autocommit=autocommit)


@contextmanager
def pooled_connection() -> Iterator[psycopg.Connection]:
    """A psycopg connection borrowed from the engine's pool, for many short transactions
    (opening a connection costs more than they do). Uncommitted work is rolled back when
    it goes back."""
    borrowed = engine().raw_connection()
    try:
        yield borrowed.driver_connection  # type: ignore[misc]
    finally:
        borrowed.close()
