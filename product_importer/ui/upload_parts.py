"""The files of one browser upload, one byte stream each.

Reflex's chunked upload sends every dropped file through one `rx.UploadChunkIterator`,
one file after the other (a multipart body is sequential); each chunk names its file and
its offset in that file, so a chunk at offset 0 starts the next file. Nothing is buffered:
a file's bytes are read from the upload only while its consumer asks for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import reflex as rx

from product_importer.imports.upload_pace import UploadStalled


class UploadParts:
    """Split one chunk stream into (file name, byte stream) pairs, in upload order.

    A consumer may stop reading a file early (a refused header): the rest of that file is
    read and dropped before the next file is handed out, because the upload cannot skip.
    A browser that sends nothing for `read_timeout_s` ends the upload (UploadStalled).
    """

    def __init__(self, chunks: AsyncIterator[rx.UploadChunk], *, read_timeout_s: float) -> None:
        self._source = aiter(chunks)
        self._read_timeout_s = read_timeout_s
        self._next_start: rx.UploadChunk | None = None
        self._ended = False

    async def _read(self) -> rx.UploadChunk | None:
        try:
            async with asyncio.timeout(self._read_timeout_s):
                return await anext(self._source)
        except StopAsyncIteration:
            self._ended = True
            return None
        except TimeoutError:
            self._ended = True
            raise UploadStalled(
                f"the upload stopped: nothing arrived for {self._read_timeout_s:g} s"
            ) from None

    def _starts_next_file(self, chunk: rx.UploadChunk, current: str, received: int) -> bool:
        # An empty first data event also comes at offset 0: only a chunk at offset 0 after
        # some bytes, or under another name, begins a new file.
        return chunk.offset == 0 and (received > 0 or chunk.filename != current)

    async def _file_bytes(self, first: rx.UploadChunk) -> AsyncIterator[bytes]:
        received = len(first.data)
        yield first.data
        while not self._ended and self._next_start is None:
            chunk = await self._read()
            if chunk is None:
                return
            if self._starts_next_file(chunk, first.filename, received):
                self._next_start = chunk
                return
            received += len(chunk.data)
            yield chunk.data

    async def files(self) -> AsyncIterator[tuple[str, AsyncIterator[bytes]]]:
        """Each file of the upload as its name and its bytes."""
        start = await self._read()
        while start is not None:
            self._next_start = None
            data = self._file_bytes(start)
            yield start.filename, data
            await data.aclose()
            # Whatever the consumer left of this file is read and dropped.
            while self._next_start is None and not self._ended:
                chunk = await self._read()
                if chunk is not None and self._starts_next_file(chunk, start.filename, 1):
                    self._next_start = chunk
            start = self._next_start
