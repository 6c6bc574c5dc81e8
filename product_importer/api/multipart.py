"""Streaming the file field out of a multipart/form-data request, never holding it whole.

Every way a body can be wrong answers a `MultipartProblem` naming it: not multipart, no
boundary, a part header over 4 KB or more than 8 of them (python-multipart's limits), the
file field missing or coming too late, a body that ends before the file's closing
boundary (a truncated upload must not pass for a short file).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import (
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_SIZE,
    MultipartParser,
    parse_options_header,
)
from starlette.requests import Request

# Bytes a request may carry before its file field starts (other fields, headers).
MAX_BYTES_BEFORE_FILE = 64 * 1024

_PARSER_WORDS = {
    "Maximum header size exceeded": (
        f"a part header is longer than {DEFAULT_MAX_HEADER_SIZE:,} bytes"
    ),
    "Maximum header count exceeded": f"a part has more than {DEFAULT_MAX_HEADER_COUNT} headers",
}


class MultipartProblem(ValueError):
    """The request body is not well-formed multipart/form-data (the message says how)."""


class NotMultipart(MultipartProblem):
    """The request is not multipart/form-data at all."""


class NoFilePart(MultipartProblem):
    """The body is well-formed but has no file field of the expected name."""


def _malformed(error: FormParserError) -> MultipartProblem:
    reason = str(error).split(" at ")[0].strip() or type(error).__name__
    words = _PARSER_WORDS.get(reason, reason[:1].lower() + reason[1:])
    return MultipartProblem(f"the upload is not a well-formed multipart/form-data body: {words}")


class FilePart:
    """The one file field of a multipart request, read as the bytes arrive."""

    def __init__(self, request: Request, field: str = "file") -> None:
        content_type, params = parse_options_header(request.headers.get("content-type", ""))
        if content_type != b"multipart/form-data":
            raise NotMultipart(
                f"send the CSV as multipart/form-data with a file field named {field!r}"
            )
        boundary = params.get(b"boundary")
        if not boundary:
            raise MultipartProblem(
                "the multipart/form-data content type has no boundary, so the body cannot be read"
            )
        self._field = field
        self._stream = request.stream().__aiter__()
        self._ended = False
        self._read = 0
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False
        self._file_done = False
        self.filename: str | None = None
        # The text fields that come before the file field (e.g. `mapping`), by name.
        self.fields: dict[str, str] = {}
        self._field_name: str | None = None
        self._field_value: list[bytes] = []
        self._out: list[bytes] = []
        try:
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
        except FormParserError as exc:  # e.g. a boundary over 256 bytes
            raise _malformed(exc) from exc

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
        elif self.filename is None and filename is None:
            self._field_name = name
            self._field_value = []

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._out.append(bytes(data[start:end]))
        elif self._field_name is not None:
            self._field_value.append(bytes(data[start:end]))

    def _part_end(self) -> None:
        if self._field_name is not None:
            value = b"".join(self._field_value).decode("utf-8", "replace")
            self.fields.setdefault(self._field_name, value)
            self._field_name = None
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
            try:
                self._parser.finalize()
            except FormParserError as exc:
                raise _malformed(exc) from exc
            return False
        if chunk:
            self._read += len(chunk)
            try:
                self._parser.write(chunk)
            except FormParserError as exc:
                raise _malformed(exc) from exc
        return True

    async def open(self) -> str:
        """Read up to the start of the file field; answer its file name."""
        while self.filename is None:
            if not await self._pump():
                raise NoFilePart(f"the request has no file field named {self._field!r}")
            if self.filename is None and self._read > MAX_BYTES_BEFORE_FILE:
                raise MultipartProblem(
                    f"the file field {self._field!r} must come within the first "
                    f"{MAX_BYTES_BEFORE_FILE // 1024} KB of the request"
                )
        return self.filename

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes, as they arrive."""
        while True:
            if self._out:
                out, self._out = self._out, []
                yield b"".join(out)
            if self._file_done:
                return
            if not await self._pump():
                if self._out:
                    yield b"".join(self._out)
                    self._out = []
                if not self._file_done:
                    raise MultipartProblem(
                        "the request body ended before the end of the file (no closing "
                        "boundary): the upload was cut short, nothing was stored"
                    )
                return
