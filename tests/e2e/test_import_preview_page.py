"""A previewed import in a real browser: Preview first, the card's counts and changes
before anything is written, then Apply."""

from __future__ import annotations

from pathlib import Path

import httpx
import psycopg

from tests.e2e.conftest import shot
from tests.e2e.test_import_page import card_locator, choose_file, job_of, stat
from tests.support import csv_bytes, wait_for_job, wait_until


def test_preview_first_shows_what_would_change_then_apply_imports_it(
    page, app_api: httpx.Client, db: psycopg.Connection, tmp_path: Path
) -> None:
    first = [("P-1", "Chair", "Oak", "10.00", "yes"), ("P-2", "Table", "Ash", "20.00", "yes")]
    seeded = app_api.post(
        "/api/imports", files={"file": ("seed.csv", csv_bytes(first), "text/csv")}
    )
    assert wait_for_job(app_api, seeded.json()["id"])["created"] == 2
    page.reload()
    second = [
        ("P-1", "Chair", "Oak", "12.50", "yes"),
        ("P-2", "Table", "Ash", "20.00", "yes"),
        ("P-3", "Stool", "Elm", "5.00", "yes"),
        ("", "no sku", "d", "1", "yes"),
    ]
    path = tmp_path / "second.csv"
    path.write_bytes(csv_bytes(second))
    page.locator(".preview-first").click()
    choose_file(page, path)
    panel = page.locator(".preview-panel")
    panel.wait_for(timeout=120_000)
    card = card_locator(page).first
    page.locator(".preview-change").first.wait_for()
    shot(page, "p-preview")
    assert (stat(panel, "New"), stat(panel, "Changed"), stat(panel, "Unchanged")) == (
        "1",
        "1",
        "1",
    )
    assert (stat(panel, "Repeated"), stat(panel, "Bad")) == ("0", "1")
    # A preview shows no progress: it runs only once applied.
    assert card.get_by_text("Processed", exact=True).count() == 0
    assert page.locator(".preview-change").all_inner_texts() == ["P-1: price 10.00 → 12.50"]
    # Nothing written yet.
    assert db.execute("SELECT count(*) FROM products").fetchone() == (2,)
    job_id = card.get_attribute("data-job-id")
    assert job_of(app_api, job_id)["stage"] == "previewed"

    card.locator(".apply-preview").click()
    done = card_locator(page, "completed")
    done.wait_for(timeout=120_000)
    shot(page, "p-applied")
    assert (stat(done, "Created"), stat(done, "Updated"), stat(done, "Unchanged")) == (
        "1",
        "1",
        "1",
    )
    assert page.locator(".apply-preview").count() == 0
    wait_until(
        lambda: db.execute("SELECT count(*) FROM products").fetchone() == (3,),
        timeout=30,
        what="the applied preview",
    )
    assert db.execute("SELECT price::text FROM products WHERE sku = 'P-1'").fetchone() == ("12.50",)


def test_a_preview_asks_how_prices_that_read_two_ways_are_meant_and_reads_them_again(
    page, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "prices.csv"
    path.write_bytes(b'sku,name,description,price\nA-1,Lamp,d,"1,299"\nA-2,Cup,d,4\n')
    page.locator(".preview-first").click()
    choose_file(page, path)
    question = page.locator(".price-style-question")
    question.wait_for(timeout=120_000)
    assert "reads two ways" in question.inner_text()
    panel = page.locator(".preview-panel")
    assert (stat(panel, "New"), stat(panel, "Bad")) == ("1", "1")
    first_id = card_locator(page).first.get_attribute("data-job-id")
    shot(page, "p-price-style-question")

    page.locator(".price-decimal").click()
    page.get_by_role("option", name="Decimal point (1,299.00)").click()
    # A new preview, read again from the kept file, replaces the card.
    card = page.locator(".job-card:has(.preview-panel)").first
    wait_until(
        lambda: (
            card.get_attribute("data-job-id") not in (None, first_id) and stat(card, "New") == "2"
        ),
        timeout=60,
        what="the preview read again",
    )
    assert "decimal point" in card.locator(".price-style").inner_text()
    assert page.locator(".price-style-question").count() == 0
    card.locator(".apply-preview").click()
    wait_until(
        lambda: db.execute("SELECT count(*) FROM products").fetchone() == (2,),
        timeout=60,
        what="the applied preview",
    )
    assert db.execute("SELECT price::text FROM products WHERE sku = 'A-1'").fetchone() == (
        "1299.00",
    )
