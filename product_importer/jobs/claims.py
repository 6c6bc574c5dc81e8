"""Which worker runs a job: a PostgreSQL advisory lock held by the worker's connection.

A worker takes the job's lock before it touches the job and holds it for the whole run,
so two workers never run one job. PostgreSQL releases the lock the moment that
connection ends, also when the worker is killed: a job that has not ended while nobody
holds its lock is waiting for a worker (queued, or orphaned until a worker takes it up
again). Locks are per database, so jobs of other databases on the server never count.
"""

from __future__ import annotations

import psycopg

_HELD = """
SELECT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 2
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND classid = %s::integer::oid AND objid = %s::integer::oid)
"""


def claim(conn: psycopg.Connection, lock_class: int, job_id: int) -> bool:
    """Take the job for this connection's session, without waiting; False when another
    worker holds it."""
    row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (lock_class, job_id)).fetchone()
    return bool(row and row[0])


def is_claimed(conn: psycopg.Connection, lock_class: int, job_id: int) -> bool:
    """Whether some worker holds the job now."""
    row = conn.execute(_HELD, (lock_class, job_id)).fetchone()
    return bool(row and row[0])
