"""Formula cells (OWASP CSV injection): neutralised in every CSV the app writes, read
back as the original value by the import, the same rule in Python and in SQL."""

from __future__ import annotations

import csv
import io

import psycopg
from hypothesis import example, given, settings
from hypothesis import strategies as st

from product_importer.csvfile.formula_cells import (
    FORMULA_STARTS,
    neutralise,
    neutralised_sql,
    restore,
)
from tests.support import upload, wait_for_job

HOSTILE = '=HYPERLINK("http://evil.example/","click")'


def test_cells_a_spreadsheet_would_run_get_a_leading_apostrophe() -> None:
    for value in (HOSTILE, "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "'=x", "''-x"):
        assert neutralise(value) == "'" + value
    for value in ("plain", "", "'", "'quoted'", "a=b", " =x", "1-2", "'x"):
        assert neutralise(value) == value


def test_a_neutralised_cell_reads_back_as_the_original_value() -> None:
    assert restore("'" + HOSTILE) == HOSTILE
    assert restore("''=x") == "'=x"
    assert restore("'plain") == "'plain"
    assert restore("'") == "'"


@settings(max_examples=2000)
@given(st.text(alphabet="'=+-@\t\rab ", max_size=8) | st.text(max_size=20))
@example("''''")
def test_restore_undoes_neutralise_for_every_value(value: str) -> None:
    written = neutralise(value)
    assert restore(written) == value
    assert written[:1] not in FORMULA_STARTS


def test_the_sql_expression_is_the_same_rule(db: psycopg.Connection) -> None:
    values = [HOSTILE, "+1", "-2", "@x", "\tx", "\rx", "'=x", "''", "'", "plain", "", "a=b"]
    expr = neutralised_sql("v")
    got = db.execute(
        f"SELECT {expr} FROM unnest(%s::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
        (values,),
    ).fetchall()
    assert [g for (g,) in got] == [neutralise(v) for v in values]


def test_the_error_report_neutralises_formula_cells(client, worker) -> None:
    data = (
        "sku,name,description,price\n"
        f'"{HOSTILE.replace(chr(34), chr(34) * 2)}",n,d,1\n'
        "@SKU,n,d,not-a-price\n"
        "+OK,n,d,1\n"
    ).encode()
    response = upload(client, data)
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["id"])
    assert job["status"] == "completed", job
    text = client.get(f"/api/imports/{job['id']}/errors.csv").text
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert rows, text
    for row in rows:
        for cell in row:
            assert cell.lstrip("'")[:1] not in ("=", "+", "-", "@") or cell.startswith("'"), row
    skus = [row[0] for row in rows]
    assert "'@SKU" in skus


def test_the_import_reads_neutralised_cells_back_as_their_values(client, worker, db) -> None:
    data = b"sku,name,description,price\n'+F-1,'=SUM(A1),'-- a dash,1\nF-2,'plain,'@home,2\n"
    response = upload(client, data)
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["id"])
    assert (job["status"], job["created"], job["skipped"]) == ("completed", 2, 0), job
    rows = db.execute("SELECT sku, name, description FROM products ORDER BY sku").fetchall()
    assert rows == [("+F-1", "=SUM(A1)", "-- a dash"), ("F-2", "'plain", "@home")]
