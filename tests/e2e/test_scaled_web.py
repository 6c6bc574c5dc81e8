"""Two web processes behind one address, with Reflex's state in Redis, and two workers.

A round-robin proxy (tests/balancer.py) sends each HTTP request to the next web process
and keeps each websocket where it landed; cutting the websockets makes the tab reconnect to
the other process, while the watcher that follows its job keeps running where it started.
Sign-in through the form, uploads, live import cards and delete-all progress must work
whichever process serves each request.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.balancer import Balancer
from tests.conftest import ADMIN, ROOT, TEST_ENV, Credentials, Process
from tests.e2e.conftest import APP_ENV, APP_START_TIMEOUT_S, _tail, shot, signed_in_context
from tests.e2e.test_products_page import seed, writers_held
from tests.support import HEADER, free_port, wait_until

# The frontend of this test is built for the proxy's address, so it gets a folder of its
# own: the single-process app of the other browser tests keeps `.web`.
WEB_DIR = ROOT / ".web-scaled"
ROWS = 60_000
FINISH_TIMEOUT_MS = 10 * 60_000


def _wait_ready(proc: Process, base: str, log: Path) -> None:
    deadline = time.monotonic() + APP_START_TIMEOUT_S
    while True:
        assert proc.proc is not None
        if proc.proc.poll() is not None:
            pytest.fail(f"a web process exited with {proc.proc.returncode}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(
                f"a web process did not answer in {APP_START_TIMEOUT_S:.0f}s:\n{_tail(log)}"
            )
        try:
            page = httpx.get(base + "/", timeout=2)
            api = httpx.get(base + "/health", timeout=2)
            if page.status_code == 200 and api.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)


@pytest.fixture(scope="module")
def scaled(database: str, worker_process: Process, logs: Path) -> Iterator[dict]:
    """Two web processes and a second worker (the session's worker is the first), on the
    test database and Redis; the proxy's address is the one address of the app."""
    from product_importer.launcher import prepare_frontend_tools, web_command

    ports = [free_port(), free_port()]
    balancer = Balancer([("127.0.0.1", port) for port in ports])
    balancer.start()
    env = {**os.environ, **APP_ENV}
    prepare_frontend_tools(env)
    env.update(
        {
            # The README's settings for several web processes.
            "REFLEX_REDIS_URL": TEST_ENV["REDIS_URL"],
            "REFLEX_API_URL": f"http://localhost:{balancer.port}",
            "REFLEX_WEB_WORKDIR": str(WEB_DIR),
        }
    )
    webs: list[Process] = []
    second_worker = Process(
        [sys.executable, "-m", "dramatiq", "product_importer.worker"]
        + ["--processes", "1", "--threads", "2"],
        {**os.environ, **TEST_ENV},
        logs / "worker-2.log",
    )
    try:
        second_worker.start()
        # One after the other: each builds the frontend (the same files) before serving.
        for i, port in enumerate(ports):
            log = logs / f"web-{i}.log"
            web = Process([sys.executable, *web_command(port)], {**env, "PORT": str(port)}, log)
            webs.append(web)
            web.start()
            _wait_ready(web, f"http://127.0.0.1:{port}", log)
        yield {
            "url": f"http://127.0.0.1:{balancer.port}",
            "balancer": balancer,
            "logs": [logs / f"web-{i}.log" for i in range(len(ports))],
        }
    finally:
        balancer.stop()
        for web in webs:
            web.stop()
            if web.proc is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(web.proc.pid, signal.SIGKILL)
        second_worker.stop()


@pytest.fixture
def fresh(scaled: dict, db, worker) -> dict:
    scaled["balancer"].served.clear()
    return scaled


def _write_catalog(path: Path, n: int) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        for i in range(n):
            writer.writerow((f"SC-{i:07d}", f"Product {i}", f"Description {i}", "9.99", "1"))
    return path


def _reconnected_elsewhere(balancer: Balancer, tab) -> int:
    """Cut the tab's websocket; answer the process its new websocket reached."""
    before = len([s for s in balancer.served if s.websocket])
    assert balancer.cut_websockets() >= 1
    wait_until(
        lambda: len([s for s in balancer.served if s.websocket]) > before,
        timeout=60,
        what="the tab to reconnect its websocket",
    )
    return [s for s in balancer.served if s.websocket][-1].backend


def test_sign_in_upload_and_live_card_across_processes(
    browser, fresh: dict, credentials: Credentials, db, tmp_path: Path, request
) -> None:
    balancer: Balancer = fresh["balancer"]
    context = browser.new_context(base_url=fresh["url"])
    context.set_default_timeout(30_000)
    tab = context.new_page()
    try:
        # Sign-in through the real form: the page, the form's POST and the next page are
        # each served by whichever process the proxy picks.
        tab.goto("/")
        tab.wait_for_url(re.compile(r"/sign-in"))
        tab.get_by_label("User name").fill(ADMIN)
        tab.get_by_label("Password").fill("not the password")
        tab.get_by_role("button", name="Sign in").click()
        tab.get_by_role("alert").filter(has_text="wrong user name or password").wait_for()
        tab.get_by_label("User name").fill(ADMIN)
        tab.get_by_label("Password").fill(credentials.admin_password)
        tab.get_by_role("button", name="Sign in").click()
        tab.get_by_text("Drop CSV files here").wait_for()
        tab.get_by_text("No imports yet.").wait_for()
        assert balancer.backends_of(path_prefix="/api/session", method="POST") == {0, 1}

        # The upload goes to the process that does not hold the tab's websocket: its
        # handler (a background task there) puts the card into the tab's state, which
        # reaches the tab through Redis (Reflex's lost-and-found), not its own socket.
        first_ws = [s for s in balancer.served if s.websocket][-1].backend
        balancer.pin_next("POST", "/_upload", 1 - first_ws)
        path = _write_catalog(tmp_path / "scaled.csv", ROWS)
        tab.locator("input[type=file]").set_input_files(str(path))
        running = tab.locator('.job-card[data-status="processing"]')
        running.wait_for(timeout=120_000)
        job_id = running.get_attribute("data-job-id")
        assert job_id
        assert balancer.backends_of(path_prefix="/_upload", method="POST") == {1 - first_ws}

        ws_count = len([s for s in balancer.served if s.websocket])
        done = tab.locator(f'.job-card[data-job-id="{job_id}"][data-status="completed"]')
        done.wait_for(timeout=FINISH_TIMEOUT_MS)
        shot(tab, "scaled-a-upload-completed")
        assert db.execute("SELECT count(*) FROM products").fetchone() == (ROWS,)
        # The watcher ran in the upload's process, the tab's one websocket stayed on the
        # other: every progress update, the last one included, crossed through Redis.
        assert len([s for s in balancer.served if s.websocket]) == ws_count
        logs = [log.read_text(errors="replace") for log in fresh["logs"]]
        assert f"watching import {job_id} for tab" not in logs[first_ws]
        watcher_log = logs[1 - first_ws]
        assert re.search(rf"stopped watching import {job_id} for tab \S+: job ended", watcher_log)
        tab.locator("table").get_by_text("scaled.csv").wait_for()
    finally:
        if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
            shot(tab, "scaled-a-FAILED")
        context.close()


def test_delete_all_progress_across_processes(
    browser, fresh: dict, credentials: Credentials, database: str, db, request
) -> None:
    balancer: Balancer = fresh["balancer"]
    seed(db, 5000)
    context = signed_in_context(browser, fresh["url"], ADMIN)
    tab = context.new_page()
    try:
        tab.goto("/products")
        tab.get_by_role("button", name="Page 5").wait_for()
        tab.get_by_role("button", name="Delete all").click()
        dialog = tab.get_by_role("alertdialog")
        dialog.get_by_label("Type DELETE to confirm").fill("DELETE")
        go = dialog.get_by_role("button", name="Delete all products")
        first_ws = [s for s in balancer.served if s.websocket][-1].backend
        with writers_held(database):
            go.click()
            tab.locator('.bulk-delete-card[data-status="processing"]').wait_for()
            # Move the tab to the other process while its delete waits for the lock.
            assert _reconnected_elsewhere(balancer, tab) != first_ws
        done = tab.locator('.bulk-delete-card[data-status="completed"]')
        done.wait_for(timeout=60_000)
        assert done.get_attribute("data-percent") == "100"
        assert "Deleted 5,000 products." in done.inner_text()
        tab.get_by_text("No products yet").wait_for()
        shot(tab, "scaled-b-bulk-done")
        assert db.execute("SELECT count(*) FROM products").fetchone() == (0,)
        # Pages and API calls were served by both processes.
        assert balancer.backends_of() == {0, 1}
    finally:
        if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
            shot(tab, "scaled-b-FAILED")
        context.close()
