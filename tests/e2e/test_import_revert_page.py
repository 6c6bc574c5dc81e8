"""Reverting an import from the Import page's history: the Revert button, its confirm
dialog, the revert's progress live in the history line, then "reverted"."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import shot
from tests.support import catalog, csv_bytes, wait_for_job


def import_now(app_api: httpx.Client, data: bytes, filename: str) -> dict:
    response = app_api.post("/api/imports", files={"file": (filename, data, "text/csv")})
    assert response.status_code == 202, response.text
    return wait_for_job(app_api, response.json()["id"], timeout=120)


def test_revert_an_import_from_its_history_line(page, app_api, db) -> None:
    first = import_now(app_api, csv_bytes(catalog(100)), "first.csv")
    changed = [(f"SKU-{i:06d}", "changed", "d", "1.00", "true") for i in range(50)]
    second = import_now(app_api, csv_bytes(changed + catalog(3000, prefix="NEW")), "second.csv")
    before = db.execute("SELECT sku, name, price FROM products WHERE sku LIKE 'SKU-%'").fetchall()
    page.reload()
    row = page.locator(f'.history-row[data-job-id="{second["id"]}"]')
    row.wait_for()
    assert page.locator(f'.history-row[data-job-id="{first["id"]}"] .revert-button').count() == 1

    row.locator(".revert-button").click()
    dialog = page.get_by_role("alertdialog")
    dialog.get_by_text(f"Revert import {second['id']}?").wait_for()
    shot(page, "r-revert-confirm")
    dialog.get_by_role("button", name="Revert").click()

    row.locator(".revert-status").filter(has_text="reverted").wait_for(timeout=120_000)
    page.locator("[data-sonner-toast]").filter(has_text="second.csv reverted").wait_for()
    shot(page, "r-reverted")
    assert row.locator(".revert-button").count() == 0
    assert db.execute("SELECT count(*) FROM products").fetchone() == (100,)
    after = db.execute("SELECT sku, name, price FROM products WHERE sku LIKE 'SKU-%'").fetchall()
    assert sorted(after) != sorted(before)  # the changed names came back
    assert db.execute("SELECT count(*) FROM products WHERE name = 'changed'").fetchone() == (0,)
    # A reload still shows it reverted.
    page.reload()
    row.locator(".revert-status").filter(has_text="reverted").wait_for()
