"""Compressed uploads (`.csv.gz`): their bytes inflated as they arrive, in bounded memory,
with a bound on what they may inflate to (a "decompression bomb" is refused early).

Pure: bytes in, bytes out. The intake wraps an upload's chunks with `Inflater` when the
first bytes are gzip's magic number, whatever the file's name says.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

GZIP_MAGIC = b"\x1f\x8b"
# Inflated bytes handed out per step: one compressed chunk never becomes more than this
# in memory at once, however well it compresses.
_STEP_BYTES = 1 << 20
# Most bytes one compressed byte may become once the file is past `_RATIO_FROM`: real CSV
# compresses 5-20 times, very repetitive text up to a hundred or so; a bomb about a
# thousand (deflate's ceiling). The size limit is the hard bound; this one ends a bomb
# long before it.
MAX_RATIO = 250
_RATIO_FROM = 16 * 1024 * 1024


class CompressedFileDamaged(ValueError):
    """The compressed file cannot be read to its end (the message says why)."""


class InflatedTooLarge(ValueError):
    """The file inflates to more than the limit, or compresses implausibly well."""


def is_gzip(head: bytes) -> bool:
    return head.startswith(GZIP_MAGIC)


class Inflater:
    """Inflate a gzip stream (one or several members) chunk by chunk, refusing it once it
    inflates to more than `limit` bytes or more than `MAX_RATIO` times its size."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._inflater = zlib.decompressobj(wbits=31)
        self._compressed = 0
        self.inflated = 0

    def _count(self, data: bytes) -> bytes:
        self.inflated += len(data)
        if self.inflated > self._limit:
            raise InflatedTooLarge(
                f"the compressed file inflates to more than the {self._limit / 2**20:.3g} MB limit"
            )
        if self.inflated > _RATIO_FROM and self.inflated > MAX_RATIO * self._compressed:
            raise InflatedTooLarge(
                f"the compressed file inflates more than {MAX_RATIO} times its size, "
                "which no product file does (a decompression bomb?): it was refused"
            )
        return data

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """The inflated bytes of the next compressed chunk, in pieces of bounded size."""
        data = chunk
        while data:
            try:
                out = self._inflater.decompress(data, _STEP_BYTES)
            except zlib.error as exc:
                raise CompressedFileDamaged(
                    f"the .gz file is damaged and cannot be inflated ({exc})"
                ) from None
            # The ratio counts the compressed bytes this step used, not the whole chunk.
            left = self._inflater.unused_data or self._inflater.unconsumed_tail
            self._compressed += len(data) - len(left)
            if out:
                yield self._count(out)
            if self._inflater.eof:
                # Another gzip member may follow (`cat a.gz b.gz` is a valid .gz file).
                data = self._inflater.unused_data
                if data:
                    self._inflater = zlib.decompressobj(wbits=31)
                continue
            data = self._inflater.unconsumed_tail

    def finish(self) -> Iterator[bytes]:
        """What is left once the compressed bytes ended; refuses a file cut short."""
        if not self._inflater.eof:
            tail = self._inflater.flush()
            if tail:
                yield self._count(tail)
            raise CompressedFileDamaged(
                "the .gz file ends before its compressed data does (it was cut short)"
            )
