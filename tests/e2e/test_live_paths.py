"""Live progress on every path a person takes to the Import page: signed in through the real
form, moving with the navigation links, reloading, going back and forward, in a second tab
and across a dropped websocket. On each path the card shows up once the upload is done,
moves while the rows do, and the history row and the toast follow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN, Credentials
from tests.e2e.conftest import shot
from tests.e2e.test_import_page import (
    FINISH_TIMEOUT_MS,
    choose_file,
    job_of,
    products_paused,
    stat,
    toast,
    watchers_of,
    write_catalog,
)

# Enough that the import runs for several of the card's push intervals (0.25 s) even on
# a quiet machine (some 40,000 rows/s in these tests' 200-row batches), so the card is
# seen moving; under MAX_UPLOAD_MB (5) of the suite.
ROWS = 80_000
# Generous, never a timing claim: the card comes with the upload's answer.
CARD_TIMEOUT_MS = 60_000

# Keeps every websocket the page opens, so a test can drop them as a network would.
KEEP_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    window.__sockets.push(socket);
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})();
"""

# Records every distinct text of the running card, to tell that it moved while it ran.
WATCH_CARD = """
() => {
  window.__seen = [];
  const look = () => {
    const card = document.querySelector(".job-card");
    if (!card) return;
    const text = card.dataset.status + "|" + card.innerText;
    if (window.__seen[window.__seen.length - 1] !== text) window.__seen.push(text);
  };
  new MutationObserver(look).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
}
"""


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_catalog(tmp_path_factory.mktemp("live") / "catalog-80k.csv", ROWS, "LIVE")


@pytest.fixture
def context(browser, app_url: str, db, worker, request: pytest.FixtureRequest) -> Iterator:
    """A browser context with no session: the test signs in through the form."""
    ctx = browser.new_context(base_url=app_url)
    ctx.set_default_timeout(30_000)
    ctx.add_init_script(KEEP_SOCKETS)
    yield ctx
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        for index, tab in enumerate(ctx.pages):
            if not tab.is_closed():
                shot(tab, f"{request.node.name}-FAILED-{index}")
    ctx.close()


def sign_in(context, credentials: Credentials):
    """A new tab, signed in through the sign-in form: it lands on the Import page."""
    tab = context.new_page()
    tab.goto("/")
    tab.wait_for_url(re.compile(r"/sign-in"))
    tab.get_by_label("User name").fill(ADMIN)
    tab.get_by_label("Password").fill(credentials.admin_password)
    tab.get_by_role("button", name="Sign in").click()
    on_import_page(tab)
    return tab


def on_import_page(tab) -> None:
    tab.wait_for_url(re.compile(r"/$"))
    tab.get_by_text("Drop CSV files here").wait_for()


def go_by_nav(tab, label: str) -> None:
    """Click a link of the navigation bar and wait for its page."""
    tab.get_by_role("link", name=label, exact=True).first.click()
    if label == "Products":
        tab.wait_for_url(re.compile(r"/products/?$"))
        tab.get_by_role("button", name="Delete all").wait_for()
    else:
        on_import_page(tab)


def around_the_nav(tab) -> None:
    go_by_nav(tab, "Products")
    go_by_nav(tab, "Import")


def card_of(tab, job_id: str | None = None, status: str | None = None):
    selector = ".job-card"
    if job_id is not None:
        selector += f'[data-job-id="{job_id}"]'
    if status is not None:
        selector += f'[data-status="{status}"]'
    return tab.locator(selector)


def upload(tab, path: Path) -> str:
    """Choose the file; answer the job id once its card is on the page."""
    tab.evaluate(WATCH_CARD)
    choose_file(tab, path)
    card = card_of(tab).first
    card.wait_for(timeout=CARD_TIMEOUT_MS)
    job_id = card.get_attribute("data-job-id")
    assert job_id
    return job_id


def follows_to_the_end(tab, app_api: httpx.Client, job_id: str, filename: str) -> None:
    """The card moved while the job ran, ended completed, and the history row and the
    toast followed."""
    done = card_of(tab, job_id, "completed")
    done.wait_for(timeout=FINISH_TIMEOUT_MS)
    assert stat(done, "Created") == f"{ROWS:,}"
    assert f"{ROWS:,} / {ROWS:,} rows" in done.inner_text()
    job = job_of(app_api, job_id)
    assert (job["status"], job["created"]) == ("completed", ROWS)
    tab.locator(f'.history-row[data-job-id="{job_id}"]').wait_for()
    toast(tab, f"{filename} imported").wait_for()


