"""The per-job working tables an import stages its rows in (UNLOGGED: fast, crash-safe enough).

An unlogged table survives a worker's death but not a PostgreSQL crash; the engine
checks the staged row count before applying, so a lost table fails the job clearly.
"""

from __future__ import annotations

import psycopg
from psycopg import sql


def staging_table(job_id: int) -> sql.Identifier:
    """Every row of the file, checked: valid rows, and skipped rows with their reason;
    each with the physical lines it spans (`line` to `last_line`)."""
    return sql.Identifier(f"import_staging_{int(job_id)}")


def dedup_table(job_id: int) -> sql.Identifier:
    """One row per distinct lower(sku): the file's last occurrence, with how many rows it had."""
    return sql.Identifier(f"import_dedup_{int(job_id)}")


def create_staging_table(conn: psycopg.Connection, job_id: int) -> None:
    conn.execute(
        sql.SQL(
            """CREATE UNLOGGED TABLE {} (
                line integer NOT NULL, last_line integer NOT NULL, reason text, sku text,
                name text, description text, price numeric(12, 2), active boolean,
                cells jsonb)"""
        ).format(staging_table(job_id))
    )


def drop_job_tables(conn: psycopg.Connection, job_id: int) -> None:
    conn.execute(
        sql.SQL("DROP TABLE IF EXISTS {}, {}").format(staging_table(job_id), dedup_table(job_id))
    )


def missing_from_file(dedup: sql.Identifier) -> sql.Composed:
    """A condition on `products p`: its SKU is not among the file's (the dedup table of an
    import that keeps every key: one whose products missing from the file are handled)."""
    return sql.SQL("NOT EXISTS (SELECT 1 FROM {} d WHERE d.key = lower(p.sku))").format(dedup)
