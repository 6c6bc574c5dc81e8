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

import time

import psycopg

from product_importer import advisory_locks

_ORDER_LOCK = (advisory_locks.IMPORT_APPLY_ORDER, 1)
# A worker whose job's turn has not come waits for it this long (the import before it is
# usually the one the other worker thread is applying), then puts the message back with a
# delay that grows with the queue ahead, and takes other work: no thread waits for a job
# whose message sits behind it in the queue.
TURN_WAIT_S = 10.0
_POLL_S = 0.2
_DELAY_PER_IMPORT_AHEAD_MS = 1000
_MAX_DELAY_MS = 60_000


def take_place(conn: psycopg.Connection, job_id: int) -> None:
    """In the upload's transaction, just before it commits: the job's place in the apply
    order. The lock is held until that commit."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", _ORDER_LOCK)
    conn.execute(
        "UPDATE import_jobs SET apply_order = nextval('import_apply_order') WHERE id = %s",
        (job_id,),
    )


def imports_ahead(conn: psycopg.Connection, job_id: int) -> int:
    """How many imports before this one in the apply order have not ended."""
    row = conn.execute(
        """SELECT count(*) FROM import_jobs ahead, import_jobs me
           WHERE me.id = %s AND ahead.status IN ('pending', 'processing')
             AND ahead.apply_order < me.apply_order""",
        (job_id,),
    ).fetchone()
    return int(row[0]) if row else 0


def wait_for_turn(conn: psycopg.Connection, job_id: int) -> int | None:
    """Wait up to TURN_WAIT_S for every earlier import to end. None: it is this job's turn;
    else the delay (ms) after which its message should come back."""
    deadline = time.monotonic() + TURN_WAIT_S
    while True:
        ahead = imports_ahead(conn, job_id)
        if ahead == 0:
            return None
        if time.monotonic() >= deadline:
            return min(_MAX_DELAY_MS, ahead * _DELAY_PER_IMPORT_AHEAD_MS)
        time.sleep(_POLL_S)
