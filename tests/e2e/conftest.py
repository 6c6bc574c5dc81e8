"""End-to-end fixtures: the real app (`reflex run --env prod`, as production runs it) on the
test database and Redis, a real Dramatiq worker, and a headless Chromium driven by
Playwright. The tests are skipped, with the reason, when Chromium or Playwright is missing.

The first frontend build downloads npm packages and takes minutes; later runs reuse `.web`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from product_importer.access import Principal
from tests.conftest import ADMIN, ROOT, TEST_ENV, Credentials, Process
from tests.support import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The first `reflex run --env prod` installs the frontend's npm packages and builds it.
APP_START_TIMEOUT_S = float(os.environ.get("E2E_APP_START_TIMEOUT_S", 20 * 60))
SCREENSHOTS = ROOT / "test-results" / "e2e"
# The app the tests start accepts files bigger than the API tests' 5 MB limit.
APP_ENV = {**TEST_ENV, "MAX_UPLOAD_MB": "64", "PYTHONUNBUFFERED": "1"}


def _chromium_problem() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    if shutil.which("npm") is None:
        return "npm (Node.js) is missing: it is needed to build the web frontend"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problem = _chromium_problem()
    if problem is None:
        return
    skip = pytest.mark.skip(reason=f"browser tests skipped: {problem}")
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(skip)


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="session")
def app_port() -> int:
    """The port of the app the browser tests use. The frontend bundle holds its backend's
    URL, so a start on another port rebuilds: test_app_restart.py starts it on this one."""
    return free_port()


@contextlib.contextmanager
def running_app(port: int, log: Path) -> Iterator[str]:
    """The whole web app on `port`, started like `make run` starts it, until it answers."""
    from product_importer.launcher import prepare_frontend_tools, web_command

    env = {**os.environ, **APP_ENV}
    prepare_frontend_tools(env)  # bun from the npm registry into .tools, NPM_CONFIG_REGISTRY
    env["PORT"] = str(port)
    proc = Process([sys.executable, *web_command(port)], env, log)
    proc.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + APP_START_TIMEOUT_S
    try:
        while True:
            assert proc.proc is not None
            if proc.proc.poll() is not None:
                pytest.fail(f"the app exited with {proc.proc.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not answer in {APP_START_TIMEOUT_S:.0f}s:\n{_tail(log)}")
            try:
                page = httpx.get(base + "/", timeout=2)
                api = httpx.get(base + "/health", timeout=2)
                if page.status_code == 200 and api.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        yield base
    finally:
        proc.stop()
        # Whatever is left of its process group (bun, granian workers).
        if proc.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def app_url(database: str, worker_process: Process, logs: Path, app_port: int) -> Iterator[str]:
    """The whole web app, up from the first browser test to the last. The browser tests
    run last (tests/conftest.py orders them), so it takes no CPU from the rest of the suite."""
    with running_app(app_port, logs / "app.log") as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Headless Chromium. Sync Playwright runs an asyncio loop in this thread while it is
    open: it must be closed before other tests call asyncio.run() (the browser tests run
    last)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def app_api(app_url: str, credentials: Credentials) -> Iterator[httpx.Client]:
    """The running app's API, with an admin token."""
    with httpx.Client(base_url=app_url, timeout=30, headers=credentials.bearer("admin")) as c:
        yield c


def signed_in_context(browser, app_url: str, username: str):
    """A browser context holding a real session cookie of `username` (as signing in sets
    it; the sign-in form itself is tested in test_access_pages.py)."""
    from product_importer.access.sessions import COOKIE_NAME, start_session
    from product_importer.access.users import find_user

    user = find_user(username)
    assert user is not None, username
    token, _ = start_session(Principal("user", user.id, user.username, user.role))
    context = browser.new_context(base_url=app_url, accept_downloads=True)
    context.set_default_timeout(30_000)
    context.add_cookies(
        [{"name": COOKIE_NAME, "value": token, "url": app_url, "httpOnly": True, "sameSite": "Lax"}]
    )
    return context


@contextlib.contextmanager
def open_tab(
    browser, app_url: str, path: str, request: pytest.FixtureRequest, username: str = ADMIN
) -> Iterator:
    """A fresh browser context signed in as `username` on `path`; a screenshot is kept when
    the test fails."""
    context = signed_in_context(browser, app_url, username)
    tab = context.new_page()
    tab.goto(path)
    try:
        yield tab
        failed = (
            getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
        )
        if failed and not tab.is_closed():
            shot(tab, f"{request.node.name}-FAILED")
    finally:
        context.close()


@pytest.fixture
def page(
    browser, app_url: str, db, worker, credentials: Credentials, request: pytest.FixtureRequest
) -> Iterator:
    """A fresh tab on the Import page, signed in as an admin, with an empty catalog and job
    history."""
    with open_tab(browser, app_url, "/", request) as tab:
        tab.get_by_text("Drop CSV files here").wait_for()
        tab.get_by_text("No imports yet.").wait_for()
        yield tab


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, "rep_" + report.when, report)
    return report


def shot(tab, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
