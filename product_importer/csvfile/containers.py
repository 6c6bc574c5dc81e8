"""Uploads that are containers, not text: an Excel workbook (`.xlsx`) or a `.zip` holding
exactly one CSV (or one `.xlsx`). Each becomes the CSV bytes of its rows, which then take
the same header check and row pipeline as any CSV upload (nothing is checked twice).

Both are zip files, whose directory sits at their end, so they are read from a seekable
file (the intake spools the upload to a temporary file first). Memory stays bounded: a
CSV member is inflated piece by piece, and a workbook is read with openpyxl's read-only
mode, which parses the sheet's XML as a stream. `open_container` checks everything it
can before the first byte is handed out (the member to read, the sheet, declared sizes),
so a refused container leaves no job behind.

Pure: a file in, bytes out; no database, no network.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from product_importer.csvfile.compressed import InflatedTooLarge

# Every zip file starts with a local file header, an empty one with its end record.
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# A workbook member (sheet XML, shared strings) may inflate to this many times the upload
# limit: its XML is several times larger than the CSV text it holds.
XML_TIMES_LIMIT = 4
# Bytes handed out at a time.
_CHUNK_BYTES = 256 * 1024
_CSV_SUFFIXES = (".csv", ".tsv", ".txt")


class ContainerProblem(ValueError):
    """The .xlsx or .zip cannot be read as an import (the message says why)."""


# An OLE2 compound file: an Excel 97-2003 .xls, or an .xlsx saved with a password.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def is_zip(head: bytes) -> bool:
    return head.startswith(ZIP_MAGICS)


def refuse_old_workbook(head: bytes) -> None:
    """Raise ContainerProblem for a workbook we cannot read, named as such (instead of
    "looks binary")."""
    if head.startswith(OLE2_MAGIC[:4]):
        raise ContainerProblem(
            "the file is an Excel 97-2003 workbook (.xls) or a password-protected .xlsx, "
            "which cannot be read: save it as .xlsx without a password, or as CSV"
        )


def open_container(file: IO[bytes], *, limit: int, sheet: str | None = None) -> Iterator[bytes]:
    """The CSV bytes of a zip-based upload (`file` is seekable, at its start).

    Raises ContainerProblem (damaged, not one file to import, no such sheet, encrypted)
    or InflatedTooLarge (a member declares more than the limit allows) before it answers;
    reading the answer raises ContainerProblem if the file turns out damaged further on.
    """
    archive = _zip(file, "the file")
    if _is_workbook(archive):
        return _workbook_csv(file, archive, limit=limit, sheet=sheet)
    member = _only_member(archive)
    if member.file_size > limit:
        raise InflatedTooLarge(
            f"{member.filename} in the .zip inflates to {member.file_size / 2**20:.3g} MB, "
            f"more than the {limit / 2**20:.3g} MB limit: it was refused"
        )
    if member.filename.lower().endswith(".xlsx"):
        inner = _extracted(archive, member)
        return _workbook_csv(inner, _zip(inner, member.filename), limit=limit, sheet=sheet)
    if sheet:
        raise ContainerProblem(
            f"a sheet ({sheet!r}) was chosen, but the .zip holds a CSV file, not a workbook"
        )
    return _member_bytes(archive, member)


def _zip(file: IO[bytes], what: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ContainerProblem(
            f"{what} starts like a .zip or .xlsx file but is damaged or cut short "
            f"and cannot be opened ({exc})"
        ) from None


def _is_workbook(archive: zipfile.ZipFile) -> bool:
    names = set(archive.namelist())
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def _only_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    """The one CSV or workbook in a .zip; anything else in it (folders, a Mac's resource
    files, hidden files, a readme) is ignored."""
    files = [
        i
        for i in archive.infolist()
        if not i.is_dir()
        and not i.filename.startswith("__MACOSX/")
        and not i.filename.rsplit("/", 1)[-1].startswith(".")
    ]
    wanted = [i for i in files if i.filename.lower().endswith((*_CSV_SUFFIXES, ".xlsx"))]
    if not wanted:
        held = ", ".join(i.filename for i in files[:10]) or "nothing"
        raise ContainerProblem(f"the .zip holds no .csv or .xlsx file to import (it holds: {held})")
    if len(wanted) > 1:
        names = ", ".join(i.filename for i in wanted[:10])
        more = ", …" if len(wanted) > 10 else ""
        raise ContainerProblem(
            f"the .zip holds {len(wanted)} files to import ({names}{more}): "
            "put exactly one .csv or .xlsx file in it"
        )
    member = wanted[0]
    if member.flag_bits & 0x1:
        raise ContainerProblem(f"{member.filename} in the .zip is encrypted: unzip it first")
    return member


def _member_bytes(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """A member's inflated bytes; zipfile stops at its declared size and checks its CRC."""
    try:
        with archive.open(member) as data:
            while chunk := data.read(_CHUNK_BYTES):
                yield chunk
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError) as exc:
        raise ContainerProblem(f"{member.filename} in the .zip is damaged ({exc})") from None


