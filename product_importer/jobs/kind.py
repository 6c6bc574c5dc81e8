"""A kind of job (an import, a delete-all, ...): what the job mechanism needs to know of it.

A new kind declares its row model, its snapshot type, how a row becomes a snapshot and
its lock namespace; it then gets, from this one place: reading its rows, its progress
published to Redis and followed (browser watchers, SSE), a worker's claim on a job, and
whether a job waits for a worker. Its actor comes from `jobs.actors.job_actor`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import psycopg
import redis
from sqlmodel import SQLModel

from product_importer import db
from product_importer.jobs import claims, progress
from product_importer.jobs.snapshot import JobSnapshot
from product_importer.jobs.store import JobNotFound, fetch_row, fetch_rows
from product_importer.models import ACTIVE_STATUSES

log = logging.getLogger(__name__)

J = TypeVar("J", bound=SQLModel)
S = TypeVar("S", bound=JobSnapshot)


@dataclass(frozen=True)
class JobKind(Generic[J, S]):
    """One kind of background job."""

    # The Redis topic of its keys and channels (e.g. "import").
    name: str
    # How messages name it (e.g. "bulk delete").
    label: str
    model: type[J]
    snapshot_type: type[S]
    # A row as its watchers see it; `waiting_for_worker` is filled in by `snapshot`.
    snapshot_of: Callable[[J], S]
    # Advisory lock namespace of its jobs (see jobs.claims).
    lock_class: int
    # Its Dramatiq actor (declared with jobs.actors.job_actor) and that actor's queue.
    actor_name: str
    queue_name: str
    # A job that has not ended but waits for a person, not for a worker (an import's
    # preview waiting for Apply): never "waiting for a worker".
    at_rest: Callable[[J], bool] = lambda job: False

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)

    # --- rows ------------------------------------------------------------------------

    def fetch(self, conn: psycopg.Connection, query: str, params: Any = ()) -> J | None:
        """One row of this kind from a SELECT or an ... RETURNING *."""
        return fetch_row(conn, self.model, query, params)

    def select(self, conn: psycopg.Connection, job_id: int) -> J | None:
        return self.fetch(conn, f"SELECT * FROM {self.table} WHERE id = %s", (job_id,))

    def get(self, job_id: int) -> J:
        """The job's row; raises JobNotFound."""
        with db.pooled_connection() as conn:
            job = self.select(conn, job_id)
        if job is None:
            raise JobNotFound(self.label, job_id)
        return job

    def active(self, conn: psycopg.Connection, *, limit: int = 50) -> list[J]:
        """Jobs not ended yet (pending or processing), newest first."""
        return fetch_rows(
            conn,
            self.model,
            f"""SELECT * FROM {self.table} WHERE status = ANY(%s)
                ORDER BY created_at DESC, id DESC LIMIT %s""",
            ([str(s) for s in ACTIVE_STATUSES], limit),
        )

    # --- workers ---------------------------------------------------------------------

    def enqueue(self, job_id: int, *, delay_ms: int | None = None) -> None:
        """Send the job's message (its id) to the workers, by the actor's name: senders
        need not import the actor, which would import the work itself. With `delay_ms`,
        workers get it that much later."""
        # Imported here: the broker needs REDIS_URL, which only senders need.
        import dramatiq

        from product_importer.broker import broker

        broker.enqueue(
            dramatiq.Message(
                queue_name=self.queue_name,
                actor_name=self.actor_name,
                args=(job_id,),
                kwargs={},
                options={},
            ),
            delay=delay_ms,
        )

    def claim(self, conn: psycopg.Connection, job_id: int) -> bool:
        """Take the job for this worker connection's session (False: another has it)."""
        return claims.claim(conn, self.lock_class, job_id)

    def waits_for_worker(self, conn: psycopg.Connection, job: J) -> bool:
        """Whether the job has not ended and no worker holds it."""
        status = getattr(job, "status", None)
        if status not in ACTIVE_STATUSES or self.at_rest(job):
            return False
        return not claims.is_claimed(conn, self.lock_class, int(getattr(job, "id", 0) or 0))

    def waiting_for_worker(self, job: J) -> bool:
        """Whether the job has not ended and no worker holds it (its own connection)."""
        if getattr(job, "status", None) not in ACTIVE_STATUSES or self.at_rest(job):
            return False
        with db.pooled_connection() as conn:
            return self.waits_for_worker(conn, job)

    # --- progress --------------------------------------------------------------------

    def snapshot(self, job_id: int) -> S:
        """The job's snapshot as the database tells it, including whether it waits for a
        worker; raises JobNotFound."""
        with db.pooled_connection() as conn:
            job = self.select(conn, job_id)
            if job is None:
                raise JobNotFound(self.label, job_id)
            waiting = self.waits_for_worker(conn, job)
        return self.snapshot_of(job).model_copy(update={"waiting_for_worker": waiting})

    def announce(self, snapshot: S) -> None:
        """Publish the snapshot; a Redis hiccup never fails a job."""
        try:
            progress.publish(self.name, snapshot)
        except redis.RedisError as exc:
            log.warning("progress of %s %s not published: %s", self.label, snapshot.job_id, exc)

    def follow(self, job_id: int) -> AsyncIterator[S]:
        """The job's current snapshot, then each update, until it ends."""
        return progress.follow(
            self.name,
            job_id,
            lambda: asyncio.to_thread(self.snapshot, job_id),
            self.snapshot_type.from_json,
        )

    def events_channel(self, job_id: int) -> str:
        return progress.events_channel(self.name, job_id)
