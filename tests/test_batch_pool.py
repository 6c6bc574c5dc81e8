"""The batch pool the import engine and the revert run their batches over: every batch
run once, a stop ends the pool early, the first error stops the others and is raised."""

from __future__ import annotations

import threading

import psycopg
import pytest

from product_importer.jobs.batch_pool import BatchPool


class Recording(BatchPool):
    def __init__(self, todo, *, stop_at: int | None = None, fail_at: int | None = None):
        super().__init__(todo)
        self.ran: list[int] = []
        self.sessions: set[int] = set()
        self.stop_at, self.fail_at = stop_at, fail_at
        self.guard = threading.Lock()

    def prepare(self, conn: psycopg.Connection) -> None:
        conn.execute("SET application_name = 'batch pool test'")

    def run_batch(self, conn: psycopg.Connection, number: int) -> None:
        (name,) = conn.execute("SHOW application_name").fetchone()
        assert name == "batch pool test"  # prepared before its first batch
        with self.guard:
            self.ran.append(number)
            self.sessions.add(conn.info.backend_pid)
        if number == self.fail_at:
            raise ValueError(f"batch {number} failed")
        if number == self.stop_at:
            self.stop("cancelled")


def test_every_batch_runs_once_over_the_pools_connections(database) -> None:
    pool = Recording(range(1, 41))
    assert pool.run(3) is None
    assert sorted(pool.ran) == list(range(1, 41))
    assert 1 <= len(pool.sessions) <= 3


def test_a_stop_ends_the_pool_early_and_says_why(database) -> None:
    pool = Recording(range(1, 1001), stop_at=5)
    assert pool.run(2) == "cancelled"
    assert 5 in pool.ran and len(pool.ran) < 1000  # the batches running then may finish


def test_the_first_error_stops_the_others_and_is_raised(database) -> None:
    pool = Recording(range(1, 1001), fail_at=3)
    with pytest.raises(ValueError, match="batch 3 failed"):
        pool.run(2)
    assert len(pool.ran) < 1000
