"""The Import page in a real browser: upload, live progress, errors, reload, cancel."""

from __future__ import annotations

import contextlib
import csv
import gzip
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from product_importer.imports.kind import IMPORTS
from tests.conftest import TEST_ENV
from tests.e2e.conftest import shot
from tests.support import (
    BAD_ROWS_CSV,
    BAD_ROWS_REPORT,
    HEADER,
    catalog,
    csv_bytes,
    physical_lines,
    wait_until,
)
from tests.test_spreadsheet_uploads import xlsx_bytes, zip_bytes

# Big enough that the import still runs while the test reloads the page or cancels it
# (the test worker commits batches of 200 rows: IMPORT_BATCH_SIZE in tests/conftest.py).
BIG_ROWS = 300_000
FINISH_TIMEOUT_MS = 10 * 60_000


def write_catalog(path: Path, n: int, prefix: str = "E2E") -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        for i in range(n):
            writer.writerow((f"{prefix}-{i:07d}", f"Product {i}", f"Description {i}", "9.99", "1"))
    return path


@pytest.fixture(scope="session")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_catalog(tmp_path_factory.mktemp("e2e") / "big.csv", BIG_ROWS, "BIG")


def choose_file(page, path: Path | list[Path]) -> None:
    paths = path if isinstance(path, list) else [path]
    page.locator("input[type=file]").set_input_files([str(p) for p in paths])


def toast(page, text: str):
    """Sonner's toasts carry a data attribute of their own."""
    return page.locator("[data-sonner-toast]").filter(has_text=text)


def watchers_of(job_id: str) -> int:
    """Tabs following the job: each watcher holds one subscription to the job's channel (no
    SSE client runs in these tests), so this counts watchers across every backend process."""
    client = redis.Redis.from_url(TEST_ENV["REDIS_URL"])
    try:
        [(_channel, count)] = client.pubsub_numsub(IMPORTS.events_channel(int(job_id)))
        return int(count)
    finally:
        client.close()


def card_locator(page, status: str | None = None):
    selector = ".job-card" if status is None else f'.job-card[data-status="{status}"]'
    return page.locator(selector)


def stat(card, label: str) -> str:
    """The value under a stat's label on a job card ("Created", "Skipped"...)."""
    return card.get_by_text(label, exact=True).locator("xpath=..").inner_text().split("\n")[-1]


def job_of(app_api: httpx.Client, job_id: str) -> dict:
    return app_api.get(f"/api/imports/{job_id}").json()


def wait_processing(page, app_api: httpx.Client, min_rows: int = 1):
    """The running card, once its job is processing and has applied some rows."""
    card = card_locator(page).first
    card.wait_for(timeout=FINISH_TIMEOUT_MS)
    job_id = card.get_attribute("data-job-id")
    page.wait_for_function(
        """([id]) => {
            const c = document.querySelector(`.job-card[data-job-id="${id}"]`);
            return c && c.getAttribute("data-status") === "processing";
        }""",
        arg=[job_id],
        timeout=FINISH_TIMEOUT_MS,
    )
    deadline_ms, waited = 120_000, 0
    while job_of(app_api, job_id)["processed_rows"] < min_rows and waited < deadline_ms:
        page.wait_for_timeout(100)
        waited += 100
    job = job_of(app_api, job_id)
    assert job["status"] == "processing", job
    return card_locator(page).first, job_id


@contextlib.contextmanager
def products_paused(database_url: str) -> Iterator[None]:
    """Hold the worker still: a SHARE lock on products blocks its writes until released, so a
    running import stays running while the test reloads or cancels, however fast the machine.
    A short lock_timeout and retries keep this lock from ever waiting in a cycle."""
    with psycopg.connect(database_url) as conn:
        conn.execute("SET lock_timeout = '2s'")
        deadline = time.monotonic() + 120
        while True:
            try:
                conn.execute("LOCK TABLE products IN SHARE MODE")
                break
            except psycopg.errors.LockNotAvailable:
                conn.rollback()
                conn.execute("SET lock_timeout = '2s'")
                if time.monotonic() > deadline:
                    raise
        try:
            yield
        finally:
            conn.rollback()