def _extracted(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> IO[bytes]:
    """A workbook inside a .zip, copied to a temporary file (openpyxl seeks in it)."""
    copy = tempfile.TemporaryFile()  # noqa: SIM115 (the caller reads it after this returns)
    try:
        with archive.open(member) as data:
            shutil.copyfileobj(data, copy, _CHUNK_BYTES)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError) as exc:
        copy.close()
        raise ContainerProblem(f"{member.filename} in the .zip is damaged ({exc})") from None
    copy.seek(0)
    return copy


def _workbook_csv(
    file: IO[bytes], archive: zipfile.ZipFile, *, limit: int, sheet: str | None
) -> Iterator[bytes]:
    import openpyxl  # only uploads of workbooks pay for importing it

    for info in archive.infolist():
        if info.filename.startswith("xl/") and info.file_size > XML_TIMES_LIMIT * limit:
            raise InflatedTooLarge(
                f"the workbook's {info.filename} inflates to {info.file_size / 2**20:.3g} MB, "
                f"more than {XML_TIMES_LIMIT} times the {limit / 2**20:.3g} MB limit: "
                "it was refused"
            )
    file.seek(0)
    try:
        book = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise ContainerProblem(
            f"the .xlsx file is damaged or not a workbook openpyxl can read ({exc})"
        ) from None
    sheets = [ws.title for ws in book.worksheets]
    if not sheets:
        raise ContainerProblem("the workbook has no worksheet")
    if sheet:
        if sheet not in sheets:
            raise ContainerProblem(
                f"the workbook has no sheet named {sheet!r} (its sheets: {', '.join(sheets)})"
            )
        chosen = book[sheet]
    else:
        chosen = book.worksheets[0]
    return _sheet_csv(book, chosen)


def _sheet_csv(book: Any, sheet: Any) -> Iterator[bytes]:
    """A worksheet's rows as UTF-8 CSV (comma, LF): one line per row, the first row the
    header; rows are cut or padded to the header's width when only empty cells differ."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    width: int | None = None
    try:
        for values in sheet.iter_rows(values_only=True):
            cells = [cell_text(v) for v in values]
            if width is None:
                while cells and not cells[-1].strip():
                    cells.pop()
                if not cells:
                    continue  # empty rows above the header
                width = len(cells)
            elif len(cells) > width and not any(c.strip() for c in cells[width:]):
                del cells[width:]
            elif len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            writer.writerow(cells)
            if out.tell() >= _CHUNK_BYTES:
                yield out.getvalue().encode()
                out.seek(0)
                out.truncate()
    except Exception as exc:  # damaged sheet XML, a broken member, a bad value
        raise ContainerProblem(f"the .xlsx file is damaged and cannot be read ({exc})") from None
    finally:
        book.close()
    yield out.getvalue().encode()


def cell_text(value: object) -> str:
    """A cell's value as a person would type it: `12.5` (not 12.500000000000002), `3`
    (not 3.0), dates as `2024-05-31` (with ` 14:30:00` when they have a time)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        text = f"{value:.15g}"  # Excel keeps 15 significant digits
        if "e" in text:
            text = format(Decimal(text), "f")
        return text
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
