"""A job's remaining batches run over a few connections at once: PostgreSQL works on
several cores while each batch stays one small transaction of its own.

A kind of batch job subclasses `BatchPool` with `run_batch` (one batch on one of the
pool's connections) and, if its sessions need settings, `prepare`. A batch that finds the
job must stop calls `stop(why)`: no thread takes another batch. The first error stops the
others too and is raised by `run`, once every thread has ended.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import psycopg

from product_importer import db


class BatchPool:
    def __init__(self, todo: Iterable[int]) -> None:
        self.todo = list(todo)
        self.lock = threading.Lock()
        self.stopped: str | None = None
        self.error: BaseException | None = None

    def prepare(self, conn: psycopg.Connection) -> None:
        """Settings of each of the pool's sessions."""

    def run_batch(self, conn: psycopg.Connection, number: int) -> None:
        raise NotImplementedError

    def stop(self, why: str) -> None:
        with self.lock:
            self.stopped = self.stopped or why

    def _next(self) -> int | None:
        with self.lock:
            if self.stopped or self.error or not self.todo:
                return None
            return self.todo.pop(0)

    def _work(self) -> None:
        try:
            with db.connect(autocommit=True) as conn:
                self.prepare(conn)
                while (number := self._next()) is not None:
                    self.run_batch(conn, number)
        except BaseException as exc:
            with self.lock:
                self.error = self.error or exc

    def run(self, connections: int) -> str | None:
        """Run every remaining batch; answer why the pool stopped early (None: all done)."""
        threads = [threading.Thread(target=self._work) for _ in range(max(1, connections))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.error is not None:
            raise self.error
        return self.stopped
