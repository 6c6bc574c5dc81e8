"""Progress of a job: the latest snapshot in a Redis hash, each change published on a channel."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, fields
from typing import Protocol, TypeVar

from product_importer.models import ImportJob, JobStatus
from product_importer.redis_client import key, redis_async, redis_sync

SNAPSHOT_TTL_S = 7 * 24 * 3600
# A follower re-reads the database after this long without a published update.
QUIET_RELOAD_S = 5.0


class Snapshot(Protocol):
    """What the pipeline needs of any job's snapshot (an import's, a bulk delete's)."""

    @property
    def job_id(self) -> int: ...

    @property
    def is_terminal(self) -> bool: ...

    def to_json(self) -> str: ...


S = TypeVar("S", bound=Snapshot)

# Jobs of different kinds have their own id sequences: the topic keeps their keys apart.
IMPORT_TOPIC = "import"


@dataclass(frozen=True)
class ProgressSnapshot:
    """What a watcher of a job needs to draw it."""

    job_id: int
    status: str
    stage: str
    processed_rows: int
    total_rows: int
    percent: float
    created: int
    updated: int
    unchanged: int
    skipped: int
    rows_per_second: float
    eta_seconds: float | None
    error: str | None = None

    @property
    def is_terminal(self) -> bool:
        return JobStatus(self.status).is_terminal

    @classmethod
    def of_job(
        cls, job: ImportJob, *, rows_per_second: float = 0.0, eta_seconds: float | None = None
    ) -> ProgressSnapshot:
        return cls(
            job_id=int(job.id or 0),
            status=job.status,
            stage=job.stage,
            processed_rows=job.processed_rows,
            total_rows=job.total_rows,
            percent=job_percent(job),
            created=job.created,
            updated=job.updated,
            unchanged=job.unchanged,
            skipped=job.skipped,
            rows_per_second=round(rows_per_second, 1),
            eta_seconds=None if eta_seconds is None else round(eta_seconds, 1),
            error=job.error,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> ProgressSnapshot:
        data = json.loads(raw)
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})


def job_percent(job: ImportJob) -> float:
    if job.status == JobStatus.completed:
        return 100.0
    if not job.total_rows:
        return 0.0
    return round(min(100.0, 100.0 * job.processed_rows / job.total_rows), 1)


def _hash_key(job_id: int, topic: str) -> str:
    return key(topic, job_id, "progress")


def events_channel(job_id: int, topic: str = "import") -> str:
    """The pub/sub channel a job's updates are published on (one subscriber per follower)."""
    return key(topic, job_id, "events")


def publish(snapshot: Snapshot, *, topic: str = IMPORT_TOPIC) -> None:
    """Store the snapshot as the job's latest and tell every subscriber."""
    payload = snapshot.to_json()
    pipe = redis_sync().pipeline(transaction=False)
    pipe.hset(_hash_key(snapshot.job_id, topic), mapping={"snapshot": payload})
    pipe.expire(_hash_key(snapshot.job_id, topic), SNAPSHOT_TTL_S)
    pipe.publish(events_channel(snapshot.job_id, topic), payload)
    pipe.execute()


async def follow(
    job_id: int,
    load: Callable[[], Awaitable[S]],
    *,
    topic: str = IMPORT_TOPIC,
    parse: Callable[[str], S] = ProgressSnapshot.from_json,  # type: ignore[assignment]
) -> AsyncIterator[S]:
    """Yield the current snapshot, then each update, ending after a terminal status.

    Subscribes before reading the stored snapshot so no update falls in between.
    `load` reads the job from the database: used when Redis holds no snapshot, and
    again whenever the channel stays quiet, because the database is the truth.
    """
    client = redis_async()
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(events_channel(job_id, topic))
        stored = await client.hget(_hash_key(job_id, topic), "snapshot")
        from_db = await load()
        current = from_db if from_db.is_terminal or not stored else parse(stored)
        yield current
        quiet_since = time.monotonic()
        while not current.is_terminal:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                current = parse(message["data"])
                quiet_since = time.monotonic()
                yield current
            elif time.monotonic() - quiet_since > QUIET_RELOAD_S:
                from_db = await load()
                quiet_since = time.monotonic()
                if from_db.is_terminal:
                    current = from_db
                    yield current
    finally:
        await pubsub.aclose()
        await client.aclose()
