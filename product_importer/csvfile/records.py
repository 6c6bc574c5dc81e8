"""From a file's text to its records (rows), accounting for every physical line.

Each physical line is the header, a blank line, or part of exactly one record; a record
knows the lines it spans, so the counts and the error report account for all of them.

Two things here go beyond a plain CSV reader:
- **Bounded memory.** No line or record longer than `limit` characters is ever held: a
  longer line is skipped as it streams by and reported as one bad row.
- **Suspicious quotes.** A quoted value may hold line breaks, which is legal CSV, but a
  stray quote (`QX-1,Alpha,"7"" tablet`) silently swallows the rows after it into one
  value. A record over several lines is refused, and each of its lines reported on its
  own, when its quoted value never closes, runs past the limit, is followed by other text
  after its closing quote, leaves the row with the wrong number of values, or swallows a
  line that would be a valid row on its own.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

from product_importer.csvfile.header import CSV_FIELD_LIMIT, CsvFormat

# Text read at a time (never more than the row limit).
_BLOCK_CHARS = 1 << 16


@dataclass
class LineTally:
    """The physical lines of a file as the reader met them (header included)."""

    lines: int = 0
    blank: int = 0
    # The prices' decimal separator the rows were read with (given, or seen in the
    # file's first rows; None when neither).
    decimal: str | None = None
    # Prices that would read differently with the other decimal separator.
    by_style: int = 0


@dataclass(slots=True)
class Record:
    """One row of the file: the physical lines it spans and its values.

    With `problem` set the row cannot be imported, and `fields` are whatever could be read
    of it (to name its SKU in the error report). `plain` rows came from a line without a
    quote, so their values hold no quote, delimiter or line break.
    """

    line: int
    last_line: int
    fields: list[str]
    problem: str | None = None
    plain: bool = False


@dataclass(frozen=True, slots=True)
class _Overlong:
    """A physical line longer than the limit, skipped as it streamed by: its length, its
    first characters (to name its SKU) and whether it leaves a quoted value open."""

    length: int
    start: str
    odd_quotes: bool


# Characters of a skipped line kept to name its SKU.
_START_KEPT = 1024


def _physical_lines(text: TextIO, limit: int) -> Iterator[str | _Overlong]:
    """The lines of `text` without their line ends (the stream reads every line end as
    LF); a line longer than `limit` characters comes as an `_Overlong` instead."""
    read = text.read
    block_size = max(1, min(_BLOCK_CHARS, limit))
    pending = ""  # the start of a line whose end has not come yet
    carry = ""  # text read past a skipped line, still to be split
    while True:
        block = carry or read(block_size)
        carry = ""
        if not block:
            if pending:
                yield pending
            return
        parts = block.split("\n")
        if len(parts) == 1:
            pending += block
            if len(pending) > limit:
                skipped, carry = _skip_line(read, pending, block_size)
                pending = ""
                yield skipped
            continue
        # Only the first part can be longer than a block, with what was pending.
        first = pending + parts[0] if pending else parts[0]
        if len(first) <= limit:
            yield first
        else:
            yield _Overlong(len(first), first[:_START_KEPT], first.count('"') % 2 == 1)
        yield from parts[1:-1]
        pending = parts[-1]


def _skip_line(read: Callable[[int], str], start: str, block_size: int) -> tuple[_Overlong, str]:
    """Read past the rest of an over-long line; answer it and the text after its end."""
    length, quotes = len(start), start.count('"')
    kept = start[:_START_KEPT]
    while block := read(block_size):
        end = block.find("\n")
        if end >= 0:
            head = block[:end]
            odd = (quotes + head.count('"')) % 2 == 1
            return _Overlong(length + len(head), kept, odd), block[end + 1 :]
        length += len(block)
        quotes += block.count('"')
    return _Overlong(length, kept, quotes % 2 == 1), ""


class RecordReader:
    """The records of one file's text, after its header line.

    `is_row` says whether some values would make a valid row: it tells a line swallowed
    by a stray quote from text inside a quoted value.
    """

    def __init__(
        self,
        text: TextIO,
        fmt: CsvFormat,
        *,
        limit: int,
        is_row: Callable[[list[str]], bool],
        tally: LineTally,
    ) -> None:
        self.delimiter = fmt.delimiter
        self.delimiter_name = fmt.delimiter_name
        self.width = fmt.width
        self.limit = min(limit, CSV_FIELD_LIMIT)
        self.is_row = is_row
        self.tally = tally
        self._lines = _physical_lines(text, self.limit)
        self._blank = fmt.delimiter + " \t\f\v"

    def _next_line(self) -> str | _Overlong | None:
        line = next(self._lines, None)
        if line is not None:
            self.tally.lines += 1
        return line

    def __iter__(self) -> Iterator[Record]:
        tally, d, width, blank = self.tally, self.delimiter, self.width, self._blank
        if self._next_line() is None:  # the header line
            return
        for line in self._lines:
            tally.lines += 1
            n = tally.lines
            if isinstance(line, _Overlong):
                yield from self._overlong(n, line)
            elif '"' not in line:
                if not line.strip(blank):
                    tally.blank += 1
                    continue
                fields = line.split(d)
                if len(fields) == width:
                    yield Record(n, n, fields, None, True)
                else:
                    yield Record(n, n, fields, self._width_problem(len(fields)), True)
            else:
                yield from self._quoted(n, line)

    def _width_problem(self, count: int) -> str:
        noun = "value" if count == 1 else "values"
        return f"This row has {count} {noun} but the header has {self.width} columns."

    def _alone(self, line: str) -> list[str]:
        """A line's values read as if it were a row of its own (best effort)."""
        return next(csv.reader([line], delimiter=self.delimiter), [])

    def _looks_like_row(self, line: str) -> bool:
        try:
            fields = next(csv.reader([line], delimiter=self.delimiter, strict=True), [])
        except csv.Error:
            return False
        return len(fields) == self.width and self.is_row(fields)

    def _ends_inside_quotes(self, line: str) -> bool:
        """Whether a line read from inside a quoted value ends still inside one."""
        asked_for_more = False

        def one_line() -> Iterator[str]:
            nonlocal asked_for_more
            yield '"' + line + "\n"  # the quote reopens the value the line continues
            asked_for_more = True

        with contextlib.suppress(csv.Error):  # a malformed line: its quotes still count
            next(csv.reader(one_line(), delimiter=self.delimiter), None)
        return asked_for_more

    def _quoted(self, n: int, first: str) -> Iterator[Record]:
        """A record that starts on a line with a quote: read with the csv module, which
        pulls the next lines while a quoted value stays open."""
        taken: list[str] = []
        size = len(first)
        ended = False
        overflow: str | _Overlong | None = None

        def feed() -> Iterator[str]:
            nonlocal size, ended, overflow
            yield first + "\n"
            while True:
                line = self._next_line()
                if line is None:
                    ended = True
                    return
                if isinstance(line, _Overlong) or size + len(line) > self.limit:
                    overflow = line
                    return
                taken.append(line)
                size += len(line)
                yield line + "\n"

        try:
            fields = next(csv.reader(feed(), delimiter=self.delimiter, strict=True))
            problem = None
        except csv.Error as exc:
            fields, problem = [], str(exc)
        last = n + len(taken)
        if overflow is not None:
            reason = (
                f"The quoted value that starts on this line runs past {self.limit:,} "
                "characters without closing, so it and the lines it swallows were not "
                "imported. Check its quotes."
            )
            yield from self._lines_of(n, first, taken, reason)
            yield from self._swallowed(n, overflow)
        elif problem is not None and ended:  # the file ended inside the quoted value
            reason = (
                "The quoted value that starts on this line never closes (it runs to the end "
                f"of the file, line {last}), so lines {n}–{last} were not imported. "
                "Check its quotes."
                if taken
                else "The quoted value that starts on this line never closes (the file ends "
                "first). Check its quotes."
            )
            yield from self._lines_of(n, first, taken, reason)
        elif problem is not None:
            where = f"line {last}" if taken else "this line"
            reason = (
                f"A closing quote on {where} is followed by other text instead of a "
                f"{self.delimiter_name} or the end of the line. Check the quotes."
            )
            if "expected after" not in problem:
                reason = f"This row could not be read as CSV ({problem}). Check the quotes."
            if taken:
                reason += f" Lines {n}–{last} were not imported."
            yield from self._lines_of(n, first, taken, reason)
        elif not "".join(fields).strip():
            self.tally.blank += 1 + len(taken)
        elif not taken:
            problem = None if len(fields) == self.width else self._width_problem(len(fields))
            yield Record(n, n, fields, problem)
        elif len(fields) != self.width:
            reason = (
                f"This row runs over lines {n}–{last} (a quoted value with line breaks) but "
                f"has {len(fields)} values where the header has {self.width} columns, so "
                "none of these lines were imported. Check the quotes."
            )
            yield from self._lines_of(n, first, taken, reason)
        elif rows := [i for i, line in enumerate(taken, n + 1) if self._looks_like_row(line)]:
            shown = ", ".join(str(i) for i in rows[:5]) + (", …" if len(rows) > 5 else "")
            reason = (
                f"The quoted value that starts on this line runs on to line {last} and "
                f"swallows lines that look like rows of their own ({shown}), so lines "
                f"{n}–{last} were not imported. Check its quotes: a quote inside a value "
                'is written twice ("").'
            )
            yield from self._lines_of(n, first, taken, reason)
        else:
            yield Record(n, last, fields)

    def _inside(self, start: int) -> str:
        return f"Not imported: this line is inside the quoted value that starts on line {start}."

    def _lines_of(self, n: int, first: str, taken: list[str], reason: str) -> Iterator[Record]:
        """A refused record, reported line by line: the lines may be rows of their own."""
        yield Record(n, n, self._alone(first), reason)
        inside = self._inside(n)
        for i, line in enumerate(taken, n + 1):
            yield Record(i, i, self._alone(line), inside)

    def _swallowed(self, start: int, line: str | _Overlong | None) -> Iterator[Record]:
        """Report the lines of a quoted value already refused, up to the line that closes
        it; the lines after that are read as rows again."""
        inside = self._inside(start)
        while line is not None:
            n = self.tally.lines
            if isinstance(line, _Overlong):
                yield Record(n, n, self._alone(line.start), inside)
                closes = line.odd_quotes
            else:
                yield Record(n, n, self._alone(line), inside)
                closes = not self._ends_inside_quotes(line)
            if closes:
                return
            line = self._next_line()

    def _overlong(self, n: int, line: _Overlong) -> Iterator[Record]:
        yield Record(
            n,
            n,
            self._alone(line.start),
            f"This line has {line.length:,} characters, more than the {self.limit:,} a row "
            "may have, so it was not imported.",
        )
        if line.odd_quotes:  # it opened a quoted value that goes on below
            yield from self._swallowed(n, self._next_line())
