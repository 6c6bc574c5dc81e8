"""A tab whose websocket is down while its job ends: when it connects again, its card shows
the job's end, not the last update it saw.

The tab's websocket goes through a Playwright route, which the test cuts and then keeps
refusing, so the tab stays away until the test lets it back. The tab's watcher meanwhile
gives up on it (no subscriber is left on the job's channel) and the job ends with nobody
pushing its end to the tab: what the tab shows after it reconnects comes from the page
itself, never from a race with the old watcher.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import psycopg
import pytest
import redis
from playwright.sync_api import expect

from product_importer.imports.kind import IMPORTS
from product_importer.jobs.kind import JobKind
from product_importer.products.bulk_delete import BULK_DELETE
from product_importer.products.export_jobs import EXPORTS
from tests.conftest import TEST_ENV, Process
from tests.e2e.conftest import open_tab
from tests.e2e.test_import_page import choose_file, products_paused, write_catalog
from tests.e2e.test_products_page import seed, writers_held
from tests.support import wait_until

# Generous, never a timing claim: how long a watcher takes to give up on a gone tab
# (ui/job_watch.py, a few seconds) and a job takes to end.
GIVE_UP_TIMEOUT_S = 60
END_TIMEOUT_S = 120
SHOW_TIMEOUT_MS = 60_000


class HeldSocket:
    """The tab's websockets, through a route the test can cut and keep closed."""

    def __init__(self, tab) -> None:
        self.held = False
        self._open: list = []
        tab.route_web_socket(re.compile(r"/_event"), self._route)

    def _route(self, ws) -> None:
        if self.held:
            ws.close()  # refused: the tab tries again a little later
            return
        self._open.append((ws, ws.connect_to_server()))

    def cut_and_hold(self) -> None:
        """Close the tab's websocket (both sides) and refuse its reconnects."""
        assert self._open, "the tab has no websocket"
        self.held = True
        for page_side, server_side in self._open:
            page_side.close()
            server_side.close()
        self._open.clear()

    def release(self) -> None:
        self.held = False


def watchers_of(kind: JobKind, job_id: int) -> int:
    """Tabs following the job: each watcher holds one subscription to its channel."""
    client = redis.Redis.from_url(TEST_ENV["REDIS_URL"])
    try:
        [(_channel, count)] = client.pubsub_numsub(kind.events_channel(job_id))
        return int(count)
    finally:
        client.close()


def away_until_the_watcher_gives_up(socket: HeldSocket, kind: JobKind, job_id: int) -> None:
    assert watchers_of(kind, job_id) >= 1
    socket.cut_and_hold()
    wait_until(
        lambda: watchers_of(kind, job_id) == 0,
        timeout=GIVE_UP_TIMEOUT_S,
        what="the watcher to give up on the gone tab",
    )


def status_of(db: psycopg.Connection, table: str, job_id: int) -> str:
    row = db.execute(f"SELECT status FROM {table} WHERE id = %s", (job_id,)).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
def held_tab(browser, app_url: str, db, worker, credentials, request) -> Iterator:
    """A signed-in admin's tab whose websocket the test can hold; opened on no page yet."""
    with open_tab(browser, app_url, "about:blank", request) as tab:
        yield tab, HeldSocket(tab)


def test_a_delete_all_that_ends_while_the_tab_is_away_shows_completed(
    held_tab, database: str, db
) -> None:
    tab, socket = held_tab
    seed(db, 500)
    tab.goto("/products")
    tab.get_by_text("1–50 of 500 products").wait_for()
    tab.get_by_role("button", name="Delete all").click()
    dialog = tab.get_by_role("alertdialog")
    dialog.get_by_label("Type DELETE to confirm").fill("DELETE")
    with writers_held(database):
        dialog.get_by_role("button", name="Delete all products").click()
        card = tab.locator('.bulk-delete-card[data-status="processing"]')
        card.wait_for()
        (job_id,) = db.execute("SELECT max(id) FROM bulk_delete_jobs").fetchone()
        away_until_the_watcher_gives_up(socket, BULK_DELETE, job_id)
    wait_until(
        lambda: status_of(db, "bulk_delete_jobs", job_id) == "completed",
        timeout=END_TIMEOUT_S,
        what="the delete to end",
    )
    # The tab still shows the delete running: nothing reached it since.
    expect(card).to_have_count(1)
    socket.release()
    done = tab.locator('.bulk-delete-card[data-status="completed"]')
    done.wait_for(timeout=SHOW_TIMEOUT_MS)
    assert done.get_attribute("data-percent") == "100"
    assert "Deleted 500 products." in done.inner_text()
    tab.get_by_text("No products yet").wait_for()


def test_an_export_cancelled_while_the_tab_is_away_shows_cancelled(
    held_tab, db, worker: Process, app_api: httpx.Client
) -> None:
    """Cancelled is not what a reload shows (the running or last completed export): the
    card's own job is followed again."""
    tab, socket = held_tab
    seed(db, 20)
    tab.goto("/products")
    tab.get_by_text("1–20 of 20 products").wait_for()
    worker.stop()  # the export waits for a worker until the test cancels it
    try:
        tab.get_by_role("button", name="Export", exact=True).click()
        card = tab.locator(".export-card")
        expect(card).to_have_attribute("data-status", "pending")
        (job_id,) = db.execute("SELECT max(id) FROM export_jobs").fetchone()
        away_until_the_watcher_gives_up(socket, EXPORTS, job_id)
        answer = app_api.post(f"/api/products/exports/{job_id}/cancel")
        assert answer.status_code == 202, answer.text
        assert status_of(db, "export_jobs", job_id) == "cancelled"
        expect(card).to_have_attribute("data-status", "pending")
        socket.release()
        expect(card).to_have_attribute("data-status", "cancelled", timeout=SHOW_TIMEOUT_MS)
        expect(card.locator(".export-message")).to_have_text("The export was cancelled.")
    finally:
        worker.ensure_running()


def test_an_import_that_ends_while_the_tab_is_away_shows_completed(
    held_tab, database: str, db, tmp_path
) -> None:
    tab, socket = held_tab
    tab.goto("/")
    tab.get_by_text("Drop CSV files here").wait_for()
    path = write_catalog(tmp_path / "away.csv", 2000)
    with products_paused(database):
        choose_file(tab, path)
        card = tab.locator('.job-card[data-status="processing"]')
        card.wait_for(timeout=SHOW_TIMEOUT_MS)
        job_id = int(card.get_attribute("data-job-id") or 0)
        away_until_the_watcher_gives_up(socket, IMPORTS, job_id)
    wait_until(
        lambda: status_of(db, "import_jobs", job_id) == "completed",
        timeout=END_TIMEOUT_S,
        what="the import to end",
    )
    expect(card).to_have_count(1)
    socket.release()
    done = tab.locator(f'.job-card[data-job-id="{job_id}"][data-status="completed"]')
    done.wait_for(timeout=SHOW_TIMEOUT_MS)
    assert db.execute("SELECT count(*) FROM products").fetchone() == (2000,)
