"""`POST /api/imports` with the files and requests people and programs really send:
no final line break, stray quotes, malformed multipart bodies, clients that stop
sending, a database connection killed mid-upload. Always a job or a JSON 4xx/503 naming
the problem; never a 500, never a hang, nothing left behind."""

from __future__ import annotations

import csv
import io
import os
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import TEST_ENV, start_server
from tests.support import catalog, csv_bytes, upload, wait_for_job, wait_until
from tests.test_upload_limits import NOTHING, kill_staging_backend, leftovers

BOUNDARY = "formboundary7MA4YWxk"


def multipart(data: bytes, *, headers: str = "", boundary: str = BOUNDARY) -> bytes:
    return (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="c.csv"\r\n'
            f"{headers}Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )


def pieces(body: bytes, size: int = 8192) -> list[bytes]:
    """A body sent in several writes, as a client streaming it does."""
    return [body[i : i + size] for i in range(0, len(body), size)]


def post_raw(client: httpx.Client, body, content_type: str) -> httpx.Response:
    return client.post("/api/imports", content=body, headers={"content-type": content_type})


def error_report(client: httpx.Client, job_id: int) -> list[tuple[str, str, str]]:
    """(line, sku, problems) of each reported row (the file's first column is its SKU)."""
    text = client.get(f"/api/imports/{job_id}/errors.csv").text
    rows = list(csv.reader(io.StringIO(text)))[1:]
    return [(r[-1].split(":")[0].removeprefix("Line "), r[0], r[-1]) for r in rows]


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        (b"sku,name,description\nA1,n,d\nA2,m,e", 2),
        (b"sku,name,description", 0),
        (b"sku,name,description\r\nA1,n,d\r", 1),
        (b'sku,name,description\nA1,n,"d\nA2,m,e', 2),
    ],
    ids=["no-final-break", "header-only", "lone-cr", "unclosed-quote"],
)
def test_a_file_without_a_final_line_break_gets_a_job_that_completes(
    client, db, worker, data, rows
) -> None:
    response = client.post("/api/imports", files={"file": ("c.csv", data, "text/csv")}, timeout=30)
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["id"])
    assert job["status"] == "completed"
    assert (job["total_rows"], job["file_lines"]) == (rows, data.count(b"\n") + 1)
    assert leftovers(db)["tables"] == 0


STRAY_QUOTE = (
    b"sku,name,description,price\n"
    b'QX-1,Alpha,"7"" tablet,1\n'
    b"QX-2,Beta,Second,2\n"
    b"QX-3,Gamma,Third,3\n"
    b'QX-4,Delta,"Fourth",4\n'
    b"\n"
    b"QX-5,Epsilon,Fifth,5\n"
)


def test_rows_swallowed_by_a_stray_quote_are_reported_and_every_line_counted(
    client, db, worker
) -> None:
    response = upload(client, STRAY_QUOTE)
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["id"])
    assert job["status"] == "completed"
    assert (job["file_lines"], job["blank_lines"], job["total_rows"]) == (7, 1, 5)
    assert (job["created"], job["skipped"]) == (1, 4)
    # Every physical line: the header, the blank one, one row each (none spans lines).
    assert 1 + job["blank_lines"] + job["total_rows"] == job["file_lines"]
    reported = error_report(client, job["id"])
    assert [(line, sku) for line, sku, _ in reported] == [
        ("2", "QX-1"),
        ("3", "QX-2"),
        ("4", "QX-3"),
        ("5", "QX-4"),
    ]
    assert "Lines 2–5 were not imported" in reported[0][2]
    assert db.execute("SELECT sku FROM products").fetchall() == [("QX-5",)]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b"sku,name,description\n", "text/csv", 415, "multipart/form-data"),
        (multipart(b"x"), "multipart/form-data", 400, "no boundary"),
        (
            multipart(b"sku,name,description\n", headers=f"X-Long: {'a' * 5000}\r\n"),
            f"multipart/form-data; boundary={BOUNDARY}",
            400,
            "part header is longer than 4,224 bytes",
        ),
        (
            multipart(
                b"sku,name,description\n", headers="".join(f"X-H{i}: v\r\n" for i in range(9))
            ),
            f"multipart/form-data; boundary={BOUNDARY}",
            400,
            "more than 8 headers",
        ),
        (
            b"sku,name,description\nA,B,C\n",
            f"multipart/form-data; boundary={BOUNDARY}",
            400,
            "not a well-formed multipart/form-data body",
        ),
        (
            multipart(b"x", boundary="b" * 300),
            "multipart/form-data; boundary=" + "b" * 300,
            400,
            "not a well-formed multipart/form-data body",
        ),
        (
            multipart(b"sku,name,description\nA1,n,d\n")[:-30],
            f"multipart/form-data; boundary={BOUNDARY}",
            400,
            "ended before the end of the file",
        ),
        (
            pieces(
                f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=junk\r\n\r\n".encode()
                + b"j" * 300_000
                + b"\r\n"
                + multipart(b"sku,name,description\n")
            ),
            f"multipart/form-data; boundary={BOUNDARY}",
            400,
            "within the first 64 KB",
        ),
    ],
    ids=[
        "not-multipart",
        "no-boundary",
        "part-header-over-4kb",
        "nine-part-headers",
        "body-without-boundary",
        "boundary-over-256",
        "truncated-body",
        "file-field-too-late",
    ],
)
def test_a_malformed_multipart_body_is_a_json_4xx_naming_it(
    client, db, body, content_type, status, words
) -> None:
    response = post_raw(client, iter(body) if isinstance(body, list) else body, content_type)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert words in response.json()["detail"]
    assert leftovers(db) == NOTHING


