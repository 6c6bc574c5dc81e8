"""Server-Sent Events of any job: the current snapshot, then each update, until it ends."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from product_importer.jobs.kind import JobKind


async def job_events_response(kind: JobKind, job_id: int) -> StreamingResponse:
    """The SSE answer that follows one job (404 first when there is no such job)."""
    await run_in_threadpool(kind.get, job_id)  # raises JobNotFound

    async def stream() -> AsyncIterator[str]:
        async for snapshot in kind.follow(job_id):
            yield f"event: progress\ndata: {snapshot.to_json()}\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
