"""The header check: from a file's first bytes, decide whether it can become an import
and how to read it (encoding, delimiter, where each known column sits).

It runs before a job exists, so a file refused here leaves nothing behind. Other header
names (a column mapping) would plug in between `_header_names` and the column check.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field

from product_importer.csvfile.encoding import sniff_encoding

REQUIRED_COLUMNS = ("sku", "name", "description")
OPTIONAL_COLUMNS = ("price", "active")
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
DELIMITERS = (",", ";", "\t", "|")
# The header must be complete within this many bytes.
HEADER_SCAN_BYTES = 1024 * 1024
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}

_LINE_END = re.compile(r"\r\n|\r|\n")
# Longest single value the csv module reads: above any row the reader lets through.
CSV_FIELD_LIMIT = 64 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))


class HeaderProblem(ValueError):
    """The file cannot become an import; the message names what is wrong."""


@dataclass(frozen=True)
class CsvFormat:
    """How to read one file: its encoding, delimiter and where each known column sits."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]
    positions: dict[str, int]
    extra_columns: tuple[str, ...] = field(default=())

    @property
    def width(self) -> int:
        """Values a row has: as many as the header has columns."""
        return len(self.header)

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


def normalize_column(name: str) -> str:
    return name.replace("\ufeff", "").strip().lower()


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    if "\x00" in sample:
        return True
    controls = sum(1 for c in sample if c < " " and c not in "\t\n\r")
    return controls > len(sample) // 100 + 1


def header_complete(head: bytes) -> bool:
    """True once `head` holds the whole header line (or is as long as we will wait for)."""
    return b"\n" in head or b"\r" in head or len(head) >= HEADER_SCAN_BYTES


def detect_format(head: bytes, *, at_eof: bool) -> CsvFormat:
    """Check the header in the first bytes of a file and say how to read the rest.

    Raises HeaderProblem naming what is wrong: empty, binary, no header, missing columns.
    """
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise HeaderProblem("the file is empty")
    encoding = sniff_encoding(head)
    text = encoding.decode_head(head)
    if _looks_binary(text):
        raise HeaderProblem("the file is not a CSV text file (it looks binary)")
    if not (at_eof or _LINE_END.search(text)):
        raise HeaderProblem(
            f"no header line found in the first {HEADER_SCAN_BYTES // 1024} KB of the file"
        )
    # Only CR and LF end a line: other Unicode line breaks are text inside it.
    first_line = _LINE_END.split(text, maxsplit=1)[0]
    if not first_line.strip(" \t,;|\ufeff"):
        raise HeaderProblem("the first line is empty: the file must start with a header row")
    if "\x00" in first_line:  # past the binary check's sample: PostgreSQL cannot store it
        raise HeaderProblem("the header line contains a NUL character (the file may be damaged)")

    best: CsvFormat | None = None
    best_score = (-1, -1)
    for delimiter in DELIMITERS:
        try:
            header = next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:  # e.g. one field longer than the csv module takes
            continue
        names = tuple(normalize_column(h) for h in header)
        score = (sum(1 for c in KNOWN_COLUMNS if c in names), len(names))
        if score > best_score:
            positions = {c: names.index(c) for c in KNOWN_COLUMNS if c in names}
            extras = tuple(
                h.strip() for h, n in zip(header, names, strict=True) if n not in KNOWN_COLUMNS
            )
            best = CsvFormat(encoding.label, delimiter, names, positions, extras)
            best_score = score
    assert best is not None
    missing = [c for c in REQUIRED_COLUMNS if c not in best.positions]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        raise HeaderProblem(f"missing {noun}: {', '.join(missing)}")
    counts = Counter(n for n in best.header if n in KNOWN_COLUMNS)
    duplicated = sorted(n for n, count in counts.items() if count > 1)
    if duplicated:
        raise HeaderProblem(f"column appears more than once: {', '.join(duplicated)}")
    return best