def test_upload_shows_live_card_until_completed(page, app_api, db, tmp_path) -> None:
    path = write_catalog(tmp_path / "catalog-20k.csv", 20_000)
    choose_file(page, path)
    card = card_locator(page).first
    card.wait_for(timeout=120_000)
    shot(page, "a-upload-running")
    done = card_locator(page, "completed")
    done.wait_for(timeout=FINISH_TIMEOUT_MS)
    shot(page, "a-upload-completed")

    assert re.search(r"\b100(\.0)?%", done.inner_text())
    assert stat(done, "Created") == "20,000"
    assert stat(done, "Skipped") == "0"
    assert "20,000 / 20,000 rows" in done.inner_text()
    # Finished: how long it took and its average rate, no speed or time left any more.
    assert done.locator('.status-badge[data-outcome="all_applied"]').inner_text() == (
        "all rows applied"
    )
    assert stat(done, "Took") != "—" and stat(done, "Average rate").endswith("rows/s")
    assert done.get_by_text("Time left", exact=True).count() == 0
    job_id = done.get_attribute("data-job-id")
    job = job_of(app_api, job_id)
    assert (job["status"], job["total_rows"], job["created"], job["skipped"]) == (
        "completed",
        20_000,
        20_000,
        0,
    )
    assert db.execute("SELECT count(*) FROM products").fetchone() == (20_000,)
    assert db.execute("SELECT count(*) FROM import_jobs").fetchone() == (1,)
    # The history shows the finished job too, and a toast says how it ended, once.
    page.locator("table").get_by_text("catalog-20k.csv").wait_for()
    done_toast = toast(page, "catalog-20k.csv imported")
    done_toast.wait_for()
    assert "20,000 created" in done_toast.inner_text()
    shot(page, "a-upload-toast")
    assert done_toast.count() == 1
    # A reload shows the finished job in the history, not its toast again.
    page.reload()
    page.locator(f'.history-row[data-job-id="{job_id}"]').wait_for()
    page.wait_for_timeout(1_500)  # room for a wrongly repeated toast to arrive
    assert toast(page, "catalog-20k.csv").count() == 0


