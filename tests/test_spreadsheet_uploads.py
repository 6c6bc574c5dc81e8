"""`.xlsx` workbooks and `.zip` files through `POST /api/imports`: their rows take the CSV
path (same checks, same staging), and a container that cannot be imported is refused
with a JSON 4xx naming the problem before any job exists."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile

import openpyxl
import pytest

from product_importer.csvfile.containers import cell_text
from tests.support import HEADER, catalog, csv_bytes, wait_for_job
from tests.test_upload_limits import NOTHING, leftovers


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def post(client, data: bytes, filename: str, **fields: str):
    return client.post(
        "/api/imports", data=fields, files={"file": (filename, data, "application/octet-stream")}
    )


def imported(client, response) -> dict:
    assert response.status_code == 202, response.text
    return wait_for_job(client, response.json()["id"])


def products(db) -> list[tuple]:
    return db.execute(
        "SELECT sku, name, description, price::text, active FROM products ORDER BY sku"
    ).fetchall()


def test_cells_become_the_text_a_person_would_type() -> None:
    assert cell_text(12.500000000000002) == "12.5"
    assert cell_text(0.1 + 0.2) == "0.3"
    assert cell_text(3.0) == "3"
    assert cell_text(42) == "42"
    assert cell_text(True) == "TRUE"
    assert cell_text(None) == ""
    assert cell_text(1e-7) == "0.0000001"
    assert cell_text(dt.datetime(2024, 5, 31)) == "2024-05-31"
    assert cell_text(dt.datetime(2024, 5, 31, 14, 30)) == "2024-05-31 14:30:00"
    assert cell_text(dt.date(2024, 5, 31)) == "2024-05-31"


def test_the_first_sheet_of_a_workbook_is_imported_with_its_cells_as_typed(
    client, db, worker
) -> None:
    rows = [
        ["Variant SKU", "Title", "Body (HTML)", "Variant Price", "Published"],
        ["X-1", "Mug", "Blue mug", 12.500000000000002, True],
        [1001, "Cup", dt.datetime(2024, 5, 31), 3.0, False],
        ["X-3", "Plate", "Flat", None, None],
        ["X-4", None, "No name", 2, True],
    ]
    data = xlsx_bytes({"Products": rows, "Other": [["nothing", "here"]]})
    job = imported(client, post(client, data, "catalog.xlsx"))
    assert job["status"] == "completed"
    assert (job["created"], job["skipped"], job["filename"]) == (3, 1, "catalog.xlsx")
    assert products(db) == [
        ("1001", "Cup", "2024-05-31", "3.00", False),
        ("X-1", "Mug", "Blue mug", "12.50", True),
        ("X-3", "Plate", "Flat", None, True),
    ]


def test_a_sheet_chosen_by_name_is_read_and_an_unknown_one_refused(client, db, worker) -> None:
    data = xlsx_bytes(
        {"Notes": [["just", "notes"]], "Catalog": [list(HEADER), *map(list, catalog(3))]}
    )
    response = post(client, data, "book.xlsx", sheet="Prices")
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == (
        "the workbook has no sheet named 'Prices' (its sheets: Notes, Catalog)"
    )
    assert leftovers(db) == NOTHING
    job = imported(client, post(client, data, "book.xlsx", sheet="Catalog"))
    assert (job["status"], job["created"]) == ("completed", 3)
    by_query = client.post(
        "/api/imports?sheet=Catalog", files={"file": ("book.xlsx", data, "application/zip")}
    )
    assert imported(client, by_query)["unchanged"] == 3


def test_a_zip_with_one_csv_or_one_workbook_is_imported(client, db, worker) -> None:
    csv_data = csv_bytes(catalog(4, prefix="ZC"))
    job = imported(client, post(client, zip_bytes({"export/products.csv": csv_data}), "p.zip"))
    assert (job["status"], job["created"]) == ("completed", 4)
    book = xlsx_bytes({"S": [list(HEADER), *map(list, catalog(2, prefix="ZX"))]})
    with_extras = zip_bytes({"__MACOSX/._p.xlsx": b"junk", "p.xlsx": book, "dir/": b""})
    job = imported(client, post(client, with_extras, "p.zip"))
    assert (job["status"], job["created"]) == ("completed", 2)
    assert len(products(db)) == 6


def _declaring(data: bytes, size: int) -> bytes:
    """A zip whose one member declares `size` uncompressed bytes in its directory."""
    at = data.rindex(b"PK\x01\x02")
    return data[: at + 24] + struct.pack("<I", size) + data[at + 28 :]


@pytest.mark.parametrize(
    ("data", "filename", "status", "detail"),
    [
        (zip_bytes({"readme.md": b"hi"}), "a.zip", 422, "the .zip holds no .csv or .xlsx file"),
        (
            zip_bytes({"a.csv": b"sku,name,description\n", "b.csv": b"sku,name,description\n"}),
            "a.zip",
            422,
            "the .zip holds 2 files to import (a.csv, b.csv): put exactly one",
        ),
        (zip_bytes({"a.csv": b"x"})[:-30], "a.zip", 422, "is damaged or cut short"),
        (b"PK\x03\x04" + b"\x00" * 200, "a.xlsx", 422, "is damaged or cut short"),
        (
            zip_bytes({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"not xml"}),
            "broken.xlsx",
            422,
            "the .xlsx file is damaged",
        ),
        (
            _declaring(zip_bytes({"big.csv": b"sku,name,description\n"}), 0xFFFFFF00),
            "bomb.zip",
            413,
            "big.csv in the .zip inflates to 4.1e+03 MB, more than the",
        ),
        (csv_bytes(catalog(1)), "c.csv", 422, "a sheet ('S') was chosen, but the file is not"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            "old.xls",
            422,
            "Excel 97-2003 workbook (.xls) or a password-protected .xlsx",
        ),
    ],
    ids=[
        "no-csv",
        "two-csvs",
        "cut-zip",
        "corrupt-xlsx",
        "broken-workbook",
        "bomb",
        "sheet-csv",
        "xls",
    ],
)
def test_a_container_that_cannot_be_imported_is_refused_before_any_job(
    client, db, data, filename, status, detail
) -> None:
    fields = {"sheet": "S"} if filename == "c.csv" else {}
    response = post(client, data, filename, **fields)
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]
    assert leftovers(db) == NOTHING
