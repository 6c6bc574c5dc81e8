"""The column chooser in a real browser: signed in through the form, a file with other
headers is mapped and its mapping saved, and it imports with no second upload; the next
file with the same headers is read with the saved mapping without asking."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ADMIN, Credentials
from tests.e2e.conftest import shot
from tests.e2e.test_import_page import card_locator, choose_file, stat
from tests.support import wait_until

FINISH_TIMEOUT_MS = 90_000


@pytest.fixture
def signed_in_tab(browser, app_url: str, db, worker, credentials: Credentials) -> Iterator:
    """A tab signed in as the admin through the sign-in form, on the Products page."""
    context = browser.new_context(base_url=app_url)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    tab.goto("/products")
    tab.wait_for_url(re.compile(r"/sign-in"))
    tab.get_by_label("User name").fill(ADMIN)
    tab.get_by_label("Password").fill(credentials.admin_password)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(re.compile(r"/products"))
    yield tab
    context.close()


def test_a_mapped_file_imports_without_a_second_upload_and_its_saved_mapping_comes_back(
    signed_in_tab, db: psycopg.Connection, tmp_path: Path
) -> None:
    page = signed_in_tab
    page.get_by_role("link", name="Import", exact=True).click()
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_text("Drop CSV files here").wait_for()

    first = tmp_path / "erp.csv"
    first.write_text('Code X,Label,Notes,Cost\r\nM-1,Chair,Oak,"12,50"\r\nM-2,Table,Ash,3\r\n')
    choose_file(page, first)
    chooser = page.locator(".mapping-chooser")
    chooser.wait_for(timeout=60_000)
    assert "missing column" in page.locator(".upload-problem").inner_text()
    assert db.execute("SELECT count(*) FROM import_jobs").fetchone() == (0,)
    # The file waits in the database, not in the browser.
    assert db.execute("SELECT filename FROM pending_uploads").fetchall() == [("erp.csv",)]
    for field, header in (("sku", "Code X"), ("name", "Label"), ("description", "Notes")):
        page.locator(f".mapping-{field}").click()
        page.get_by_role("option", name=header, exact=True).click()
    page.locator(".mapping-price").click()
    page.get_by_role("option", name="Cost", exact=True).click()
    page.get_by_label("Save this mapping as").fill("ERP export")
    shot(page, "mapping-chooser-save-as")
    page.locator(".use-mapping").click()

    card = card_locator(page, "completed")
    card.wait_for(timeout=FINISH_TIMEOUT_MS)
    assert stat(card, "Created") == "2"
    assert "ERP export" in card.locator(".saved-mapping-used").inner_text()
    assert chooser.count() == 0
    rows = db.execute(
        "SELECT sku, name, description, price::text FROM products ORDER BY sku"
    ).fetchall()
    assert rows == [("M-1", "Chair", "Oak", "12.50"), ("M-2", "Table", "Ash", "3.00")]
    # One upload, one job; the kept file is gone; the mapping is saved and listed.
    assert db.execute("SELECT count(*) FROM import_jobs").fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM pending_uploads").fetchone() == (0,)
    assert db.execute("SELECT name FROM saved_mappings").fetchall() == [("ERP export",)]
    page.locator('.saved-mapping[data-name="ERP export"]').wait_for()

    # A second file with the same header names (another order and case): no question.
    second = tmp_path / "erp-next.csv"
    second.write_text("cost,label,notes,CODE X\r\n4,Lamp,Tin,M-3\r\n")
    choose_file(page, second)
    wait_until(
        lambda: db.execute("SELECT count(*) FROM products").fetchone() == (3,),
        timeout=60,
        what="the second import",
    )
    done = page.locator('.job-card[data-status="completed"]').filter(has_text="erp-next.csv")
    done.wait_for(timeout=FINISH_TIMEOUT_MS)
    assert "ERP export" in done.locator(".saved-mapping-used").inner_text()
    assert page.locator(".mapping-chooser").count() == 0
    assert db.execute(
        "SELECT saved_mapping_name FROM import_jobs WHERE filename = 'erp-next.csv'"
    ).fetchone() == ("ERP export",)
    shot(page, "mapping-saved-applied")

    # Admins rename and delete saved mappings in the Saved mappings section.
    row = page.locator('.saved-mapping[data-name="ERP export"]')
    row.locator(".edit-mapping").click()
    name = page.get_by_label("Name of the saved mapping")
    name.fill("ERP v2")
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator('.saved-mapping[data-name="ERP v2"]').wait_for()
    assert db.execute("SELECT name FROM saved_mappings").fetchall() == [("ERP v2",)]
    renamed = page.locator('.saved-mapping[data-name="ERP v2"]')
    renamed.get_by_role("button", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    page.locator(".saved-mappings").wait_for(state="detached")
    assert db.execute("SELECT count(*) FROM saved_mappings").fetchone() == (0,)
    # The imports that used it keep its name.
    assert db.execute(
        "SELECT saved_mapping_id, saved_mapping_name FROM import_jobs ORDER BY id"
    ).fetchall() == [(None, "ERP export"), (None, "ERP export")]
