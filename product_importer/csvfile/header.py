"""The header check: from a file's first bytes, decide whether it can become an import
and how to read it (encoding, delimiter, where each known column sits).

It runs before a job exists, so a file refused here leaves nothing behind. Header names
other than ours are mapped by `mapping.suggest_mapping` (or a mapping the user gave); a
file whose mapping is not clear is refused with the headers found and the suggestions.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from dataclasses import dataclass, field

from product_importer.csvfile.encoding import sniff_encoding
from product_importer.csvfile.mapping import (
    MappingProblem,
    MappingSuggestion,
    apply_mapping,
    headers_found,
    normalise_header,
    suggest_mapping,
)
from product_importer.field_rules import DECIMAL_SEPARATORS, decimal_style

REQUIRED_COLUMNS = ("sku", "name", "description")
OPTIONAL_COLUMNS = ("price", "active")
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
DELIMITERS = (",", ";", "\t", "|")
# The header must be complete within this many bytes.
HEADER_SCAN_BYTES = 1024 * 1024
# Characters at the start of a file in which its prices' decimal style is looked for.
SAMPLE_CHARS = 64 * 1024
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}

_LINE_END = re.compile(r"\r\n|\r|\n")
# Longest single value the csv module reads: above any row the reader lets through.
CSV_FIELD_LIMIT = 64 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))


class HeaderProblem(ValueError):
    """The file cannot become an import; the message names what is wrong."""


class HeaderMismatch(HeaderProblem):
    """The header's names do not say clearly which column is which field: the headers
    found, the fields missing or ambiguous, and the columns suggested for each field."""

    def __init__(self, message: str, suggestion: MappingSuggestion) -> None:
        super().__init__(message)
        self.suggestion = suggestion
        # The upload kept while the columns are chosen (set by the intake when it keeps
        # one): {"id", "expires_at", "filename", "file_size"}.
        self.pending_upload: dict[str, object] | None = None

    def details(self) -> dict[str, object]:
        s = self.suggestion
        found: dict[str, object] = {
            "headers_found": [h.replace("\ufeff", "").strip() for h in s.headers],
            "missing": list(s.missing),
            "ambiguous": list(s.ambiguous),
            "suggested_mapping": s.chosen_headers(),
            "suggestions": s.suggestions(),
        }
        if self.pending_upload is not None:
            found["pending_upload"] = self.pending_upload
        return found


class BadMapping(HeaderProblem, MappingProblem):
    """A mapping or decimal separator the user gave does not fit the file."""


@dataclass(frozen=True)
class CsvFormat:
    """How to read one file: its encoding, delimiter and where each known column sits."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]
    positions: dict[str, int]
    extra_columns: tuple[str, ...] = field(default=())
    # The file's decimal separator for prices, when it is known (given or seen), and
    # whether the user gave it.
    decimal: str | None = None
    decimal_chosen: bool = False

    @property
    def mapping(self) -> dict[str, str]:
        """Field -> the header (as written in the file) its values come from."""
        return {f: self.original[i] for f, i in self.positions.items()}

    @property
    def original(self) -> tuple[str, ...]:
        return self._original or self.header

    _original: tuple[str, ...] = field(default=(), repr=False)

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


def detect_format(
    head: bytes,
    *,
    at_eof: bool,
    mapping: dict[str, str | None] | None = None,
    decimal: str | None = None,
) -> CsvFormat:
    """Check the header in the first bytes of a file and say how to read the rest.

    `mapping` ({field: header}) and `decimal` are the user's choices, which win over
    what the file suggests. Raises HeaderProblem naming what is wrong: empty, binary,
    no header, missing or ambiguous columns (HeaderMismatch), a mapping that does not fit.
    """
    if decimal is not None and decimal not in DECIMAL_SEPARATORS:
        raise BadMapping(f"the decimal separator must be '.' or ',' (not {decimal!r})")
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

    best: tuple[list[str], MappingSuggestion] | None = None
    best_score = (-1, -1)
    for delimiter in DELIMITERS:
        try:
            header = next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:  # e.g. one field longer than the csv module takes
            continue
        suggestion = suggest_mapping(header)
        known = len(suggestion.chosen) + len(suggestion.ambiguous)
        score = (known, len(header))
        if score > best_score:
            best, best_score, best_delimiter = (header, suggestion), score, delimiter
    assert best is not None
    header, suggestion = best
    names = tuple(normalize_column(h) for h in header)
    if mapping is not None:
        try:
            positions = apply_mapping(header, mapping)
        except MappingProblem as exc:
            raise BadMapping(str(exc)) from None
    else:
        positions = _settled_positions(header, names, suggestion)
    used = set(positions.values())
    extras = tuple(h.strip() for i, h in enumerate(header) if i not in used)
    fmt = CsvFormat(
        encoding.label,
        best_delimiter,
        names,
        positions,
        extras,
        decimal=decimal,
        decimal_chosen=decimal is not None,
        _original=tuple(h.replace("\ufeff", "").strip() for h in header),
    )
    if decimal is None and "price" in positions:
        # What the header's bytes already show; the staging looks at more rows.
        return with_sampled_decimal(fmt, text, at_eof=at_eof)
    return fmt


def _settled_positions(
    header: list[str], names: tuple[str, ...], suggestion: MappingSuggestion
) -> dict[str, int]:
    """The suggested positions when they are clear; else a HeaderMismatch saying why."""
    if suggestion.settled:
        return dict(suggestion.chosen)
    norms = [normalise_header(h) for h in header]
    duplicated = [
        f
        for f in suggestion.ambiguous
        if len({norms[header.index(h)] for h in suggestion.candidates.get(f, ())[:2]}) == 1
        and f in names
    ]
    found = headers_found(header)
    if duplicated:
        message = f"column appears more than once: {', '.join(duplicated)}"
    elif suggestion.missing:
        noun = "column" if len(suggestion.missing) == 1 else "columns"
        message = f"missing {noun}: {', '.join(suggestion.missing)}"
    else:
        noun = "column is" if len(suggestion.ambiguous) == 1 else "columns are"
        message = f"unclear which {noun} meant for: {', '.join(suggestion.ambiguous)}"
    hints = [
        f"{f}: {' or '.join(suggestion.candidates[f][:3])}?"
        for f in (*suggestion.missing, *suggestion.ambiguous)
        if suggestion.candidates.get(f)
    ]
    message += f" (headers found: {found}"
    message += f"; suggestions: {', '.join(hints)})" if hints else ")"
    message += ". Choose the columns with a mapping."
    raise HeaderMismatch(message, suggestion)


def with_sampled_decimal(fmt: CsvFormat, text: str, *, at_eof: bool) -> CsvFormat:
    """`fmt` with the decimal separator the prices in `text` (the file's start, header
    line first) show, if they show one and `fmt` has none yet."""
    if fmt.decimal is not None or "price" not in fmt.positions:
        return fmt
    return dataclasses.replace(fmt, decimal=_sampled_decimal(text, fmt, at_eof=at_eof))


def _sampled_decimal(text: str, fmt: CsvFormat, *, at_eof: bool) -> str | None:
    lines = _LINE_END.split(text)[1:]
    if not at_eof and lines:
        lines = lines[:-1]  # the last one may be cut short
    at = fmt.positions["price"]
    prices: list[str] = []
    try:
        for row in csv.reader(lines, delimiter=fmt.delimiter):
            if len(row) > at:
                prices.append(row[at].strip())
    except csv.Error:
        pass
    return decimal_style(prices)
