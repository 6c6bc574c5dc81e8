"""The one retry policy of every job actor, on Dramatiq's own retries.

A job's message carries its id only, and every kind of job is safe to run again (an
import resumes from its last committed batch, a delete-all is one transaction), so
retrying is always the same thing: Dramatiq runs the message again. That is the one
layer of retries; the work inside never loops on its own:
- a transient database error (connection dropped, deadlock, serialization conflict,
  lock or statement timeout) is raised to Dramatiq, whose `retry_when` retries it with
  exponential backoff up to MAX_RETRIES times; when the retries are used up, its
  `on_retry_exhausted` actor fails the job with the last error;
- any other error cannot get better by trying again: the job fails at once, with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import dramatiq
import psycopg

from product_importer import broker as _broker  # noqa: F401  (sets the broker first)
from product_importer.jobs.kind import JobKind

log = logging.getLogger(__name__)

# Errors worth trying again. psycopg's OperationalError covers a dropped connection and
# the server's timeouts (lock_timeout, statement_timeout) as well.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.errors.DeadlockDetected,
    psycopg.errors.SerializationFailure,
)
MAX_RETRIES = 10
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 60_000

Work = Callable[[int], object]
Fail = Callable[[int, str], object]


def retry_when(retries: int, exception: BaseException) -> bool:
    """Dramatiq's question after a failed run: try this message again?"""
    return isinstance(exception, TRANSIENT_ERRORS) and retries < MAX_RETRIES


def last_error(message: dict[str, Any]) -> str:
    """The last line of the traceback Dramatiq kept with a message: the error itself."""
    lines = str(message.get("options", {}).get("traceback") or "").strip().splitlines()
    return lines[-1] if lines else "unknown error"


def job_actor(kind: JobKind, *, time_limit_ms: int, fail: Fail) -> Callable[[Work], dramatiq.Actor]:
    """Declare the actor that runs jobs of one kind (named and queued as the kind says):
    `work(job_id)` runs (or resumes) a job to its end; `fail(job_id, error)` marks it
    failed with a message for people."""
    name, label, queue_name = kind.actor_name, kind.label, kind.queue_name

    def declare(work: Work) -> dramatiq.Actor:

        def retries_exhausted(message: dict[str, Any], info: dict[str, Any]) -> None:
            job_id = int(message["args"][0])
            tries = int(info.get("retries", 0)) + 1
            log.error("%s %s: giving up after %s tries", label, job_id, tries)
            reason = last_error(message)
            fail(job_id, f"it kept failing ({tries} tries): {reason}" if tries > 1 else reason)

        exhausted = dramatiq.actor(  # type: ignore[call-overload]
            retries_exhausted,
            actor_name=f"{name}_retries_exhausted",
            queue_name=queue_name,
            retry_when=retry_when,
            min_backoff=MIN_BACKOFF_MS,
            max_backoff=MAX_BACKOFF_MS,
        )

        def run(job_id: int) -> None:
            try:
                work(job_id)
            except TRANSIENT_ERRORS:
                raise  # Dramatiq retries the message (retry_when), then fails the job
            except Exception as exc:
                log.exception("%s %s failed", label, job_id)
                fail(job_id, f"{type(exc).__name__}: {exc}")

        run.__name__ = run.__qualname__ = name
        run.__doc__ = work.__doc__
        return dramatiq.actor(  # type: ignore[call-overload]
            run,
            actor_name=name,
            queue_name=queue_name,
            retry_when=retry_when,
            on_retry_exhausted=exhausted.actor_name,
            min_backoff=MIN_BACKOFF_MS,
            max_backoff=MAX_BACKOFF_MS,
            time_limit=time_limit_ms,
        )

    return declare