def test_a_database_connection_killed_mid_upload_answers_a_json_503(client, db) -> None:
    data = csv_bytes(catalog(30_000))
    head = f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=file; filename=c.csv\r\n\r\n"

    def body() -> Iterator[bytes]:
        yield head.encode() + data[:300_000]
        wait_until(lambda: kill_staging_backend(db), timeout=30, what="the COPY to start")
        for i in range(300_000, len(data), 65536):
            yield data[i : i + 65536]
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    response = post_raw(client, body(), f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 503, response.text
    assert "database connection was lost" in response.json()["detail"]
    assert response.headers["retry-after"]
    assert leftovers(db) == NOTHING


@pytest.fixture(scope="module")
def impatient_api(logs, database) -> Iterator[str]:
    """An API server that gives up on a silent client after 8 s (longer than an upload
    waits for a free thread: 2 s) and stages 2 uploads at once."""
    env = {
        **os.environ,
        **TEST_ENV,
        "UPLOAD_READ_TIMEOUT_S": "8",
        "UPLOAD_THREADS": "2",
        "UPLOAD_SLOT_WAIT_S": "2",
    }
    proc, base = start_server(env, logs / "api-impatient.log")
    yield base
    proc.stop()


def stalled_upload(base: str, token: str, sent: bytes) -> socket.socket:
    """Start an upload that announces a big body, sends `sent`, then goes silent."""
    url = urlsplit(base)
    sock = socket.create_connection((url.hostname, url.port), timeout=60)
    head = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=file; filename=s.csv\r\n\r\n"
    ).encode()
    sock.sendall(
        (
            "POST /api/imports HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            "Content-Length: 4000000\r\n\r\n"
        ).encode()
        + head
        + sent
    )
    return sock


def answer_of(sock: socket.socket) -> tuple[int, str]:
    received = b""
    while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
        piece = sock.recv(65536)
        if not piece:
            break
        received += piece
    sock.close()
    status = int(received.split(b" ", 2)[1])
    return status, received.split(b"\r\n\r\n", 1)[1].decode()


def test_a_client_that_stops_sending_is_cut_off_while_others_are_served(
    impatient_api, db, credentials
) -> None:
    token = credentials.admin_token
    rows = b"sku,name,description\n" + b"".join(b"S%d,n,d\n" % i for i in range(100))
    stalled = [stalled_upload(impatient_api, token, rows) for _ in range(2)]
    wait_until(lambda: leftovers(db)["transactions"] == 2, timeout=30, what="both uploads staging")
    with httpx.Client(
        base_url=impatient_api, headers=credentials.bearer("admin"), timeout=60
    ) as api:
        # Every upload thread is held: other requests are answered meanwhile...
        assert api.get("/api/imports", timeout=10).status_code == 200
        # ...and a third upload is told to come back, not left waiting.
        busy = upload(api, csv_bytes(catalog(3)))
        assert busy.status_code == 503, busy.text
        assert "already receiving 2 files" in busy.json()["detail"]
    for sock in stalled:
        status, body = answer_of(sock)
        assert status == 408 and "nothing arrived for 8 s" in body
    assert leftovers(db) == NOTHING


def test_a_slow_upload_is_cut_off_only_when_it_stops(impatient_api, db, credentials) -> None:
    """A client sending a little every second is slow but alive: its file is taken."""
    data = csv_bytes(catalog(8))
    pieces = [data[i : i + 40] for i in range(0, len(data), 40)]

    def body() -> Iterator[bytes]:
        yield (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=file; filename=a.csv\r\n\r\n"
        ).encode()
        for piece in pieces:
            time.sleep(1)
            yield piece
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    with httpx.Client(
        base_url=impatient_api, headers=credentials.bearer("admin"), timeout=60
    ) as api:
        response = post_raw(api, body(), f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 202, response.text
    assert response.json()["total_rows"] == 8


def test_a_stalled_upload_never_blocks_the_process(impatient_api, db, credentials) -> None:
    """Many silent clients at once: each is cut off, none holds anything."""
    token = credentials.admin_token
    threads = []
    answers: list[int] = []
    for _ in range(6):
        sock = stalled_upload(impatient_api, token, b"sku,name,description\nA,b,c\n")
        thread = threading.Thread(target=lambda s=sock: answers.append(answer_of(s)[0]))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=60)
    # Two were staged until cut off; the others were told the server was busy.
    assert len(answers) == 6 and set(answers) <= {408, 503} and 408 in answers
    assert leftovers(db) == NOTHING
