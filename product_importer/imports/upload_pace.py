"""How long an upload may keep the server waiting: a read timeout and a slowest pace.

An upload holds a thread and a database transaction while it streams, so a client that
stops sending, or trickles a row now and then, must not hold them forever. Only the time
spent waiting for the client counts: the time the server takes to stage what it got
(back-pressure) never makes a client look slow.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

# The slowest pace is judged over this much time spent waiting for the client.
PACE_WINDOW_S = 30.0


class UploadStalled(RuntimeError):
    """The client stopped sending, or sends too slowly to finish in reasonable time."""


class PacedUpload:
    """The chunks of an upload, each awaited at most `read_timeout_s`, with at least
    `min_bytes_per_s` arriving over every `PACE_WINDOW_S` of waiting (0: no minimum)."""

    def __init__(
        self, chunks: AsyncIterator[bytes], *, read_timeout_s: float, min_bytes_per_s: int
    ) -> None:
        self._source = aiter(chunks)
        self.read_timeout_s = read_timeout_s
        self.min_bytes_per_s = min_bytes_per_s
        self._waited = 0.0
        self._received = 0

    def __aiter__(self) -> PacedUpload:
        return self

    async def __anext__(self) -> bytes:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.read_timeout_s):
                chunk = await anext(self._source)
        except TimeoutError:
            raise UploadStalled(
                f"the upload stopped: nothing arrived for {self.read_timeout_s:g} s, "
                "so it was cut off and nothing was stored"
            ) from None
        self._waited += time.monotonic() - started
        self._received += len(chunk)
        if self._waited >= PACE_WINDOW_S:
            if self.min_bytes_per_s and self._received < self.min_bytes_per_s * self._waited:
                rate = self._received / self._waited / 1024
                raise UploadStalled(
                    f"the upload is too slow ({rate:.1f} KB/s, at least "
                    f"{self.min_bytes_per_s / 1024:g} KB/s are needed), so it was cut off "
                    "and nothing was stored"
                )
            self._waited, self._received = 0.0, 0
        return chunk