def test_missing_column_is_refused_without_a_job(
    page, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "no-description.csv"
    path.write_text("sku,name,price\nA-1,Thing,1.00\nA-2,Other,2.00\n")
    choose_file(page, path)
    alert = page.locator(".upload-problem")
    alert.wait_for(timeout=60_000)
    assert "missing column: description" in alert.inner_text()
    assert "no-description.csv" in alert.inner_text()
    toast(page, "missing column: description").wait_for()
    shot(page, "b-missing-column")
    assert card_locator(page).count() == 0
    assert db.execute("SELECT count(*) FROM import_jobs").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM products").fetchone() == (0,)
    page.get_by_text("No imports yet.").wait_for()


def import_bad_rows(page, tmp_path: Path):
    """Upload the bad-rows file; answer its completed card, the job id and the errors link."""
    path = tmp_path / "bad-rows.csv"
    path.write_bytes(BAD_ROWS_CSV)
    choose_file(page, path)
    done = card_locator(page, "completed")
    done.wait_for(timeout=FINISH_TIMEOUT_MS)
    job_id = done.get_attribute("data-job-id")
    link = done.get_by_role("link", name="errors.csv")
    link.wait_for()
    return done, job_id, link


def test_bad_rows_are_skipped_and_the_error_report_is_linked(page, tmp_path) -> None:
    done, job_id, link = import_bad_rows(page, tmp_path)
    shot(page, "c-bad-rows")
    assert stat(done, "Created") == "3"
    assert stat(done, "Skipped") == "4"
    href = link.get_attribute("href")
    assert href == f"/api/imports/{job_id}/errors.csv"

    # Fetched by the browser's own context (same origin, cookies), as the link would be.
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="import-{job_id}-errors.csv"' in response.headers["content-disposition"]
    assert list(csv.reader(response.text().splitlines())) == BAD_ROWS_REPORT


def test_clicking_the_errors_link_downloads_the_report(page, tmp_path) -> None:
    _done, job_id, link = import_bad_rows(page, tmp_path)
    with page.expect_download(timeout=15_000) as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"import-{job_id}-errors.csv"
    lines = list(csv.reader(Path(download.path()).read_text().splitlines()))
    assert lines == BAD_ROWS_REPORT


def test_the_template_link_downloads_a_file_that_imports_as_is(page, db, tmp_path) -> None:
    link = page.locator(".template-link")
    assert link.get_attribute("href") == "/api/imports/template.csv"
    with page.expect_download(timeout=15_000) as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "products-template.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert next(csv.reader(saved.open())) == list(HEADER)

    choose_file(page, saved)
    done = card_locator(page, "completed")
    done.wait_for(timeout=FINISH_TIMEOUT_MS)
    shot(page, "f-template-imported")
    assert stat(done, "Created") == "2"
    assert stat(done, "Skipped") == "0"
    assert db.execute("SELECT count(*) FROM products").fetchone() == (2,)


def test_reload_reattaches_to_a_running_import(page, app_api, database, db, big_csv) -> None:
    choose_file(page, big_csv)
    card, job_id = wait_processing(page, app_api, min_rows=1_000)
    with products_paused(database):  # at once: the job must still run at the reload
        shot(page, "d-before-reload")
        page.reload()
        again = page.locator(f'.job-card[data-job-id="{job_id}"]')
        again.wait_for(timeout=60_000)
        assert again.get_attribute("data-status") == "processing"  # re-attached while running
        assert job_of(app_api, job_id)["status"] == "processing"
        # The watcher of the page before the reload has made way: one watcher, not two.
        wait_until(lambda: watchers_of(job_id) == 1, timeout=30, what="one watcher")
        shot(page, "d-after-reload")
    # Live updates reach the reloaded tab: the processed count moves on.
    first = stat(again, "Processed")
    page.wait_for_function(
        """([id, first]) => {
            const c = document.querySelector(`.job-card[data-job-id="${id}"]`);
            return c && (c.innerText.indexOf(first) < 0 || c.dataset.status !== "processing");
        }""",
        arg=[job_id, first],
        timeout=120_000,
    )

    done = page.locator(f'.job-card[data-job-id="{job_id}"][data-status="completed"]')
    done.wait_for(timeout=FINISH_TIMEOUT_MS)
    shot(page, "d-completed-after-reload")
    assert re.search(r"\b100(\.0)?%", done.inner_text())
    assert stat(done, "Created") == f"{BIG_ROWS:,}"
    assert db.execute("SELECT count(*) FROM products").fetchone() == (BIG_ROWS,)


def test_cancel_a_running_import_from_its_card(page, app_api, database, db, big_csv) -> None:
    choose_file(page, big_csv)
    card, job_id = wait_processing(page, app_api, min_rows=1_000)
    with products_paused(database):
        shot(page, "e-before-cancel")
        card.get_by_role("button", name="Cancel import").click()
        # The click reaches the backend while the worker is still mid-import.
        wait_until(
            lambda: (
                db.execute(
                    "SELECT cancel_requested FROM import_jobs WHERE id = %s", (int(job_id),)
                ).fetchone()
                == (True,)
            ),
            timeout=30,
            what="the cancel request",
        )
        assert job_of(app_api, job_id)["status"] == "processing"

    cancelled = page.locator(f'.job-card[data-job-id="{job_id}"][data-status="cancelled"]')
    cancelled.wait_for(timeout=120_000)
    shot(page, "e-cancelled")
    job = job_of(app_api, job_id)
    assert job["status"] == "cancelled", job
    assert job["processed_rows"] < BIG_ROWS
    assert cancelled.get_by_role("button", name="Cancel import").count() == 0


def test_several_files_in_one_drop_get_a_job_or_a_message_each(page, app_url, db, tmp_path):
    refused = tmp_path / "no-description.csv"
    refused.write_text("sku,name,price\nA-1,Thing,1.00\n" + "A-2,Other,2.00\n" * 2000)
    good = write_catalog(tmp_path / "good.csv", 500)
    # The refused file comes first: the good one after it must still be read whole.
    choose_file(page, [refused, good])

    done = card_locator(page, "completed")
    done.wait_for(timeout=FINISH_TIMEOUT_MS)
    problem = page.locator(".upload-problem")
    problem.wait_for()
    shot(page, "f-two-files-one-drop")
    assert problem.count() == 1
    assert "no-description.csv" in problem.inner_text()
    assert "missing column: description" in problem.inner_text()
    assert card_locator(page).count() == 1
    assert "good.csv" in done.inner_text()
    assert stat(done, "Created") == "500"
    assert db.execute("SELECT filename, total_rows, created FROM import_jobs").fetchall() == [
        ("good.csv", 500, 500)
    ]
    toast(page, "good.csv imported").wait_for()
    toast(page, "no-description.csv").wait_for()


def test_a_workbook_a_zip_and_a_gz_file_are_taken_by_the_drop_zone(page, db, tmp_path) -> None:
    book = tmp_path / "catalog.xlsx"
    book.write_bytes(xlsx_bytes({"Sheet": [list(HEADER), *map(list, catalog(3, prefix="XL"))]}))
    archive = tmp_path / "catalog.zip"
    archive.write_bytes(zip_bytes({"catalog.csv": csv_bytes(catalog(4, prefix="ZP"))}))
    packed = tmp_path / "catalog.csv.gz"
    packed.write_bytes(gzip.compress(csv_bytes(catalog(5, prefix="GZ"))))
    choose_file(page, [book, archive, packed])

    wait_until(
        lambda: card_locator(page, "completed").count() == 3, timeout=120, what="three imports"
    )
    shot(page, "f-workbook-zip-gz")
    assert page.locator(".upload-problem").count() == 0
    assert sorted(db.execute("SELECT filename, created FROM import_jobs").fetchall()) == [
        ("catalog.csv.gz", 5),
        ("catalog.xlsx", 3),
        ("catalog.zip", 4),
    ]


# Files as hand-edited files and exporters leave them (issue: the upload hung on each of
# the first four). Name: (bytes, rows the job counts, or the words of its refusal).
ENDINGS: dict[str, tuple[bytes, int | str]] = {
    "no-final-break.csv": (b"sku,name,description\nA1,n,d\nA2,m,e", 2),
    "header-only.csv": (b"sku,name,description", 0),
    "lone-cr.csv": (b"sku,name,description\r\nB1,n,d\r", 1),
    "unclosed-quote.csv": (b'sku,name,description\nC1,n,"d\nC2,m,e', 2),
    "empty.csv": (b"", "the file is empty"),
    "binary.csv": (bytes(range(256)) * 8, "looks binary"),
    "nul-header.csv": (b"sku,name,de\x00scription\nD1,n,d", "looks binary"),
}


def test_files_without_a_final_line_break_and_broken_files_end_in_a_job_or_a_message(
    page, db, tmp_path
) -> None:
    """Every shape through the browser's chunked upload, in one drop: each file ends in a
    job that completes or a message naming the problem, and the drop ends."""
    paths = []
    for name, (data, _) in ENDINGS.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    choose_file(page, paths)

    refusals = {n: words for n, (_, words) in ENDINGS.items() if isinstance(words, str)}
    problems = page.locator(".upload-problem")
    wait_until(lambda: problems.count() == len(refusals), timeout=120, what="every refusal")
    page.get_by_text("uploading", exact=True).wait_for(state="detached", timeout=120_000)
    accepted = {n: rows for n, (_, rows) in ENDINGS.items() if isinstance(rows, int)}
    wait_until(
        lambda: (
            db.execute("SELECT count(*) FROM import_jobs WHERE status = 'completed'").fetchone()[0]
            == len(accepted)
        ),
        timeout=120,
        what="every accepted file's job to complete",
    )
    shot(page, "f-line-ends-and-broken-files")
    jobs = db.execute("SELECT filename, total_rows, file_lines FROM import_jobs").fetchall()
    assert {name: rows for name, rows, _ in jobs} == accepted
    for name, _, lines in jobs:
        assert lines == physical_lines(ENDINGS[name][0], "utf-8"), name
    shown = [problems.nth(i).inner_text() for i in range(problems.count())]
    for name, words in refusals.items():
        assert any(name in text and words in text for text in shown), (name, shown)
    assert db.execute(
        "SELECT count(*) FROM pg_tables WHERE tablename ~ '^import_(staging|dedup)_'"
    ).fetchone() == (0,)


def test_history_is_paginated_newest_first(page, app_api, db) -> None:
    ids = []
    for i in range(12):
        body = f"sku,name,description\nH-{i},Item {i},Text {i}\n".encode()
        response = app_api.post("/api/imports", files={"file": (f"h{i:02d}.csv", body)})
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    wait_until(
        lambda: all(job_of(app_api, str(i))["status"] == "completed" for i in ids),
        timeout=120,
        what="12 imports",
    )
    page.reload()
    rows = page.locator(".history-row")
    page.locator(f'.history-row[data-job-id="{ids[-1]}"]').wait_for()
    assert "12 in all" in page.locator(".history-total").inner_text()
    assert page.locator(".history-page").inner_text() == "Page 1 of 2"
    assert [r.get_attribute("data-job-id") for r in rows.all()] == [
        str(i) for i in reversed(ids[2:])
    ]
    first = rows.first.inner_text()
    assert "h11.csv" in first and "all rows applied" in first
    assert page.get_by_role("button", name="Newer").is_disabled()
    shot(page, "g-history-page-1")

    page.get_by_role("button", name="Older").click()
    page.locator(f'.history-row[data-job-id="{ids[0]}"]').wait_for()
    assert page.locator(".history-page").inner_text() == "Page 2 of 2"
    assert [r.get_attribute("data-job-id") for r in rows.all()] == [str(ids[1]), str(ids[0])]
    assert page.get_by_role("button", name="Older").is_disabled()
    shot(page, "g-history-page-2")
    page.get_by_role("button", name="Newer").click()
    page.locator(f'.history-row[data-job-id="{ids[-1]}"]').wait_for()


def test_closing_the_tab_stops_its_watcher(page, app_api, database, db, logs, big_csv) -> None:
    choose_file(page, big_csv)
    _card, job_id = wait_processing(page, app_api, min_rows=1)
    stopped = re.compile(rf"stopped watching import {job_id} for tab \S+: tab gone")
    try:
        with products_paused(database):
            wait_until(lambda: watchers_of(job_id) == 1, timeout=30, what="the tab's watcher")
            page.close()
            # The job runs on (held still here), but its watcher ends, says why, and lets
            # go of the job's channel.
            wait_until(
                lambda: stopped.search((logs / "app.log").read_text(errors="replace")) is not None,
                timeout=60,
                what="the watcher to stop because its tab is gone",
            )
            wait_until(lambda: watchers_of(job_id) == 0, timeout=30, what="no subscriber left")
            assert job_of(app_api, job_id)["status"] == "processing"
    finally:
        # The next test starts from an empty history: this job must end first.
        app_api.post(f"/api/imports/{job_id}/cancel")
        wait_until(
            lambda: job_of(app_api, job_id)["status"] in ("cancelled", "completed", "failed"),
            timeout=120,
            what="the job to end",
        )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_layout_fits_a_phone_and_a_laptop(page, app_url, db, tmp_path, scheme) -> None:
    """Nothing sticks out of the window sideways; the wide history table scrolls in its box."""
    sizes = {"phone": (390, 844), "laptop": (1366, 768)}
    page.emulate_media(color_scheme=scheme)

    def check(label: str, expect_history: bool) -> None:
        for name, (width, height) in sizes.items():
            page.set_viewport_size({"width": width, "height": height})
            page.reload()
            page.get_by_text("Drop CSV files here").wait_for()
            if expect_history:
                page.locator(".history-row").first.wait_for()
                card_locator(page).first.wait_for()
            else:
                page.get_by_text("No imports yet.").wait_for()
            shot(page, f"h-{label}-{name}-{scheme}")
            page_width = page.evaluate("document.documentElement.scrollWidth")
            assert page_width <= width, f"{label} at {name}: the page is {page_width}px wide"
            if expect_history and name == "phone":
                # The table scrolls sideways inside its box (Radix's scroll area).
                box = page.locator(".history-table")
                assert box.evaluate("b => b.getBoundingClientRect().right") <= width
                assert box.evaluate(
                    """b => [b, ...b.querySelectorAll("*")].some(
                        e => e.scrollWidth > e.clientWidth + 1
                            && getComputedStyle(e).overflowX !== "visible")"""
                )

    check("empty", expect_history=False)
    # A finished card with skipped rows and its line in the history.
    path = tmp_path / "bad-rows.csv"
    path.write_bytes(BAD_ROWS_CSV)
    choose_file(page, path)
    card_locator(page, "completed").wait_for(timeout=FINISH_TIMEOUT_MS)
    check("with-history", expect_history=True)


def test_a_killed_worker_shows_waiting_for_a_worker_then_resumes(
    page, app_api, db, big_csv, worker
) -> None:
    choose_file(page, big_csv)
    card, job_id = wait_processing(page, app_api, min_rows=1_000)
    worker.kill(signal.SIGKILL)
    waiting = card.locator(".waiting-for-worker")
    waiting.wait_for(timeout=30_000)
    assert "Waiting for a worker" in waiting.inner_text()
    assert card.get_attribute("data-status") == "processing"
    shot(page, "h-waiting-for-a-worker")
    worker.ensure_running()
    done = page.locator(f'.job-card[data-job-id="{job_id}"][data-status="completed"]')
    done.wait_for(timeout=FINISH_TIMEOUT_MS)
    assert done.locator(".waiting-for-worker").count() == 0
    assert stat(done, "Created") == f"{BIG_ROWS:,}"
    assert db.execute("SELECT count(*) FROM products").fetchone() == (BIG_ROWS,)
    shot(page, "h-resumed-and-completed")


def test_an_unclear_header_gets_a_column_chooser_and_imports_with_it(
    page, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_text('Code X,Label,Notes,Cost\r\nM-1,Chair,Oak,"12,50"\r\nM-2,Table,Ash,3')
    choose_file(page, path)
    chooser = page.locator(".mapping-chooser")
    chooser.wait_for(timeout=60_000)
    assert "missing column" in page.locator(".upload-problem").inner_text()
    assert db.execute("SELECT count(*) FROM import_jobs").fetchone() == (0,)
    # Choose the columns the suggestions did not find: the kept file imports with them.
    for field, header in (("sku", "Code X"), ("name", "Label"), ("description", "Notes")):
        page.locator(f".mapping-{field}").click()
        page.get_by_role("option", name=header, exact=True).click()
    page.locator(".mapping-price").click()
    page.get_by_role("option", name="Cost", exact=True).click()
    shot(page, "b-mapping-chooser")
    page.locator(".use-mapping").click()
    try:
        wait_until(
            lambda: db.execute("SELECT count(*) FROM products").fetchone() == (2,),
            timeout=60,
            what="the mapped import",
        )
    except AssertionError:
        problems = page.locator(".upload-problem").all_inner_texts()
        jobs = db.execute("SELECT status, error_message FROM import_jobs").fetchall()
        raise AssertionError(f"problems: {problems}; jobs: {jobs}") from None
    rows = db.execute(
        "SELECT sku, name, description, price::text FROM products ORDER BY sku"
    ).fetchall()
    assert rows == [("M-1", "Chair", "Oak", "12.50"), ("M-2", "Table", "Ash", "3.00")]
