"""Helpers the tests share: CSV builders, waiting, job polling."""

from __future__ import annotations

import csv
import io
import socket
import time
from collections.abc import Callable, Iterable

import httpx

HEADER = ("sku", "name", "description", "price", "active")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def physical_lines(data: bytes, encoding: str) -> int:
    """Lines of the decoded file: CRLF, LF and a lone CR each end one."""
    text = data.decode("utf-8-sig" if encoding == "utf-8" else "cp1252", errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def csv_bytes(rows: Iterable[Iterable[object]], header: Iterable[str] = HEADER, **kw) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", **kw)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def catalog(n: int, *, prefix: str = "SKU", price: str = "9.99") -> list[tuple[str, ...]]:
    return [
        (f"{prefix}-{i:06d}", f"Product {i}", f"Description of {i}", price, "true")
        for i in range(n)
    ]


def upload(client: httpx.Client, data: bytes, filename: str = "catalog.csv") -> httpx.Response:
    return client.post("/api/imports", files={"file": (filename, data, "text/csv")})


def wait_for_job(client: httpx.Client, job_id: int, timeout: float = 90) -> dict:
    """Poll the job until it reaches a terminal status; answer it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/imports/{job_id}").json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"import {job_id} did not finish in {timeout}s: {job}")


def wait_for_bulk_delete(client: httpx.Client, job_id: int, timeout: float = 60) -> dict:
    """Poll a delete-all until it reaches a terminal status; answer it."""
    job: dict = {}

    def finished() -> bool:
        nonlocal job
        job = client.get(f"/api/products/bulk-deletes/{job_id}").json()
        return job["status"] in ("completed", "failed", "cancelled")

    wait_until(finished, timeout=timeout, what=f"bulk delete {job_id}")
    return job


def wait_for_revert(client: httpx.Client, import_id: int, timeout: float = 90) -> dict:
    """Poll an import's revert until it reaches a terminal status; answer it."""
    revert: dict = {}

    def finished() -> bool:
        nonlocal revert
        revert = client.get(f"/api/imports/{import_id}/revert").json()["revert"] or {}
        return revert.get("status") in ("completed", "failed", "cancelled")

    wait_until(finished, timeout=timeout, what=f"the revert of import {import_id}")
    return revert


def import_csv(client: httpx.Client, data: bytes, filename: str = "catalog.csv") -> dict:
    response = upload(client, data, filename)
    assert response.status_code == 202, response.text
    return wait_for_job(client, response.json()["id"])


# A file with every kind of bad row, and the error report it must produce.
BAD_ROWS_CSV = (
    b"sku,name,description,price,active\n"
    b"OK-1,Good,d,1.00,yes\n"
    b",No sku,d,1,yes\n"
    b'OK-2,Good,"two\nlines",2,no\n'
    b"BAD-P,Bad price,d,abc,yes\n"
    b"BAD-A,Bad active,d,1,perhaps\n"
    b"SHORT,row\n"
    b"OK-3,Good,d,,\n"
)
BAD_ROWS_REPORT = [
    ["sku", "name", "description", "price", "active", "error"],
    ["", "No sku", "d", "1", "yes", "Line 3: Enter a SKU."],
    [
        "BAD-P",
        "Bad price",
        "d",
        "abc",
        "yes",
        "Line 6: Enter the price as a number, like 19.99 (not 'abc').",
    ],
    [
        "BAD-A",
        "Bad active",
        "d",
        "1",
        "perhaps",
        "Line 7: Active must be yes or no (or true/false, 1/0), not 'perhaps'.",
    ],
    ["SHORT", "row", "", "", "", "Line 8: This row has 2 values but the header has 5 columns."],
]
