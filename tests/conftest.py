"""Shared fixtures: a real PostgreSQL database, a real Redis, a real API server and a real
Dramatiq worker, all on this machine. Settings are set before the app is imported."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_DB = os.environ.get("TEST_DATABASE_NAME", "product_importer_test")
# Which servers this run uses: "machine" (TEST_ADMIN_DATABASE_URL / TEST_REDIS_URL, by
# default this machine's PostgreSQL and Redis) or "embedded" (the embedded PostgreSQL and
# Redis, started as `make run` starts them, in .test-servers/). scripts/test.sh runs both.
TEST_SERVERS = os.environ.get("TEST_SERVERS", "machine")
if TEST_SERVERS not in ("machine", "embedded"):
    raise SystemExit(f"TEST_SERVERS must be machine or embedded in pytest, not {TEST_SERVERS!r}")


def _with_database(url: str, name: str) -> str:
    """The same server's URL naming database `name` (socket URLs keep their query)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _embedded_servers() -> tuple[str, str]:
    """Start (or join) the embedded servers the way the launcher does: admin and Redis URLs."""
    from product_importer import embedded

    folder = ROOT / ".test-servers" / TEST_DB
    pg = embedded.start_postgres(folder / "pg")
    rd = embedded.start_redis(folder / "redis")
    atexit.register(pg.stop)
    atexit.register(rd.stop)
    return pg.admin_url, rd.url


if TEST_SERVERS == "embedded":
    ADMIN_URL, REDIS_URL = _embedded_servers()
else:
    ADMIN_URL = os.environ.get(
        "TEST_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
TEST_ENV = {
    "DATABASE_URL": _with_database(ADMIN_URL, TEST_DB),
    "REDIS_URL": REDIS_URL,
    # Pub/sub channels are shared by every Redis DB index: runs on other test databases
    # (e.g. in parallel) must not hear each other's job updates, so the namespace follows
    # the database name.
    "REDIS_NAMESPACE": TEST_DB,
    "IMPORT_BATCH_SIZE": "200",
    # The suite's imports keep products' indexes (a bulk build under the next test's
    # TRUNCATE only makes them wait): tests/test_deferred_indexes.py sets them aside.
    "IMPORT_DEFER_INDEXES_MIN_ROWS": "1000000000",
    # Watchers' comings and goings are in the app's log: browser tests read them.
    "LOG_LEVEL": "DEBUG",
    "MAX_UPLOAD_MB": "5",
    "WORKER_HEARTBEAT_TIMEOUT_S": "2",
    # Webhooks: the tests' receiver listens on loopback, and retries come in seconds.
    "WEBHOOK_ALLOW_PRIVATE": "1",
    "WEBHOOK_RETRY_SCHEDULE": "1,1,2",
    "WEBHOOK_DISABLE_AFTER": "3",
}
os.environ.update(TEST_ENV)

import httpx  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402

from tests.support import free_port, wait_until  # noqa: E402


def _create_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (TEST_DB,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB}"')
        conn.execute(f'CREATE DATABASE "{TEST_DB}"')
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, **TEST_ENV},
        check=True,
        capture_output=True,
    )


@dataclass(frozen=True)
class Credentials:
    """Users and API tokens every test may use (created once per test run)."""

    admin_token: str
    editor_token: str
    admin_password: str
    editor_password: str

    def bearer(self, role: str) -> dict[str, str]:
        token = self.admin_token if role == "admin" else self.editor_token
        return {"Authorization": f"Bearer {token}"}


ADMIN, EDITOR = "ada", "ed"


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[str]:
    _create_database()
    yield TEST_ENV["DATABASE_URL"]


@pytest.fixture(scope="session")
def credentials(database: str) -> Credentials:
    from product_importer.access import Role, tokens, users

    _, admin_password = users.create_user(ADMIN, Role.admin)
    _, editor_password = users.create_user(EDITOR, Role.editor)
    return Credentials(
        admin_token=tokens.create_token("tests admin", Role.admin, ADMIN)[1],
        editor_token=tokens.create_token("tests editor", Role.editor, ADMIN)[1],
        admin_password=admin_password,
        editor_password=editor_password,
    )


