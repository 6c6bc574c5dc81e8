"""A restart of an unchanged app serves the frontend it built before, without building it
again (product_importer.frontend_build); the app is started exactly as `make run` does."""

from __future__ import annotations

from pathlib import Path

import httpx

from product_importer.frontend_build import BUILD_OUTPUT, STAMP_FILE, WEB_DIR
from tests.conftest import Process
from tests.e2e.conftest import running_app

BUILT = "Creating Production Build"
REUSED = "the web frontend is unchanged since its last build"


def _page_and_script(base: str) -> tuple[str, int]:
    """The home page, and the status of the first module it loads (the built bundle)."""
    page = httpx.get(base + "/", timeout=30)
    assert page.status_code == 200
    script = page.text.split('rel="modulepreload" href="', 1)[1].split('"', 1)[0]
    return page.text, httpx.get(base + script, timeout=30).status_code


def test_a_restart_of_the_unchanged_app_serves_its_last_build(
    database: str, worker_process: Process, logs: Path, app_port: int
) -> None:
    first_log, second_log = logs / "restart-1.log", logs / "restart-2.log"
    with running_app(app_port, first_log) as base:
        first_page, first_script = _page_and_script(base)
    stamp = (WEB_DIR / STAMP_FILE).read_text()
    output = (WEB_DIR / BUILD_OUTPUT).stat()

    with running_app(app_port, second_log) as base:
        second_page, second_script = _page_and_script(base)
    log = second_log.read_text(errors="replace")
    assert REUSED in log, log[-3000:]
    assert BUILT not in log, log[-3000:]
    assert (WEB_DIR / STAMP_FILE).read_text() == stamp
    same = (WEB_DIR / BUILD_OUTPUT).stat()
    assert (same.st_ino, same.st_mtime_ns) == (output.st_ino, output.st_mtime_ns)
    assert second_page == first_page
    assert first_script == second_script == 200
