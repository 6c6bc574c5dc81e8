"""CSV reading for imports: header check, row splitting and row rules. Pure: no I/O.

Rows come out as lines for PostgreSQL's COPY, already checked: a skipped row carries
its reason, so the database only has to deduplicate and upsert.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain

from product_importer.models import DESCRIPTION_MAX, NAME_MAX, PRICE_MAX, SKU_MAX

REQUIRED_COLUMNS = ("sku", "name", "description")
OPTIONAL_COLUMNS = ("price", "active")
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
DELIMITERS = (",", ";", "\t", "|")
# The header must be complete within this many bytes.
HEADER_SCAN_BYTES = 1024 * 1024


csv.field_size_limit(16 * 1024 * 1024)


class HeaderProblem(ValueError):
    """The file cannot become an import; the message names what is wrong."""


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    # A UTF-8 file with stray Windows-1252 bytes: decode those bytes as cp1252
    # (latin-1 for the five bytes cp1252 leaves undefined) instead of failing halfway.
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace").replace("\ufffd", "") or bad.decode(
        "latin-1"
    ), error.end


codecs.register_error("cp1252_fallback", _cp1252_fallback)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CsvFormat:
    """How to read one file: its encoding, delimiter and where each known column sits."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]
    positions: dict[str, int]
    extra_columns: tuple[str, ...] = field(default=())

    @property
    def python_encoding(self) -> str:
        return "utf-8-sig" if self.encoding == "utf-8" else "cp1252"

    @property
    def errors(self) -> str:
        return "cp1252_fallback" if self.encoding == "utf-8" else "replace"


def normalize_column(name: str) -> str:
    return name.replace("\ufeff", "").strip().lower()