@pytest.fixture
def db(database: str) -> Iterator[psycopg.Connection]:
    """A clean catalog and job history, and a connection to look at them."""
    with psycopg.connect(database, autocommit=True) as conn:
        for attempt in range(5):
            # A worker still busy with the previous test (webhook relay, delivery) may
            # lock these tables in another order: PostgreSQL then breaks the tie.
            try:
                conn.execute(
                    "TRUNCATE products, import_jobs, import_row_errors, import_before_images,"
                    " import_created_ranges, import_reverts, import_revert_conflicts, events,"
                    " bulk_delete_jobs, export_jobs, export_chunks,"
                    " webhook_endpoints, webhook_deliveries, webhook_attempts, pending_uploads,"
                    " pending_upload_chunks, saved_mappings RESTART IDENTITY"
                )
                break
            except psycopg.errors.DeadlockDetected:
                if attempt == 4:
                    raise
        for (table,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE tablename ~ '^import_(staging|dedup)_[0-9]+$'"
        ).fetchall():
            # The worker may finish (and drop) a previous test's job between the list and here.
            conn.execute(f'DROP TABLE IF EXISTS "{table}"')
        redis.Redis.from_url(TEST_ENV["REDIS_URL"]).flushdb()
        yield conn


class Process:
    """A child process of the test run (worker or web server) that tests may kill."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True
        )

    def ensure_running(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.start()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def low_threshold() -> Iterator[None]:
    """A few thousand rows are a big import (settings are read once, frozen: set here)."""
    from product_importer.settings import settings

    before = settings.import_defer_indexes_min_rows
    object.__setattr__(settings, "import_defer_indexes_min_rows", 1000)
    try:
        yield
    finally:
        object.__setattr__(settings, "import_defer_indexes_min_rows", before)


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def worker_process(database: str, logs: Path) -> Iterator[Process]:
    proc = Process(
        [
            sys.executable,
            "-m",
            "dramatiq",
            "product_importer.worker",
            "--processes",
            "1",
            "--threads",
            "2",
        ],
        {**os.environ, **TEST_ENV},
        logs / "worker.log",
    )
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def worker(worker_process: Process) -> Process:
    """A running Dramatiq worker (restarted if a test killed it)."""
    worker_process.ensure_running()
    return worker_process


def start_server(env: dict[str, str], log: Path) -> tuple[Process, str]:
    port = free_port()
    proc = Process(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "product_importer.api:api",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env,
        log,
    )
    proc.start()
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(base + "/api/openapi.json", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, timeout=30, what="the API server to start")
    return proc, base


@pytest.fixture(scope="session")
def api_base(database: str, logs: Path) -> Iterator[str]:
    proc, base = start_server({**os.environ, **TEST_ENV}, logs / "api.log")
    yield base
    proc.stop()


@pytest.fixture
def client(
    api_base: str, db: psycopg.Connection, credentials: Credentials
) -> Iterator[httpx.Client]:
    """An API client signed in with an admin token."""
    with httpx.Client(base_url=api_base, timeout=60, headers=credentials.bearer("admin")) as c:
        yield c


@pytest.fixture
def anonymous(api_base: str, db: psycopg.Connection) -> Iterator[httpx.Client]:
    """An API client with no credentials at all."""
    with httpx.Client(base_url=api_base, timeout=60) as c:
        yield c


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last: their app and browser stay up from the first to the last of them.
    The app's restart test first among them: it starts and stops the app on their port
    before their app is up."""
    e2e = ROOT / "tests" / "e2e"
    restart = e2e / "test_app_restart.py"
    items.sort(key=lambda item: (e2e in Path(item.fspath).parents, Path(item.fspath) != restart))


@pytest.fixture
def receiver() -> Iterator:
    """A real HTTP server on loopback that records the webhooks it receives."""
    from tests.webhook_receiver import Receiver

    server = Receiver().start()
    yield server
    server.stop()
