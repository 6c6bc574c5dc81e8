"""Request bodies that are not uploads are capped, on a real API server: a huge sign-in
body is refused after its first few KB (or at once, from its Content-Length) and never
held in memory; JSON bodies stop at MAX_BODY_KB; uploads keep their own, larger limit."""

from __future__ import annotations

import json
import os
import select
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_ENV, Credentials, Process, start_server
from tests.support import catalog, csv_bytes, upload

MAX_BODY_KB = 16
HUGE = 200 * 1024 * 1024
CHUNK = 1024 * 1024
# Generous: only a hang becomes a failure.
ANSWER_TIMEOUT_S = 30


@dataclass(frozen=True)
class Server:
    proc: Process
    base: str
    port: int

    def peak_memory_kb(self) -> int:
        """The server process's peak resident memory (VmHWM)."""
        assert self.proc.proc is not None
        status = Path(f"/proc/{self.proc.proc.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1])


@pytest.fixture(scope="module")
def server(database: str, logs: Path) -> Iterator[Server]:
    env = {**os.environ, **TEST_ENV, "MAX_BODY_KB": str(MAX_BODY_KB)}
    proc, base = start_server(env, logs / "api-body-limits.log")
    yield Server(proc, base, int(base.rsplit(":", 1)[1]))
    proc.stop()


def _answer(sock: socket.socket) -> tuple[int, dict]:
    """Read an HTTP answer to its end; its status and JSON body."""
    sock.settimeout(ANSWER_TIMEOUT_S)
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        try:
            piece = sock.recv(65536)
        except ConnectionResetError:
            break
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), data[:200]
    status = int(head.split()[1])
    assert b"application/json" in head.lower(), head
    return status, json.loads(body)


def _send_chunked(port: int, path: str, total: int) -> tuple[int, int, dict]:
    """POST `total` bytes as chunked JSON-ish text, 1 MB at a time, and stop as soon as
    the server answers: the bytes sent by then, the status and the JSON answer."""
    sock = socket.create_connection(("127.0.0.1", port))
    try:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        sent = 0
        chunk = b'{"username": "' + b"a" * (CHUNK - 14)
        while sent < total:
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            chunk = b"a" * CHUNK
            if select.select([sock], [], [], 0.2)[0]:
                break
        else:
            sock.sendall(b"0\r\n\r\n")
        status, body = _answer(sock)
        return sent, status, body
    finally:
        sock.close()


def test_a_200_mb_sign_in_body_is_cut_off_after_its_first_kb(server: Server) -> None:
    before = server.peak_memory_kb()
    sent, status, body = _send_chunked(server.port, "/api/session", HUGE)
    assert status == 413
    assert "4 KB" in body["detail"], body
    # Answered while the client was still sending: the rest was never read.
    assert sent < HUGE // 10
    assert server.peak_memory_kb() - before < 64 * 1024


def test_a_declared_200_mb_body_is_refused_before_a_byte_is_read(server: Server) -> None:
    for path in ("/api/session", "/api/products"):
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nContent-Length: {HUGE}\r\n\r\n".encode()
            )
            status, body = _answer(sock)
        assert status == 413, path
        assert "limit" in body["detail"]


def test_json_bodies_stop_at_max_body_kb_and_uploads_do_not(
    server: Server, credentials: Credentials, db
) -> None:
    with httpx.Client(base_url=server.base, headers=credentials.bearer("admin"), timeout=60) as c:
        small = {"sku": "B-1", "name": "Small", "description": "x" * 1000, "price": "1.00"}
        assert c.post("/api/products", json=small).status_code == 201
        big = {**small, "sku": "B-2", "description": "x" * (MAX_BODY_KB * 1024)}
        refused = c.post("/api/products", json=big)
        assert refused.status_code == 413
        assert refused.json()["detail"] == (
            f"the request body is larger than this route's limit of {MAX_BODY_KB} KB (MAX_BODY_KB)"
        )
        assert c.get("/api/products/2").status_code == 404
        # A chunked body (no Content-Length) is counted as it streams.
        chunks = (b'{"sku": "B-3", "name": "n", "description": "' + b"x" * 4096 for _ in range(8))
        streamed = c.post(
            "/api/products", content=chunks, headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        # An upload far over MAX_BODY_KB is the upload intake's to bound.
        data = csv_bytes(catalog(2000))
        assert len(data) > 4 * MAX_BODY_KB * 1024
        assert upload(c, data).status_code == 202
