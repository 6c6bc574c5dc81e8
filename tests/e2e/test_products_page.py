"""The Products page in a real browser: filter, page, sort, create, edit, field errors,
delete, delete-all behind a typed confirmation with its progress bar, and export."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import openpyxl
import psycopg
import pytest
from playwright.sync_api import expect

from tests.conftest import EDITOR
from tests.e2e.conftest import open_tab, shot


def seed(db: psycopg.Connection, n: int) -> None:
    """n products: P-0001.. with a name that says whether it is a chair or a table,
    price = number, every third inactive."""
    db.execute(
        """INSERT INTO products (sku, name, description, price, active)
           SELECT 'P-' || lpad(i::text, 4, '0'),
                  CASE WHEN i %% 2 = 0 THEN 'Oak chair ' ELSE 'Pine table ' END || i,
                  'Product number ' || i, i, i %% 3 <> 0
           FROM generate_series(1, %s) AS i""",
        (n,),
    )


@pytest.fixture
def products(
    browser, app_url: str, db, worker, credentials, request: pytest.FixtureRequest
) -> Iterator:
    """A fresh tab on the Products page over 120 products, signed in as an admin."""
    seed(db, 120)
    with open_tab(browser, app_url, "/products", request) as tab:
        tab.get_by_text("1–50 of 120 products").wait_for()
        yield tab


def rows(tab):
    return tab.locator("tr.product-row")


def shown_skus(tab) -> list[str]:
    return [r.get_attribute("data-sku") for r in rows(tab).all()]


def query_of(tab) -> dict[str, list[str]]:
    return parse_qs(urlparse(tab.url).query)


def wait_total(tab, text: str) -> None:
    tab.locator(".total").filter(has_text=re.compile("^" + re.escape(text) + "$")).wait_for()


def test_filters_narrow_the_grid_combine_and_survive_a_reload(products) -> None:
    tab = products
    tab.get_by_label("Filter by name").fill("chair")
    wait_total(tab, "1–50 of 60 products")
    assert query_of(tab)["name"] == ["chair"]
    assert all("Oak chair" in r.inner_text() for r in rows(tab).all())

    tab.get_by_label("Filter by SKU").fill("P-00")  # P-0001 .. P-0099
    wait_total(tab, "1–49 of 49 products")
    tab.get_by_label("Filter by status").click()
    tab.get_by_role("option", name="Inactive").click()
    wait_total(tab, "1–16 of 16 products")  # even, below 100, divisible by 3
    shot(tab, "p-a-filtered")
    assert query_of(tab) == {"name": ["chair"], "sku": ["P-00"], "active": ["inactive"]}
    assert shown_skus(tab)[:3] == ["P-0006", "P-0012", "P-0018"]

    tab.reload()
    wait_total(tab, "1–16 of 16 products")
    assert tab.get_by_label("Filter by name").input_value() == "chair"
    assert tab.get_by_label("Filter by SKU").input_value() == "P-00"

    tab.get_by_label("Filter by description").fill("no such text")
    tab.get_by_text("No products match these filters").wait_for()
    tab.get_by_role("button", name="Clear filters").click()
    wait_total(tab, "1–50 of 120 products")
    assert query_of(tab) == {}


def test_one_search_box_looks_in_the_sku_the_name_and_the_description(products) -> None:
    tab = products
    search = tab.get_by_label("Search products by SKU, name or description")
    search.fill("P-011")  # in the SKU only: P-0110 .. P-0119
    wait_total(tab, "1–10 of 10 products")
    assert query_of(tab) == {"q": ["P-011"]}
    search.fill("number 12")  # in the description only: 12 and 120
    wait_total(tab, "1–2 of 2 products")
    assert shown_skus(tab) == ["P-0012", "P-0120"]
    search.fill("OAK CHAIR 11")  # in the name, any letter case: 110, 112 .. 118
    wait_total(tab, "1–5 of 5 products")
    shot(tab, "p-a-searched")
    tab.reload()
    wait_total(tab, "1–5 of 5 products")
    assert search.input_value() == "OAK CHAIR 11"
    search.fill("no such product")
    tab.get_by_text("No products match these filters").wait_for()
    tab.get_by_role("button", name="Clear filters").click()
    wait_total(tab, "1–50 of 120 products")
    assert search.input_value() == "" and query_of(tab) == {}


def test_pages_sizes_and_sorting(products) -> None:
    tab = products
    assert shown_skus(tab)[0] == "P-0001" and rows(tab).count() == 50
    tab.get_by_role("button", name="Next page").click()
    wait_total(tab, "51–100 of 120 products")
    assert shown_skus(tab)[0] == "P-0051"
    tab.get_by_role("button", name="Page 3").click()
    wait_total(tab, "101–120 of 120 products")
    assert rows(tab).count() == 20 and query_of(tab)["page"] == ["3"]
    assert tab.get_by_role("button", name="Next page").is_disabled()
    shot(tab, "p-b-page-3")

    tab.reload()
    wait_total(tab, "101–120 of 120 products")

    tab.get_by_label("Rows per page").click()
    tab.get_by_role("option", name="25").click()
    wait_total(tab, "1–25 of 120 products")
    assert query_of(tab)["size"] == ["25"]

    price = tab.locator('[data-sort-column="price"]')
    price.click()
    tab.wait_for_function("() => location.search.includes('sort=price')")
    tab.locator('tr.product-row[data-sku="P-0001"]').first.wait_for()
    assert shown_skus(tab)[0] == "P-0001"
    price.click()  # the same column again: descending
    tab.wait_for_function("() => location.search.includes('sort=-price')")
    tab.locator('tr.product-row[data-sku="P-0120"]').first.wait_for()
    assert shown_skus(tab)[:2] == ["P-0120", "P-0119"]


def form(tab):
    return tab.get_by_role("dialog")


def test_create_edit_and_delete_a_product(products, db) -> None:
    tab = products
    tab.get_by_role("button", name="New product").click()
    dialog = form(tab)
    dialog.get_by_label("SKU", exact=True).fill("NEW-0001")
    dialog.get_by_label("Name", exact=True).fill("Walnut desk")
    dialog.get_by_label("Description", exact=True).fill("A desk of walnut")
    dialog.get_by_label("Price", exact=True).fill("199.90")
    dialog.get_by_role("button", name="Save").click()
    tab.get_by_text("Product NEW-0001 created").wait_for()
    dialog.wait_for(state="hidden")
    assert db.execute(
        "SELECT name, price::text, active FROM products WHERE sku = 'NEW-0001'"
    ).fetchone() == ("Walnut desk", "199.90", True)

    tab.get_by_label("Filter by SKU").fill("new-")
    wait_total(tab, "1–1 of 1 products")
    tab.get_by_role("button", name="Edit NEW-0001").click()
    dialog = form(tab)
    assert dialog.get_by_label("Name", exact=True).input_value() == "Walnut desk"
    dialog.get_by_label("Name", exact=True).fill("Walnut writing desk")
    dialog.get_by_label("Active", exact=True).click()
    dialog.get_by_role("button", name="Save").click()
    tab.get_by_text("Product NEW-0001 updated").wait_for()
    row = tab.locator('tr.product-row[data-sku="NEW-0001"]')
    row.get_by_text("Walnut writing desk").wait_for()
    assert "inactive" in row.inner_text()
    shot(tab, "p-c-edited")

    tab.get_by_role("button", name="Delete NEW-0001").click()
    confirm = tab.get_by_role("alertdialog")
    assert "NEW-0001" in confirm.inner_text()
    confirm.get_by_role("button", name="Delete", exact=True).click()
    tab.get_by_text("Product NEW-0001 deleted").wait_for()
    tab.get_by_text("No products match these filters").wait_for()
    assert db.execute("SELECT count(*) FROM products WHERE sku = 'NEW-0001'").fetchone() == (0,)
    kinds = [t for (t,) in db.execute("SELECT type FROM events ORDER BY id").fetchall()]
    assert kinds == ["product.created", "product.updated", "product.deleted"]


def test_the_form_shows_field_errors_and_stores_nothing(products, db) -> None:
    tab = products
    tab.get_by_role("button", name="New product").click()
    dialog = form(tab)
    dialog.get_by_label("SKU", exact=True).fill("p-0007")  # P-0007 exists
    dialog.get_by_label("Price", exact=True).fill("-3")
    dialog.get_by_role("button", name="Save").click()
    dialog.locator(".field-error-name").wait_for()
    assert dialog.locator(".field-error-name").inner_text() == "Enter a name."
    assert dialog.locator(".field-error-price").inner_text() == "Price can't be negative."
    shot(tab, "p-d-field-errors")

    dialog.get_by_label("Name", exact=True).fill("Copy")
    dialog.get_by_label("Price", exact=True).fill("3")
    dialog.get_by_role("button", name="Save").click()
    sku_error = dialog.locator(".field-error-sku")
    sku_error.wait_for()
    assert sku_error.inner_text() == (
        "Another product already has the SKU 'p-0007', written 'P-0007' "
        "(SKUs are the same in any letter case)."
    )
    assert dialog.is_visible()
    assert db.execute("SELECT count(*) FROM products").fetchone() == (120,)
    assert db.execute("SELECT count(*) FROM events").fetchone() == (0,)


@contextlib.contextmanager
def writers_held(database_url: str) -> Iterator[None]:
    """Hold a SHARE lock on products: the delete-all waits for it, so the test sees it run."""
    with psycopg.connect(database_url) as conn:
        conn.execute("LOCK TABLE products IN SHARE MODE")
        try:
            yield
        finally:
            conn.rollback()


def test_delete_all_needs_the_typed_word_and_shows_its_progress(products, database, db):
    tab = products
    db.execute("DELETE FROM products")
    seed(db, 5000)
    tab.reload()
    # Past the count cap the page shows an estimate: wait for the pager of 5,000 instead.
    tab.get_by_role("button", name="Page 5").wait_for()

    tab.get_by_role("button", name="Delete all").click()
    dialog = tab.get_by_role("alertdialog")
    go = dialog.get_by_role("button", name="Delete all products")
    assert go.is_disabled()
    dialog.get_by_label("Type DELETE to confirm").fill("delete")
    tab.wait_for_timeout(500)  # the state round trip that could enable it
    assert go.is_disabled()
    dialog.get_by_label("Type DELETE to confirm").fill("DELETE")
    expect(go).to_be_enabled()

    with writers_held(database):
        go.click()
        card = tab.locator('.bulk-delete-card[data-status="processing"]')
        card.wait_for()
        assert card.locator('[role="progressbar"]').count() == 1
        shot(tab, "p-e-bulk-running")
        time.sleep(0.5)
        assert db.execute("SELECT count(*) FROM products").fetchone() == (5000,)

    done = tab.locator('.bulk-delete-card[data-status="completed"]')
    done.wait_for(timeout=60_000)
    assert done.get_attribute("data-percent") == "100"
    assert "Deleted 5,000 products." in done.inner_text()
    tab.get_by_text("No products yet").wait_for()
    shot(tab, "p-f-bulk-done")
    assert db.execute("SELECT count(*) FROM products").fetchone() == (0,)
    assert db.execute("SELECT type, data->>'count' FROM events").fetchall() == [
        ("products.bulk_deleted", "5000")
    ]


def test_delete_all_is_refused_in_the_dialog_while_an_import_runs(products, db) -> None:
    tab = products
    db.execute("INSERT INTO import_jobs (filename, status) VALUES ('big.csv', 'processing')")
    tab.get_by_role("button", name="Delete all").click()
    dialog = tab.get_by_role("alertdialog")
    dialog.get_by_label("Type DELETE to confirm").fill("DELETE")
    dialog.get_by_role("button", name="Delete all products").click()
    alert = dialog.get_by_role("alert")
    alert.wait_for()
    assert "import #1 (big.csv) is processing" in alert.inner_text()
    assert db.execute("SELECT count(*) FROM products").fetchone() == (120,)


def test_the_export_button_exports_what_the_filters_show_with_progress_then_a_link(
    browser, app_url: str, db, worker, credentials, request: pytest.FixtureRequest
) -> None:
    """An editor signs in with the form, opens Products from the navigation, filters,
    exports: the card shows the job's progress, then a link that downloads the file."""
    seed(db, 120)
    context = browser.new_context(base_url=app_url, accept_downloads=True)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    try:
        tab.goto("/")
        tab.get_by_label("User name").fill(EDITOR)
        tab.get_by_label("Password").fill(credentials.editor_password)
        tab.get_by_role("button", name="Sign in").click()
        tab.get_by_text("Drop CSV files here").wait_for()
        tab.get_by_role("link", name="Products").first.click()
        tab.get_by_text("1–50 of 120 products").wait_for()
        tab.get_by_label("Filter by name").fill("chair")
        tab.get_by_label("Filter by status").click()
        tab.get_by_role("option", name="Inactive").click()
        wait_total(tab, "1–20 of 20 products")  # even and divisible by 3, up to 120
        # No worker at first: the card shows the job waiting, with its progress bar.
        worker.stop()
        try:
            tab.get_by_role("button", name="Export", exact=True).click()
            card = tab.locator(".export-card")
            expect(card).to_have_attribute("data-status", "pending")
            expect(card.get_by_role("progressbar")).to_be_visible()
            expect(card.locator(".export-message")).to_have_text(
                "Waiting for a worker to start the export…"
            )
            shot(tab, "p-export-waiting")
        finally:
            worker.ensure_running()
        # The card follows the job to its end, then links to the file.
        expect(card).to_have_attribute("data-status", "completed", timeout=60_000)
        expect(card.get_by_role("progressbar")).to_have_count(0)
        expect(card.locator(".export-message")).to_have_text("20 products exported (1 kB).")
        shot(tab, "p-export-done")
        link = card.get_by_role("link", name=re.compile(r"Download products-\d{4}-\d\d-\d\d\.csv"))
        assert re.fullmatch(r"/api/products/exports/\d+/download", link.get_attribute("href") or "")
        with tab.expect_download(timeout=15_000) as download_info:
            link.click()
        download = download_info.value
        assert re.fullmatch(r"products-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
        lines = list(csv.reader(Path(download.path()).read_text().splitlines()))
        assert lines[0] == ["sku", "name", "description", "price", "active"]
        assert [row[0] for row in lines[1:]] == [f"P-{i:04}" for i in range(6, 121, 6)]
        assert all(row[4] == "false" and "Oak chair" in row[1] for row in lines[1:])
        # A reload shows the finished export again, with its link.
        tab.reload()
        expect(tab.locator(".export-card")).to_have_attribute("data-status", "completed")
        expect(tab.locator(".export-download")).to_be_visible()
        # The same view as a workbook.
        tab.get_by_label("Export format").click()
        tab.get_by_role("option", name="Excel (.xlsx)").click()
        tab.get_by_role("button", name="Export", exact=True).click()
        workbook_link = tab.get_by_role("link", name=re.compile(r"Download products-.*\.xlsx"))
        with tab.expect_download(timeout=30_000) as download_info:
            workbook_link.click()
        assert download_info.value.suggested_filename.endswith(".xlsx")
        workbook = io.BytesIO(Path(download_info.value.path()).read_bytes())
        book = openpyxl.load_workbook(workbook, read_only=True)
        sheet = list(book.worksheets[0].iter_rows(values_only=True))
        assert sheet[0] == ("sku", "name", "description", "price", "active")
        assert [row[0] for row in sheet[1:]] == [f"P-{i:04}" for i in range(6, 121, 6)]
        # Dismissed, it stays away when the view changes.
        tab.get_by_role("button", name="Dismiss the export").click()
        expect(tab.locator(".export-card")).to_have_count(0)
        tab.get_by_label("Filter by name").fill("")
        wait_total(tab, "1–40 of 40 products")
        expect(tab.locator(".export-card")).to_have_count(0)
    except Exception:
        shot(tab, f"{request.node.name}-FAILED")
        raise
    finally:
        context.close()
