"""Streaming the file field out of a multipart/form-data request, never holding it whole."""

from __future__ import annotations

from collections.abc import AsyncIterator

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request


class MultipartProblem(ValueError):
    """The request is not a multipart upload with the expected file field."""


class FilePart:
    """The one file field of a multipart request, read as the bytes arrive."""

    def __init__(self, request: Request, field: str = "file") -> None:
        content_type, params = parse_options_header(request.headers.get("content-type", ""))
        boundary = params.get(b"boundary")
        if content_type != b"multipart/form-data" or not boundary:
            raise MultipartProblem(
                f"send the CSV as multipart/form-data with a file field named {field!r}"
            )
        self._field = field
        self._stream = request.stream().__aiter__()
        self._ended = False
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False
        self._file_done = False
        self.filename: str | None = None
        self._out: list[bytes] = []
        self._parser = MultipartParser(
            boundary,
            callbacks={  # type: ignore[arg-type]
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_cb,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if self.filename is None and name == self._field and filename is not None:
            self.filename = filename.decode("utf-8", "replace")
            self._in_file = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._out.append(bytes(data[start:end]))

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_done = True

    async def _pump(self) -> bool:
        """Feed the next piece of the body to the parser; False at the end of the body."""
        if self._ended:
            return False
        try:
            chunk = await anext(self._stream)
        except StopAsyncIteration:
            self._ended = True
            self._parser.finalize()
            return False
        if chunk:
            self._parser.write(chunk)
        return True

    async def open(self) -> str:
        """Read up to the start of the file field; answer its file name."""
        while self.filename is None:
            if not await self._pump():
                raise MultipartProblem(f"the request has no file field named {self._field!r}")
        return self.filename

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes, as they arrive."""
        while True:
            if self._out:
                out, self._out = self._out, []
                yield b"".join(out)
            if self._file_done or not await self._pump():
                if self._out:
                    yield b"".join(self._out)
                return
