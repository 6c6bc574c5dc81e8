"""From records to the lines COPY loads into an import's staging table, each row checked
by the field rules, so the database only has to deduplicate and upsert."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import TextIO, cast

from product_importer.csvfile.formula_cells import QUOTE, restore
from product_importer.csvfile.header import SAMPLE_CHARS, CsvFormat, with_sampled_decimal
from product_importer.csvfile.records import LineTally, RecordReader
from product_importer.field_rules import (
    ACTIVE_WORDS,
    DESCRIPTION_MAX,
    NAME_MAX,
    SKU_MAX,
    active_problem,
    description_problem,
    name_problem,
    parse_active,
    price_problem,
    read_price,
    reads_by_style,
    sku_problem,
)

# Staging columns, in COPY order; `cells` (a skipped row's values as the file had them,
# a JSON array) is empty for the rows that are imported.
STAGING_COLUMNS = (
    "line",
    "last_line",
    "reason",
    "sku",
    "name",
    "description",
    "price",
    "active",
    "cells",
)
# A skipped row's SKU is kept this long in the error report.
_SKU_SHOWN = 100


def row_problems(
    sku: str, name: str, description: str, price: str, active: str, *, decimal: str | None = None
) -> list[str]:
    """Why a row (its values trimmed) must be skipped: every field rule it breaks, in
    column order (none when it is valid). `decimal` is the file's decimal separator, if
    known."""
    found = (
        sku_problem(sku),
        name_problem(name),
        description_problem(description),
        read_price(price, decimal)[1],
        active_problem(active),
    )
    return [p for p in found if p]


def row_problem(
    sku: str, name: str, description: str, price: str, active: str, *, decimal: str | None = None
) -> str | None:
    """Why a row must be skipped, or None when it is valid: the first field rule it
    breaks (see `row_problems`)."""
    return (
        sku_problem(sku)
        or name_problem(name)
        or description_problem(description)
        or read_price(price, decimal)[1]
        or active_problem(active)
    )


def as_read_flag(sku: str, name: str, description: str, price: str, active: str) -> str | None:
    """The common row decided in one pass: its `active` flag ("t"/"f") when its values
    (trimmed) are valid exactly as they stand, with nothing to restore (no leading
    apostrophe) and a plain price; None sends the row to the general path, which says what
    is wrong or rewrites what needs it. Staging spends most of its time on such rows."""
    if (
        sku
        and name
        and len(sku) <= SKU_MAX
        and len(name) <= NAME_MAX
        and len(description) <= DESCRIPTION_MAX
        and "\x00" not in sku
        and "\x00" not in name
        and "\x00" not in description
        and QUOTE not in (sku[:1], name[:1], description[:1], price[:1], active[:1])
        and price_problem(price) is None
    ):
        flag = ACTIVE_WORDS.get(active.lower())
        if flag is not None:
            return "t" if flag else "f"
    return None


def _cells(fields: list[str]) -> str:
    """A skipped row's values for the error report (PostgreSQL's JSON holds no NUL)."""
    return json.dumps([f.replace("\x00", "") for f in fields], ensure_ascii=False)


class _Prefixed(io.TextIOBase):
    """Text read ahead, then the rest of the stream it came from."""

    def __init__(self, prefix: str, rest: TextIO) -> None:
        self._prefix = prefix
        self._rest = rest

    def read(self, size: int | None = -1) -> str:
        if not self._prefix:
            return self._rest.read(-1 if size is None else size)
        if size is None or size < 0:
            out, self._prefix = self._prefix + self._rest.read(), ""
            return out
        out, self._prefix = self._prefix[:size], self._prefix[size:]
        return out


def staged_lines(
    text: TextIO, fmt: CsvFormat, *, tally: LineTally, max_row_chars: int
) -> Iterator[str]:
    """Turn a decoded file into COPY-ready CSV lines for the staging table (columns
    `STAGING_COLUMNS`, active as t/f). `tally` counts the file's lines as they pass.

    A skipped row keeps its lines, its SKU, its values as the file had them and its
    reason: every problem it has, each one sentence. Rows read from a line without
    a quote are joined without the csv module: their values hold no quote, delimiter or
    line break, so nothing needs escaping.
    """
    if fmt.decimal is None and "price" in fmt.positions:
        # The prices' decimal style, from the file's first rows, decides "1,299".
        sample = text.read(SAMPLE_CHARS)
        fmt = with_sampled_decimal(fmt, sample, at_eof=len(sample) < SAMPLE_CHARS)
        text = cast(TextIO, _Prefixed(sample, text))
    d = fmt.delimiter
    pos = fmt.positions
    at_sku, at_name, at_description = pos["sku"], pos["name"], pos["description"]
    at_price, at_active = pos.get("price"), pos.get("active")

    def trimmed(fields: list[str]) -> tuple[str, str, str, str, str]:
        return (
            fields[at_sku].strip(),
            fields[at_name].strip(),
            fields[at_description].strip(),
            "" if at_price is None else fields[at_price].strip(),
            "" if at_active is None else fields[at_active].strip(),
        )

    def values(fields: list[str]) -> tuple[str, str, str, str, str]:
        # A cell the app wrote as a neutralised formula cell reads back as its value.
        return cast(tuple[str, str, str, str, str], tuple(map(restore, trimmed(fields))))

    decimal = fmt.decimal
    tally.decimal = decimal

    def is_row(fields: list[str]) -> bool:
        return row_problem(*values(fields), decimal=decimal) is None

    out = io.StringIO()
    writer = csv.writer(out, delimiter=d, lineterminator="\n")
    records = RecordReader(text, fmt, limit=max_row_chars, is_row=is_row, tally=tally)
    for record in records:
        reason = record.problem
        fields = record.fields
        if reason is None:
            sku, name, description, price, active = trimmed(fields)
            flag = as_read_flag(sku, name, description, price, active)
            if flag is None:  # the general path: restore, rewrite, or say what is wrong
                sku, name, description, price, active = map(
                    restore, (sku, name, description, price, active)
                )
                if reads_by_style(price):
                    tally.by_style += 1
                problems = row_problems(sku, name, description, price, active, decimal=decimal)
                reason = " ".join(problems) or None
                if reason is None:
                    price = read_price(price, decimal)[0]  # as plain digits with a point
                    flag = "t" if parse_active(active) else "f"
                elif record.last_line > record.line:
                    # The report names a row by its first line: say which lines it covers.
                    reason += f" (This row runs over lines {record.line}–{record.last_line}.)"
            if flag is not None and record.plain:
                n = record.line
                yield f"{n}{d}{n}{d}{d}{sku}{d}{name}{d}{description}{d}{price}{d}{flag}{d}\n"
                continue
            if flag is not None:
                writer.writerow(
                    (record.line, record.last_line, "", sku, name, description, price, flag, "")
                )
        if reason is not None:
            sku = fields[at_sku].strip() if len(fields) > at_sku else ""
            shown = sku[:_SKU_SHOWN].replace("\x00", "")
            writer.writerow(
                (record.line, record.last_line, reason, shown, "", "", "", "", _cells(fields))
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
