"""The error report a person can fix: every skipped row with its values as the file had
them, in the file's own columns, and every problem it has; fixed in place and imported
again as is, it imports."""

from __future__ import annotations

import csv
import io

from tests.support import import_csv

HEADER = ["Variant SKU", "Title", "Notes", "Body (HTML)", "Variant Price", "Status"]
FILE = (
    b"Variant SKU,Title,Notes,Body (HTML),Variant Price,Status\n"
    b"G-1,Good,kept,d,1.00,active\n"
    b",,no sku or name,d,abc,perhaps\n"
    b"B-1,=SUM(A1),formula name,d,-5,maybe\n"
    b"B-2, Spaced ,short row\n"
)


def report(client, job_id: int) -> list[list[str]]:
    response = client.get(f"/api/imports/{job_id}/errors.csv")
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.text)))


def test_every_problem_of_every_row_is_listed_beside_its_values(client, db, worker) -> None:
    job = import_csv(client, FILE)
    assert (job["created"], job["skipped"]) == (1, 3), job
    rows = report(client, job["id"])
    assert rows[0] == [*HEADER, "error"]
    assert [r[:-1] for r in rows[1:]] == [
        ["", "", "no sku or name", "d", "abc", "perhaps"],
        ["B-1", "'=SUM(A1)", "formula name", "d", "'-5", "maybe"],
        ["B-2", " Spaced ", "short row", "", "", ""],
    ]
    errors = [r[-1] for r in rows[1:]]
    assert errors[0].startswith("Line 3: Enter a SKU. Enter a name. ")
    assert "not 'abc'" in errors[0] and "'perhaps'" in errors[0]
    assert errors[1].startswith("Line 4: ")
    assert "negative" in errors[1] and "'maybe'" in errors[1]
    assert errors[2] == "Line 5: This row has 3 values but the header has 6 columns."


def test_the_report_fixed_in_place_imports_as_is(client, db, worker) -> None:
    rows = report(client, import_csv(client, FILE)["id"])
    fixes = {
        "": {"Variant SKU": "F-1", "Title": "Fixed", "Variant Price": "2.50", "Status": "draft"},
        "B-1": {"Variant Price": "5", "Status": "active"},
        "B-2": {"Body (HTML)": "now complete", "Status": "active"},
    }
    for row in rows[1:]:
        for column, value in fixes[row[0]].items():
            row[HEADER.index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)

    again = import_csv(client, out.getvalue().encode(), "errors.csv")
    assert (again["status"], again["created"], again["skipped"]) == ("completed", 3, 0), again
    assert "error" in again["extra_columns"]
    assert db.execute(
        "SELECT sku, name, description, price::text, active FROM products ORDER BY sku"
    ).fetchall() == [
        ("B-1", "=SUM(A1)", "d", "5.00", True),
        ("B-2", "Spaced", "now complete", None, True),
        ("F-1", "Fixed", "d", "2.50", False),
        ("G-1", "Good", "d", "1.00", True),
    ]