def _looks_binary(head: bytes) -> bool:
    sample = head[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    return controls > len(sample) // 100 + 1


_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def _decode_head(head: bytes) -> tuple[str, str]:
    """Decode the first bytes; answer (encoding label, text)."""
    try:
        # The head may end inside a multi-byte character: the incremental decoder keeps it back.
        return "utf-8", codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        if _UTF8_SEQUENCE.search(head):  # UTF-8 with a few stray Windows-1252 bytes
            return "utf-8", codecs.decode(head, "utf-8-sig", errors="cp1252_fallback")
        return "cp1252", head.decode("cp1252", errors="replace")


def header_complete(head: bytes) -> bool:
    """True once `head` holds the whole header line (or is as long as we will wait for)."""
    return b"\n" in head or b"\r" in head or len(head) >= HEADER_SCAN_BYTES


def detect_format(head: bytes, *, at_eof: bool) -> CsvFormat:
    """Check the header in the first bytes of a file and say how to read the rest.

    Raises HeaderProblem naming what is wrong: empty, binary, no header, missing columns.
    """
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise HeaderProblem("the file is empty")
    if _looks_binary(head):
        raise HeaderProblem("the file is not a CSV text file (it looks binary)")
    encoding, text = _decode_head(head)
    first_line = text.splitlines()[0] if text else ""
    if not (at_eof or "\n" in text or "\r" in text):
        raise HeaderProblem(
            f"no header line found in the first {HEADER_SCAN_BYTES // 1024} KB of the file"
        )
    if not first_line.strip(" \t,;|\ufeff"):
        raise HeaderProblem("the first line is empty: the file must start with a header row")

    best: CsvFormat | None = None
    best_score = (-1, -1)
    for delimiter in DELIMITERS:
        header = next(csv.reader([first_line], delimiter=delimiter), [])
        names = tuple(normalize_column(h) for h in header)
        score = (sum(1 for c in KNOWN_COLUMNS if c in names), len(names))
        if score > best_score:
            positions = {c: names.index(c) for c in KNOWN_COLUMNS if c in names}
            extras = tuple(
                h.strip() for h, n in zip(header, names, strict=True) if n not in KNOWN_COLUMNS
            )
            best = CsvFormat(encoding, delimiter, names, positions, extras)
            best_score = score
    assert best is not None
    missing = [c for c in REQUIRED_COLUMNS if c not in best.positions]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        raise HeaderProblem(f"missing {noun}: {', '.join(missing)}")
    duplicated = sorted({n for n in best.header if n in KNOWN_COLUMNS and best.header.count(n) > 1})
    if duplicated:
        raise HeaderProblem(f"column appears more than once: {', '.join(duplicated)}")
    return best


_PRICE = re.compile(r"(\d*)(?:\.(\d*))?", re.ASCII)
_ACTIVE = {"": "t", "true": "t", "1": "t", "yes": "t", "false": "f", "0": "f", "no": "f"}
PRICE_INTEGER_DIGITS = 10


def price_problem(price: str) -> str | None:
    """Why a (trimmed, non-empty) price is invalid, or None when it is a valid price."""
    whole, _, fraction = price.partition(".")
    digits = whole + fraction
    plain = digits.isascii() and digits.isdigit() and len(whole) <= PRICE_INTEGER_DIGITS
    if plain and (len(fraction) <= 2 or len(fraction.rstrip("0")) <= 2):
        return None  # the common case, decided without a regex
    match = _PRICE.fullmatch(price)
    if match is None or price == ".":
        if price.startswith("-") and _PRICE.fullmatch(price[1:]):
            return f"price {price!r} is negative (must be >= 0)"
        return f"price {price!r} is not a number"
    whole, fraction = match.group(1).lstrip("0"), (match.group(2) or "").rstrip("0")
    if len(whole) > PRICE_INTEGER_DIGITS:
        return f"price {price!r} is too large (max {PRICE_MAX})"
    if len(fraction) > 2:
        return f"price {price!r} has more than 2 decimal places"
    return None


def row_problem(sku: str, name: str, description: str, price: str, active: str) -> str | None:
    """Why a row (its values trimmed) must be skipped, or None when it is valid."""
    if not sku:
        return "sku is empty"
    if len(sku) > SKU_MAX:
        return f"sku is longer than {SKU_MAX} characters"
    if not name:
        return "name is empty"
    if len(name) > NAME_MAX:
        return f"name is longer than {NAME_MAX} characters"
    if len(description) > DESCRIPTION_MAX:
        return f"description is longer than {DESCRIPTION_MAX} characters"
    if price and (problem := price_problem(price)):
        return problem
    if active.lower() not in _ACTIVE:
        return f"active {active!r} is not one of true/false/1/0/yes/no"
    return None


def staged_lines(text: Iterable[str], fmt: CsvFormat) -> Iterator[str]:
    """Turn a decoded file into COPY-ready CSV lines for the staging table:
    `line, reason, sku, name, description, price, active` (active as t/f).

    The header line is skipped and blank lines dropped; `line` is the physical line the
    row starts on. A skipped row keeps its line, its SKU and `reason`. Unquoted lines
    (the common case) are split and re-joined without the csv module: they hold no
    quote, delimiter or line break in a value, so nothing needs escaping.
    """
    d = fmt.delimiter
    width = len(fmt.header)
    pos = fmt.positions
    at_sku, at_name, at_description = pos["sku"], pos["name"], pos["description"]
    at_price, at_active = pos.get("price"), pos.get("active")
    lines = iter(text)
    if next(lines, None) is None:
        return
    out = io.StringIO()
    writer = csv.writer(out, delimiter=d, lineterminator="\n")
    lineno = 1
    consumed = 0

    def counted() -> Iterator[str]:
        nonlocal consumed
        for more in lines:
            consumed += 1
            yield more

    for line in lines:
        lineno += 1
        start = lineno
        plain = '"' not in line and "\x00" not in line
        if plain:
            fields = line.rstrip("\r\n").split(d)
            reason = None
        else:
            consumed = 0
            try:
                fields, reason = next(csv.reader(chain((line,), counted()), delimiter=d)), None
            except csv.Error as exc:
                fields, reason = [], f"malformed CSV: {exc}"
            lineno += consumed
            if any("\x00" in field for field in fields):
                reason = "row contains a NUL character"  # PostgreSQL text cannot hold one
        if len(fields) != width and reason is None:
            if not "".join(fields).strip():
                continue  # a blank line
            reason = f"row has {len(fields)} fields but the header has {width}"
        if reason is None:
            sku = fields[at_sku].strip()
            name = fields[at_name].strip()
            description = fields[at_description].strip()
            price = "" if at_price is None else fields[at_price].strip()
            active = "" if at_active is None else fields[at_active].strip()
            reason = row_problem(sku, name, description, price, active)
            if reason is None:
                active = _ACTIVE[active.lower()]
                if plain:
                    yield f"{start}{d}{d}{sku}{d}{name}{d}{description}{d}{price}{d}{active}\n"
                    continue
                writer.writerow((start, "", sku, name, description, price, active))
        if reason is not None:
            sku = fields[at_sku].strip() if len(fields) > at_sku else ""
            writer.writerow((start, reason, sku[:100].replace("\x00", ""), "", "", "", ""))
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def decode_stream(raw: io.RawIOBase | io.BufferedIOBase, fmt: CsvFormat) -> io.TextIOWrapper:
    """Wrap a byte stream as text in the detected encoding (universal newlines kept)."""
    return io.TextIOWrapper(
        raw,  # type: ignore[arg-type]
        encoding=fmt.python_encoding,
        errors=fmt.errors,
        newline="",
    )
