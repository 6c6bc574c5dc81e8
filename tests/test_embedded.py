"""The embedded default: PostgreSQL 18 with pg_trgm, and an old server's data folder
(pgserver's PostgreSQL 16) refused with advice instead of silently replaced."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from product_importer import embedded
from tests.conftest import ROOT


def _embedded_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return {**env, "DATA_DIR": str(data_dir)}


def _migrate(data_dir: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """`python -m product_importer migrate` on the embedded servers in `data_dir`."""
    return subprocess.run(
        [sys.executable, "-m", "product_importer", "migrate"],
        cwd=ROOT,
        env=_embedded_env(data_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _old_data_dir(data_dir: Path) -> Path:
    pgdata = data_dir / "pg"
    (pgdata / "base").mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text("16\n")
    (pgdata / "base" / "16384").write_bytes(b"the user's catalog")
    return pgdata


def test_an_old_servers_data_folder_is_refused_and_left_untouched(tmp_path: Path) -> None:
    pgdata = _old_data_dir(tmp_path)
    before = sorted(p.relative_to(pgdata) for p in pgdata.rglob("*"))
    with pytest.raises(embedded.OldDataDirectory) as refused:
        embedded.start_postgres(pgdata)
    message = str(refused.value)
    assert "PostgreSQL 16" in message
    assert f"PostgreSQL {embedded.bundled_major_version()}" in message
    assert "Upgrading the embedded database" in message and "README.md" in message
    assert f"mv {pgdata} {pgdata}-16" in message
    assert sorted(p.relative_to(pgdata) for p in pgdata.rglob("*")) == before
    assert (pgdata / "base" / "16384").read_bytes() == b"the user's catalog"


def test_the_launcher_stops_with_the_advice_on_an_old_data_folder(tmp_path: Path) -> None:
    pgdata = _old_data_dir(tmp_path)
    done = _migrate(tmp_path, timeout=120)
    assert done.returncode == 1
    assert "holds a PostgreSQL 16 database" in done.stderr
    assert "Traceback" not in done.stderr
    assert (pgdata / "PG_VERSION").read_text() == "16\n"


def test_the_embedded_server_is_current_and_migrations_install_pg_trgm(tmp_path: Path) -> None:
    done = _migrate(tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "pg_trgm" not in done.stderr  # no warning: the extension is there
    server = embedded.start_postgres(tmp_path / "pg")
    try:
        with psycopg.connect(server.url) as conn:
            assert conn.info.server_version >= 180000
            assert conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'products_%_trgm'"
            ).fetchone() == (3,)
            assert conn.execute(
                "SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"
            ).fetchone() == (1,)
    finally:
        server.stop()