def moved_while_running(tab) -> None:
    """At least two different pictures of the running card (rows moving) were shown."""
    seen = tab.evaluate("window.__seen || []")
    running = [s for s in seen if s.startswith("processing|")]
    assert len(set(running)) >= 2, seen


def drop_websockets(tab) -> int:
    """Close every open websocket of the page, as a network drop would."""
    return tab.evaluate(
        """() => {
            const open = window.__sockets.filter((s) => s.readyState === WebSocket.OPEN);
            open.forEach((s) => s.close());
            return open.length;
        }"""
    )


def open_sockets(tab) -> int:
    return tab.evaluate(
        "() => window.__sockets.filter((s) => s.readyState === WebSocket.OPEN).length"
    )


# --- one test per path ------------------------------------------------------------------


def test_after_moving_with_the_navigation_links(context, credentials, app_api, catalog):
    tab = sign_in(context, credentials)
    around_the_nav(tab)
    job_id = upload(tab, catalog)
    follows_to_the_end(tab, app_api, job_id, catalog.name)
    moved_while_running(tab)


def test_after_the_sign_in_redirect_and_a_second_visit(context, credentials, app_api, catalog):
    tab = sign_in(context, credentials)
    tab.goto("/")  # at once, while the socket of the redirected page may still be closing
    on_import_page(tab)
    job_id = upload(tab, catalog)
    follows_to_the_end(tab, app_api, job_id, catalog.name)
    moved_while_running(tab)


def test_after_a_full_reload(context, credentials, app_api, catalog):
    tab = sign_in(context, credentials)
    around_the_nav(tab)
    tab.reload()
    on_import_page(tab)
    job_id = upload(tab, catalog)
    follows_to_the_end(tab, app_api, job_id, catalog.name)
    moved_while_running(tab)


def test_a_reload_while_it_runs_picks_the_import_up_again(
    context, credentials, app_api, database, catalog
):
    tab = sign_in(context, credentials)
    around_the_nav(tab)
    job_id = upload(tab, catalog)
    with products_paused(database):  # the job must still run when the page comes back
        tab.reload()
        on_import_page(tab)
        card_of(tab, job_id, "processing").wait_for(timeout=CARD_TIMEOUT_MS)
        tab.evaluate(WATCH_CARD)
    follows_to_the_end(tab, app_api, job_id, catalog.name)
    moved_while_running(tab)


def test_after_back_and_forward(context, credentials, app_api, catalog):
    tab = sign_in(context, credentials)
    around_the_nav(tab)
    tab.go_back()
    tab.wait_for_url(re.compile(r"/products/?$"))
    tab.get_by_role("button", name="Delete all").wait_for()
    tab.go_forward()
    on_import_page(tab)
    job_id = upload(tab, catalog)
    follows_to_the_end(tab, app_api, job_id, catalog.name)
    moved_while_running(tab)


def test_a_second_tab_follows_the_import_of_the_first(
    context, credentials, app_api, database, catalog
):
    first = sign_in(context, credentials)
    around_the_nav(first)
    # A tab opened from the first one starts with a copy of its session storage, so with
    # the same client token: the server must tell the two apart.
    with first.expect_popup() as popup:
        first.evaluate("() => window.open('/products')")
    second = popup.value
    second.get_by_role("button", name="Delete all").wait_for()
    job_id = upload(first, catalog)
    with products_paused(database):
        go_by_nav(second, "Import")
        card_of(second, job_id, "processing").wait_for(timeout=CARD_TIMEOUT_MS)
        second.evaluate(WATCH_CARD)
    follows_to_the_end(second, app_api, job_id, catalog.name)
    moved_while_running(second)
    follows_to_the_end(first, app_api, job_id, catalog.name)
    moved_while_running(first)
    assert watchers_of(job_id) == 0


def test_a_dropped_websocket_reconnects_and_the_card_goes_on(
    context, credentials, app_api, database, catalog
):
    tab = sign_in(context, credentials)
    around_the_nav(tab)
    job_id = upload(tab, catalog)
    with products_paused(database):
        assert drop_websockets(tab) >= 1
        tab.wait_for_function("() => window.__sockets.some((s) => s.readyState === WebSocket.OPEN)")
        tab.evaluate(WATCH_CARD)
    follows_to_the_end(tab, app_api, job_id, catalog.name)
    moved_while_running(tab)
