"""The threads that stage uploads: a bounded pool of their own in each web process.

Staging an upload keeps a thread (parsing and COPY) and a pooled database connection
(db.py's rule) for as long as its client sends. Uploads therefore never run on asyncio's
default executor, which the page's access check and every other short task of the
process share, and never take more than half the connection pool: however many uploads
arrive, and however slowly they come, other requests never wait behind them. An upload
that finds every thread busy waits a moment for one, then is refused with a clear
message.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from product_importer import db
from product_importer.settings import settings

T = TypeVar("T")

_POLL_S = 0.05


class UploadsBusy(RuntimeError):
    """Every upload thread of this process is busy."""

    def __init__(self, threads: int) -> None:
        super().__init__(
            f"the server is already receiving {threads} files at once: "
            "send this one again in a minute"
        )


class UploadThreads:
    """At most `size` uploads staged at once, each on a thread of this pool."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = threading.BoundedSemaphore(size)
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="upload-staging")

    @contextlib.asynccontextmanager
    async def slot(self, *, wait_s: float) -> AsyncIterator[None]:
        """Hold one of the threads; raise UploadsBusy when none frees up within `wait_s`.
        A threading semaphore (not asyncio's): it is shared by every event loop."""
        deadline = time.monotonic() + wait_s
        while not self._free.acquire(blocking=False):
            if time.monotonic() >= deadline:
                raise UploadsBusy(self.size)
            await asyncio.sleep(_POLL_S)
        try:
            yield
        finally:
            self._free.release()

    def run(self, fn: Callable[..., T], *args: object) -> asyncio.Future[T]:
        """Run `fn(*args)` on the pool (call it while holding a slot)."""
        return asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)


def upload_thread_count() -> int:
    """UPLOAD_THREADS, but at most half the process's connection pool: each upload holds
    one pooled connection while it streams, and the rest serve every other request."""
    return max(1, min(settings.upload_threads, db.POOL_CAPACITY // 2))


upload_threads = UploadThreads(upload_thread_count())
