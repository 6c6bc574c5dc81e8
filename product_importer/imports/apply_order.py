"""Imports apply one at a time, in the order their uploads were complete, so two imports
that share SKUs always end the same way: the later upload's values win, and they never
wait on each other's row locks.

An upload takes its place when it commits, under a transaction-level advisory lock held to
that commit, so places are committed in the order they are given: once a job's place is
visible, every earlier place is too. A worker that finds an earlier import still pending or
running puts its message back with a delay and takes other work, so no worker thread waits
for another job (an earlier import is never starved of a worker by later ones).
"""

from __future__ import annotations

import psycopg

from product_importer import advisory_locks

_ORDER_LOCK = (advisory_locks.IMPORT_APPLY_ORDER, 1)
# How long a job whose turn has not come waits before its worker looks again.
RECHECK_DELAY_MS = 1000


def take_place(conn: psycopg.Connection, job_id: int) -> None:
    """In the upload's transaction, just before it commits: the job's place in the apply
    order. The lock is held until that commit."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", _ORDER_LOCK)
    conn.execute(
        "UPDATE import_jobs SET apply_order = nextval('import_apply_order') WHERE id = %s",
        (job_id,),
    )


def import_ahead(conn: psycopg.Connection, job_id: int) -> int | None:
    """The earliest import before this one in the apply order that has not ended, if any."""
    row = conn.execute(
        """SELECT ahead.id FROM import_jobs ahead, import_jobs me
           WHERE me.id = %s AND ahead.status IN ('pending', 'processing')
             AND ahead.apply_order < me.apply_order
           ORDER BY ahead.apply_order LIMIT 1""",
        (job_id,),
    ).fetchone()
    return None if row is None else int(row[0])
