"""An export's rows as an `.xlsx` workbook, streamed: the CSV rows COPY gives become the rows
of one worksheet, zipped as they come into whatever sink takes the bytes (the export's
chunks), never held whole in memory.

The workbook is the smallest one spreadsheets open: one sheet, inline strings (no shared
string table to build), no styles. SKU, name, description and active are text cells (the
values as the CSV has them, formula cells neutralised the same way, so the import reads
them back unchanged); the price is a number cell (blank when the product has none).
A carriage return is written as a character reference, so that it survives XML's
line-break normalisation. Characters XML cannot hold (control characters other than tab
and line breaks, which the CSV export keeps) are written as OOXML's `_xHHHH_` escapes:
spreadsheets show them decoded, the import (openpyxl) reads the escape as text.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Callable, Iterable
from typing import IO

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_OOXML = "http://schemas.openxmlformats.org"
_SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_RELATIONSHIP = f"{_OOXML}/officeDocument/2006/relationships"
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_OOXML}/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SPREADSHEET}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_SPREADSHEET}.worksheet+xml"/></Types>'
)
_RELS = (
    f'{_XML}<Relationships xmlns="{_OOXML}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_RELATIONSHIP}/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    f'{_XML}<workbook xmlns="{_OOXML}/spreadsheetml/2006/main" xmlns:r="{_RELATIONSHIP}">'
    '<sheets><sheet name="Products" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_OOXML}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_RELATIONSHIP}/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_START = f'{_XML}<worksheet xmlns="{_OOXML}/spreadsheetml/2006/main"><sheetData>'.encode()
_SHEET_END = b"</sheetData></worksheet>"

# Text an XML reader would change: markup characters, a carriage return, and characters
# XML cannot hold.
_SPECIAL = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_REPLACEMENT = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_PRICE = 3  # the column of the number cells
# Rows are zipped in batches of about this many bytes of XML.
_BATCH_CHARS = 1 << 18


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return _REPLACEMENT.get(char) or f"_x{ord(char):04X}_"


def _cell(column: int, value: str) -> str:
    if column == _PRICE:
        return f'<c t="n"><v>{value}</v></c>' if value else "<c/>"
    text = _SPECIAL.sub(_escaped, value)
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


class _Sink:
    """A write-only file object over a callable (zipfile streams into it)."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        self._write = write

    def write(self, data: bytes) -> int:
        self._write(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


class XlsxWriter:
    """Write CSV rows (each a complete CSV record, as COPY sends them) as a workbook into
    `write`; `close()` finishes the file."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        sink: IO[bytes] = _Sink(write)  # type: ignore[assignment]
        self._zip = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        for name, data in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _RELS),
            ("xl/workbook.xml", _WORKBOOK),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
        ):
            self._zip.writestr(name, data)
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self._sheet.write(_SHEET_START)
        self._pending: list[str] = []
        self._pending_chars = 0

    def header(self, names: Iterable[str]) -> None:
        """The first row: the column names, as text."""
        cells = "".join(_cell(-1, name) for name in names)
        self._pending.append(f"<row>{cells}</row>")

    def rows(self, records: Iterable[str]) -> None:
        """Add rows, each one complete CSV record (line breaks in quoted values included)."""
        for cells in csv.reader(records):
            row = "<row>" + "".join(_cell(i, v) for i, v in enumerate(cells)) + "</row>"
            self._pending.append(row)
            self._pending_chars += len(row)
        if self._pending_chars >= _BATCH_CHARS:
            self._flush()

    def _flush(self) -> None:
        self._sheet.write("".join(self._pending).encode())
        self._pending.clear()
        self._pending_chars = 0

    def close(self) -> None:
        self._flush()
        self._sheet.write(_SHEET_END)
        self._sheet.close()
        self._zip.close()
