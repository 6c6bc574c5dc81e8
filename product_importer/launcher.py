"""`python -m product_importer run`: the whole app (database, Redis, worker, web) in one command.

Without DATABASE_URL / REDIS_URL it starts an embedded PostgreSQL and Redis in the data
folder and hands their URLs to its children. Then it migrates the database and runs a
Dramatiq worker and the Reflex app (frontend and API on one port). Ctrl-C or SIGTERM
stops the children and the embedded servers this process started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from product_importer import embedded
from product_importer.settings import PROJECT_ROOT, settings

BUN_VERSION = "1.4.4"
TOOLS_DIR = PROJECT_ROOT / ".tools"
BUN_PATH = TOOLS_DIR / "node_modules" / ".bin" / "bun"
# Seconds a child gets to exit after SIGTERM before it is killed.
STOP_GRACE_S = 15
WORKER_COMMAND = ["-m", "dramatiq", "product_importer.worker", "--processes", "1"]
WORKER_COMMAND += ["--threads", "2", "--worker-shutdown-timeout", "10000"]


class StopRequested(Exception):
    """SIGTERM or SIGHUP arrived: shut down like on Ctrl-C."""


def say(message: str) -> None:
    # Never fails: a closed terminal or pipe must not cut the shutdown short.
    with contextlib.suppress(OSError, ValueError):
        # stderr: stdout stays clean for commands whose output is data (`tokens create`).
        print(f"[product-importer] {message}", file=sys.stderr, flush=True)


# --- embedded servers ------------------------------------------------------------


@contextlib.contextmanager
def services(env: dict[str, str], *, with_redis: bool = True) -> Iterator[None]:
    """Fill DATABASE_URL and REDIS_URL in `env`, starting embedded servers for the missing ones."""
    started: list[embedded.EmbeddedPostgres | embedded.EmbeddedRedis] = []
    try:
        if settings.database_url:
            env["DATABASE_URL"] = settings.database_url
        else:
            say(f"DATABASE_URL is not set: starting embedded PostgreSQL in {settings.data_dir}/pg")
            try:
                pg = embedded.start_postgres(settings.data_dir / "pg")
            except embedded.OldDataDirectory as exc:
                say(str(exc))
                raise SystemExit(1) from exc
            started.append(pg)
            env["DATABASE_URL"] = pg.url
        if settings.redis_url:
            env["REDIS_URL"] = settings.redis_url
        elif with_redis:
            say(f"REDIS_URL is not set: starting embedded Redis in {settings.data_dir}/redis")
            rd = embedded.start_redis(settings.data_dir / "redis")
            started.append(rd)
            env["REDIS_URL"] = rd.url
        yield
    finally:
        _ignore_stop_signals()  # a second Ctrl-C must not leave a server running
        for server in reversed(started):
            if server.started_here:
                say(f"stopping embedded {type(server).__name__.removeprefix('Embedded')}")
            server.stop()


def migrate(env: dict[str, str], *, quiet: bool = False) -> None:
    if not quiet:
        say("migrating the database (alembic upgrade head)")
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=quiet,
        text=True,
    )
    if done.returncode:
        if quiet:
            sys.stderr.write(done.stderr)
        done.check_returncode()


# --- frontend tooling ------------------------------------------------------------


def _bun_version() -> str | None:
    if not BUN_PATH.exists():
        return None
    try:
        out = subprocess.run(
            [str(BUN_PATH), "--version"], capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def prepare_frontend_tools(env: dict[str, str]) -> None:
    """Install bun from the npm registry (Reflex would download it from elsewhere)."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm (Node.js) is needed to build the web frontend; please install it")
    if "NPM_CONFIG_REGISTRY" not in env:
        # Reflex probes for a faster mirror unless the registry is given.
        registry = subprocess.run(
            [npm, "config", "get", "registry"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if registry:
            env["NPM_CONFIG_REGISTRY"] = registry
    if _bun_version() == BUN_VERSION:
        return
    say(f"installing bun {BUN_VERSION} from the npm registry into {TOOLS_DIR}")
    TOOLS_DIR.mkdir(exist_ok=True)
    subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(TOOLS_DIR),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",  # not npm's notes on install scripts: nothing to act on
            f"bun@{BUN_VERSION}",
        ],
        env=env,
        check=True,
    )
    if _bun_version() != BUN_VERSION:
        raise SystemExit(f"bun {BUN_VERSION} did not install into {BUN_PATH}")


# --- children ---------------------------------------------------------------------


# A child that ends is started again after 1 s, then 2, 4, ... up to 30 s while it keeps
# ending within RESTART_RESET_S of its start; one that ran longer starts again after 1 s.
RESTART_FIRST_S = 1.0
RESTART_MAX_S = 30.0
RESTART_RESET_S = 60.0


