"""`GET /api/products/export`: the catalog, or what the list's filters show, as a CSV
with the import's columns, streamed by COPY; imported back it changes nothing."""

from __future__ import annotations

import csv
import io

from tests.support import csv_bytes, import_csv

HEADER = ("sku", "name", "description", "price", "active")
TRICKY = [
    ("EX-1", "Chair", "plain", "9.99", "yes"),
    ("EX-2", '=HYPERLINK("http://evil.example/")', 'two\nlines, "quoted"', "", "no"),
    ("EX-3", "+Plus", "-- dash", "0", "true"),
    ("EX-4", "'quoted", "''=x", "12.5", "false"),
    ("EX-5", "Ünïcode ☕", "@home;tab\tinside", "1000000.01", ""),
    ("ex-6", "lower", "d", "3", "1"),
]


def export(client, **params) -> str:
    response = client.get("/api/products/export", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return response.text


def test_an_export_imported_back_changes_nothing(client, worker) -> None:
    first = import_csv(client, csv_bytes(TRICKY, header=HEADER))
    assert (first["status"], first["created"]) == ("completed", len(TRICKY)), (
        first,
        client.get(f"/api/imports/{first['id']}/errors.csv").text,
    )
    text = export(client)
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == HEADER
    assert len(rows) == 1 + len(TRICKY)
    # No cell a spreadsheet would run as a formula.
    for row in rows[1:]:
        for cell in row[:3]:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), row
    again = import_csv(client, text.encode(), "products.csv")
    assert again["status"] == "completed", again
    assert (again["created"], again["updated"], again["skipped"]) == (0, 0, 0), again
    assert again["unchanged"] == len(TRICKY), again


def test_an_export_of_a_filtered_view_matches_the_list(client, worker) -> None:
    rows = [
        (f"F-{i:03}", f"name {i}", "red" if i % 3 else "blue", str(i), "yes" if i % 2 else "no")
        for i in range(60)
    ]
    assert import_csv(client, csv_bytes(rows, header=HEADER))["status"] == "completed"
    params = {"description": "RED", "active": "true"}
    listed = client.get("/api/products", params={**params, "page_size": 100}).json()
    text = export(client, **params)
    exported = [r[0] for r in list(csv.reader(io.StringIO(text)))[1:]]
    assert exported == sorted(p["sku"] for p in listed["items"])
    assert len(exported) == listed["total"] > 0


def test_an_export_of_an_empty_catalog_is_the_header(client) -> None:
    assert export(client) == "sku,name,description,price,active\n"
