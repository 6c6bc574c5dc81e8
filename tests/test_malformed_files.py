"""Generated files, valid and broken, fed to the intake on every run (SPEC 6: any file,
however broken, ends in a job or a clear 4xx within a bounded time).

Most cases go through the intake function in-process (fast) and are applied by the import
engine; a share goes through the real HTTP API to a real worker. Each must end in a job
that completes, or a refusal with a message, within a per-case time bound; never another
error, never a hang, never a staging table left behind; and a job accounts for every
physical line of its file.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, example, given, settings
from hypothesis import strategies as st

from product_importer.csvfile import HeaderProblem
from product_importer.csvfile.containers import ContainerProblem
from product_importer.imports import engine, intake
from product_importer.imports.intake import UploadTooLarge, receive_import
from product_importer.models import JobStatus
from product_importer.settings import settings as app_settings
from tests.generated_files import GeneratedFile, damaged_files
from tests.support import physical_lines, upload, wait_for_job

# Rows of at most 16 KB in these runs, so "huge" values (past the limit) stay cheap.
ROW_LIMIT_KB = 16
HUGE = 20 * 1024
CASE_TIMEOUT_S = 60
INTAKE_CASES = 1000
HTTP_CASES = 120

# Files that once broke something, kept as regular cases.
SEEDS = [
    b"sku,name,description\nA1,n,d\nA2,m,e",  # no final line break: hung the upload
    b"sku,name,description",  # header only, no line break: hung
    b"sku,name,description\nA1,n,d\r",  # a lone CR at the end: hung
    b'sku,name,description\nA1,n,"never closed\nA2,m,e\n',  # hung
    b'sku,name,description\nQX-1,Alpha,"7"" tablet\nQX-2,Beta,b\nQX-3,G,"c"\n',  # lost rows
    b"sku,name,description\xc2\x85,price\nA1,n,d,1\n",  # a NEL inside the header line
    # A NUL in a column name past the binary check's sample: a 500 from PostgreSQL's JSON.
    b"sku,name,description," + b",".join(b"x%d" % i for i in range(2000)) + b"\x00y\nA,b,c\n",
]


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def staging_tables(db: psycopg.Connection) -> list[str]:
    rows = db.execute(
        "SELECT tablename FROM pg_tables WHERE tablename ~ '^import_(staging|dedup)_'"
    ).fetchall()
    return [r[0] for r in rows]


def job_count(db: psycopg.Connection) -> int:
    return db.execute("SELECT count(*) FROM import_jobs").fetchone()[0]


@pytest.fixture
def small_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        intake, "settings", dataclasses.replace(app_settings, max_row_kb=ROW_LIMIT_KB)
    )


def note(value: str) -> None:
    """Count a kind of outcome in Hypothesis's statistics (seed cases run outside it)."""
    if currently_in_test_context():
        event(value)


def intake_case(db: psycopg.Connection, file: GeneratedFile, chunk: int) -> None:
    """One file through the intake and the engine, checked end to end."""
    jobs_before = job_count(db)

    async def bounded():
        # Tiny pieces test every split point of small files; big files come in at most
        # ~256 pieces, as a network delivers them.
        size = max(chunk, len(file.data) // 256)
        return await asyncio.wait_for(
            receive_import("generated.csv", pieces(file.data, size)), CASE_TIMEOUT_S
        )

    try:
        job = asyncio.run(bounded())
    except (HeaderProblem, ContainerProblem, UploadTooLarge) as refused:
        note(f"refused: {str(refused)[:24]}")
        assert str(refused), file.recipe
        assert job_count(db) == jobs_before, file.recipe
        assert staging_tables(db) == [], file.recipe
        return
    spans = db.execute(
        f"SELECT coalesce(sum(last_line - line + 1), 0), count(*) FROM import_staging_{job.id}"
    ).fetchone()
    assert spans[1] == job.total_rows, file.recipe
    assert 1 + job.blank_lines + spans[0] == job.file_lines, file.recipe
    assert job.file_lines == physical_lines(file.data, job.encoding), file.recipe
    note(f"job: {file.recipe.split(',')[0]}, {'some rows' if job.total_rows else 'no rows'}")
    final = engine.apply_import(job.id)
    assert final is not None and final.status == JobStatus.completed, (file.recipe, final)
    assert final.processed_rows == final.total_rows
    assert staging_tables(db) == [], file.recipe


@pytest.mark.parametrize("data", SEEDS)
def test_files_that_once_broke_the_intake(db, small_rows, data: bytes) -> None:
    intake_case(db, GeneratedFile(data, "seed"), chunk=7)


def test_generated_files_end_in_a_completed_job_or_a_refusal(db, small_rows) -> None:
    """At least INTAKE_CASES generated files, each checked end to end (counted: Hypothesis
    stops early when it runs out of new files, which must not pass unnoticed)."""
    ran = 0

    @given(file=damaged_files(huge=HUGE), chunk=st.sampled_from([1, 3, 64, 4096, 65536]))
    @example(file=GeneratedFile(b"\xef\xbb\xbfSKU;Name;Description\r\nA;b;c", "bom"), chunk=2)
    @example(file=GeneratedFile(b"sku,name,description\n" + b"x" * HUGE, "huge line"), chunk=4096)
    @settings(
        max_examples=INTAKE_CASES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    def case(file: GeneratedFile, chunk: int) -> None:
        nonlocal ran
        ran += 1
        intake_case(db, file, chunk)

    case()
    assert ran >= INTAKE_CASES + 2  # the generated files and the two examples


@pytest.fixture(scope="module")
def api_client(api_base: str, credentials) -> httpx.Client:
    with httpx.Client(
        base_url=api_base, timeout=CASE_TIMEOUT_S, headers=credentials.bearer("admin")
    ) as c:
        yield c


def test_generated_files_through_the_api_never_get_a_5xx(
    api_client: httpx.Client, db, worker
) -> None:
    """At least HTTP_CASES generated files through the HTTP API to a real worker."""
    ran = 0

    @given(file=damaged_files(huge=2 * 1024 * 1024))
    @settings(
        max_examples=HTTP_CASES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    def case(file: GeneratedFile) -> None:
        nonlocal ran
        ran += 1
        api_case(api_client, db, file)

    case()
    assert ran >= HTTP_CASES


def api_case(api_client: httpx.Client, db: psycopg.Connection, file: GeneratedFile) -> None:
    """One file through the HTTP API and a worker: a completed job or a 4xx with words."""
    response = upload(api_client, file.data, f"f{random.randrange(10**6)}.csv")
    assert response.status_code < 500, (file.recipe, response.text)
    if response.status_code != 202:
        assert response.status_code in (413, 422), (file.recipe, response.text)
        assert response.json()["detail"], file.recipe
        return
    job = wait_for_job(api_client, response.json()["id"], timeout=CASE_TIMEOUT_S)
    assert job["status"] == "completed", (file.recipe, job)
    assert job["file_lines"] == physical_lines(file.data, job["encoding"]), file.recipe
    assert job["file_lines"] >= 1 + job["blank_lines"] + job["total_rows"], file.recipe
    assert not any(t.endswith(f"_{job['id']}") for t in staging_tables(db)), file.recipe