def _popen(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    # Its own process group, so stopping it reaches its whole tree (granian, bun...).
    return subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, start_new_session=True)


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    args: list[str]
    env: dict[str, str]
    # SIGTERM to the whole process group (the web app: reflex, granian, bun), or to the
    # child alone when it stops its own children: a Dramatiq worker's processes that got
    # a second SIGTERM from the group would be killed mid-job ("Killing worker process").
    term_group: bool = True
    # Started again when it ends (the worker), as compose's `restart: unless-stopped` does.
    restart: bool = False
    started_at: float = field(default_factory=time.monotonic)
    starts: int = 1
    delay_s: float = 0.0
    _again_at: float | None = None

    @classmethod
    def start(
        cls,
        name: str,
        args: list[str],
        env: dict[str, str],
        *,
        term_group: bool = True,
        restart: bool = False,
    ) -> Child:
        return cls(name, _popen(args, env), args, env, term_group, restart)

    def ended(self) -> int | None:
        """Its exit code once it has ended and will not be started again; else None (it
        runs, or it is started again here after its back-off)."""
        code = self.proc.poll()
        if code is None:
            return None
        if not self.restart:
            return code
        now = time.monotonic()
        if self._again_at is None:
            quick = now - self.started_at < RESTART_RESET_S
            self.delay_s = min(RESTART_MAX_S, self.delay_s * 2) if quick else 0.0
            self.delay_s = self.delay_s or RESTART_FIRST_S
            self._again_at = now + self.delay_s
            say(f"{self.name} exited with code {code}; starting it again in {self.delay_s:.0f} s")
        elif now >= self._again_at:
            self.proc = _popen(self.args, self.env)
            self.started_at, self._again_at = now, None
            self.starts += 1
            say(f"{self.name} started again")
        return None

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def wait_stopped(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.proc.poll()
            if self.proc.returncode is not None and not self._group_alive():
                return True
            time.sleep(0.2)
        return False


def stop_children(children: list[Child]) -> None:
    running = [c for c in children if c.proc.poll() is None or c._group_alive()]
    for child in running:
        say(f"stopping {child.name}")
        if child.term_group:
            child.signal(signal.SIGTERM)
        else:
            with contextlib.suppress(ProcessLookupError):
                child.proc.send_signal(signal.SIGTERM)
    for child in running:
        if not child.wait_stopped(STOP_GRACE_S):
            say(f"{child.name} did not stop in {STOP_GRACE_S} s: killing it")
            child.signal(signal.SIGKILL)
            child.wait_stopped(5)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except (urllib.error.URLError, OSError):
        return False


def _raise_stop(signum: int, _frame: object) -> None:
    raise StopRequested(signal.Signals(signum).name)


def _ignore_stop_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def web_command(port: int) -> list[str]:
    """Reflex in production mode: it builds the frontend when it changed (frontend_build),
    then serves it and the API on `port`."""
    ports = ["--frontend-port", str(port), "--backend-port", str(port)]
    return ["-m", "product_importer.reflex_cli", "run", "--env", "prod", *ports]


def run(port: int | None = None) -> int:
    """Run database, Redis, worker and web app until Ctrl-C or SIGTERM; answer an exit code."""
    port = port or settings.port
    # Explicit, because a shell starting us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGHUP, _raise_stop)
    env = dict(os.environ)
    env["PORT"] = str(port)
    env.setdefault("PYTHONUNBUFFERED", "1")
    children: list[Child] = []
    try:
        with services(env):
            # The frontend's tools (npm's registry, bun) are checked while the database is
            # migrated: neither needs the other, and each costs seconds of process starts.
            with ThreadPoolExecutor(max_workers=1) as side:
                tools = side.submit(prepare_frontend_tools, env)
                database_env = dict(env)  # a copy: the tools' thread adds to `env`
                migrate(database_env)
                _access_command(database_env, "first-run", f"http://localhost:{port}")
                tools.result()
            worker = [sys.executable, *WORKER_COMMAND]
            children.append(Child.start("worker", worker, env, term_group=False, restart=True))
            say("starting the web app")
            children.append(Child.start("web app", [sys.executable, *web_command(port)], env))
            try:
                return _supervise(children, port)
            finally:
                _ignore_stop_signals()
                stop_children(children)
    except (KeyboardInterrupt, StopRequested):
        say("stopped")
        return 0
    except subprocess.CalledProcessError as exc:
        say(f"failed: {' '.join(map(str, exc.cmd))} exited with {exc.returncode}")
        return exc.returncode or 1


# How often the app is asked whether it answers yet, until it does (then children once a second).
READY_POLL_S = 0.2


def _supervise(children: list[Child], port: int) -> int:
    """Wait until the app answers, say where it is, then until a child ends that is not
    started again (the web app: a worker is)."""
    ready = False
    while True:
        for child in children:
            code = child.ended()
            if code is not None:
                say(f"{child.name} exited with code {code}; stopping everything")
                return code or 1
        if not ready and _answers(f"http://127.0.0.1:{port}/"):
            ready = True
            say(f"ready: open http://localhost:{port}  (API docs: /api/docs; Ctrl-C stops)")
        time.sleep(1 if ready else READY_POLL_S)


def _access_command(env: dict[str, str], *args: str) -> None:
    """Run an access command in a child that sees the (maybe embedded) DATABASE_URL."""
    cmd = [sys.executable, "-m", "product_importer.access.cli", *args]
    subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, check=True)


def manage_access(argv: list[str]) -> int:
    """`python -m product_importer users|tokens ...` against the (embedded, if unset) database."""
    env = dict(os.environ)
    try:
        with services(env, with_redis=False):
            migrate(env, quiet=True)
            _access_command(env, *argv)
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1
    return 0


def migrate_only() -> int:
    """`python -m product_importer migrate`: upgrade the (embedded, if unset) database."""
    env = dict(os.environ)
    try:
        with services(env, with_redis=False):
            migrate(env)
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1
    return 0


def web(port: int | None = None) -> int:
    """Migrate, then become the web app alone (the container's command; workers run apart)."""
    port = port or settings.port
    env = dict(os.environ)
    env["DATABASE_URL"] = settings.require_database_url()
    env["REDIS_URL"] = settings.require_redis_url()
    try:
        migrate(env)
        _access_command(env, "first-run", f"http://localhost:{port}")
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1
    prepare_frontend_tools(env)
    args = [sys.executable, *web_command(port)]
    os.chdir(PROJECT_ROOT)
    os.execve(sys.executable, args, env)
    return 0  # not reached
