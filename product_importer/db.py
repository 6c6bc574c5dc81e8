"""Database access: one SQLAlchemy engine per process, plus raw psycopg connections for COPY."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

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


@lru_cache(maxsize=1)
def engine() -> Engine:
    """The process-wide engine (created on first use, after settings are final)."""
    return create_engine(
        sqlalchemy_url(settings.require_database_url()),
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
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


def connect(*, autocommit: bool = False) -> psycopg.Connection:
    """A raw psycopg connection, for COPY and set-based SQL the ORM cannot express."""
    return psycopg.connect(settings.require_database_url(), autocommit=autocommit)


@contextmanager
def pooled_connection() -> Iterator[psycopg.Connection]:
    """A psycopg connection borrowed from the engine's pool (no connect per request); what
    it leaves uncommitted is rolled back when it goes back."""
    borrowed = engine().raw_connection()
    try:
        yield borrowed.driver_connection  # type: ignore[misc]
    finally:
        borrowed.close()
