"""Which text encoding a file is in, and its bytes as a stream of text.

Each encoding we read is one `TextEncoding` in `ENCODINGS`; `sniff_encoding` picks one
from the first bytes. Another encoding (e.g. UTF-16 with a BOM) is one more entry and
one more test in `sniff_encoding`.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    # A UTF-8 file with stray Windows-1252 bytes: decode those bytes as cp1252
    # (latin-1 for the five bytes cp1252 leaves undefined) instead of failing halfway.
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace").replace("\ufffd", "") or bad.decode(
        "latin-1"
    ), error.end


codecs.register_error("cp1252_fallback", _cp1252_fallback)


@dataclass(frozen=True)
class TextEncoding:
    """How to turn a file's bytes into text: the label stored on the job, the Python
    codec (which drops a BOM) and what to do with bytes the codec cannot read."""

    label: str
    codec: str
    errors: str

    def decode_head(self, head: bytes) -> str:
        """The first bytes as text; a character cut at the end of `head` is left out."""
        return codecs.getincrementaldecoder(self.codec)(errors=self.errors).decode(head)


UTF8 = TextEncoding("utf-8", "utf-8-sig", "cp1252_fallback")
CP1252 = TextEncoding("cp1252", "cp1252", "replace")
# What Excel's "Unicode Text" writes: UTF-16 with a BOM (the codec reads its byte order
# from the BOM and drops it); without a BOM, the byte order its NUL bytes show.
UTF16 = TextEncoding("utf-16", "utf-16", "replace")
UTF16LE = TextEncoding("utf-16-le", "utf-16-le", "replace")
UTF16BE = TextEncoding("utf-16-be", "utf-16-be", "replace")
ENCODINGS = {e.label: e for e in (UTF8, CP1252, UTF16, UTF16LE, UTF16BE)}

_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def sniff_encoding(head: bytes) -> TextEncoding:
    """The encoding of a file from its first bytes: UTF-8 (with or without a BOM, a few
    stray Windows-1252 bytes allowed), UTF-16 (with a BOM, or plain ASCII text with a
    NUL beside every character), else Windows-1252 (which reads Latin-1 too)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return UTF16
    sample = head[:512]
    if len(sample) >= 4 and sample.count(0) * 2 >= len(sample) - 1:
        if not any(sample[1::2]) and all(sample[0::2]):
            return UTF16LE
        if not any(sample[0::2]) and all(sample[1::2]):
            return UTF16BE
    try:
        # The head may end inside a multi-byte character: the incremental decoder keeps it.
        codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return UTF8 if _UTF8_SEQUENCE.search(head) else CP1252
    return UTF8


def decode_stream(raw: io.RawIOBase | io.BufferedIOBase, label: str) -> io.TextIOWrapper:
    """The stream as text in the encoding `label`. Line ends (CRLF, LF, a lone CR) all
    read as LF, inside quoted values too."""
    encoding = ENCODINGS[label]
    return io.TextIOWrapper(
        raw,  # type: ignore[arg-type]
        encoding=encoding.codec,
        errors=encoding.errors,
        newline=None,
    )
