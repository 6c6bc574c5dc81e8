"""Values PostgreSQL or the multipart parser cannot take get a JSON 4xx naming the problem,
never a 500: ids and pages past a bigint, NUL characters in query filters and JSON bodies,
malformed multipart bodies. Each case goes to the suite's real API server."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

BIGINT_PAST = "9223372036854775808"
HUGE_PAGE = "9223372036854775807"


def _multipart(headers: bytes) -> bytes:
    return (
        b'--BB\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        + headers
        + b"\r\nsku,name\r\nA,B\r\n--BB--\r\n"
    )


MULTIPART = {"content-type": "multipart/form-data; boundary=BB"}
JSON = {"content-type": "application/json"}

# (method, path, request keywords, status, words the answer must hold)
CASES: list[tuple[str, str, dict[str, Any], int, str]] = [
    # Ids past a bigint: nothing can have them.
    ("GET", f"/api/imports/{BIGINT_PAST}", {}, 404, "ids are at most"),
    ("POST", f"/api/imports/{BIGINT_PAST}/cancel", {}, 404, "ids are at most"),
    ("GET", f"/api/products/{BIGINT_PAST}", {}, 404, "ids are at most"),
    ("DELETE", f"/api/products/{BIGINT_PAST}", {}, 404, "ids are at most"),
    ("GET", f"/api/products/bulk-deletes/{BIGINT_PAST}", {}, 404, "ids are at most"),
    ("GET", f"/api/webhooks/{BIGINT_PAST}", {}, 404, "ids are at most"),
    ("DELETE", f"/api/tokens/{BIGINT_PAST}", {}, 404, "ids are at most"),
    ("PATCH", f"/api/users/{BIGINT_PAST}", {"json": {"role": "editor"}}, 404, "ids are at most"),
    ("DELETE", f"/api/users/{BIGINT_PAST}", {}, 404, "ids are at most"),
    ("POST", f"/api/webhooks/deliveries/{BIGINT_PAST}/redeliver", {}, 404, "ids are at most"),
    # Not a whole number at all.
    ("DELETE", "/api/tokens/1e20", {}, 422, "token_id"),
    ("PATCH", "/api/users/1e20", {"json": {"role": "editor"}}, 422, "user_id"),
    # Pages: the bound is named.
    ("GET", f"/api/imports?page={HUGE_PAGE}", {}, 422, "1000000000"),
    ("GET", f"/api/products?page={HUGE_PAGE}", {}, 422, "1000000000"),
    ("GET", "/api/products?page=1e20", {}, 422, "page"),
    ("GET", f"/api/webhooks/1/deliveries?page={HUGE_PAGE}", {}, 422, "1000000000"),
    # NUL in query filters.
    ("GET", "/api/products?name=%00", {}, 422, "name"),
    ("GET", "/api/products?q=a%00b", {}, 422, "q"),
    ("GET", "/api/products?sku=%00", {}, 422, "sku"),
    ("GET", "/api/products/export?description=%00", {}, 422, "description"),
    ("GET", "/api/webhooks/1/deliveries?event_type=%00", {}, 422, "event_type"),
    # NUL in JSON bodies.
    ("POST", "/api/products", {"json": {"sku": "X\u0000Y", "name": "n"}}, 422, "sku"),
    ("POST", "/api/tokens", {"json": {"name": "X\u0000Y"}}, 422, "name"),
    (
        "POST",
        "/api/users",
        {"json": {"username": "u1", "password": "p\u0000" * 8}},
        422,
        "password",
    ),
    (
        "POST",
        "/api/webhooks",
        {"json": {"url": "http://127.0.0.1:9/", "description": "a\u0000"}},
        422,
        "description",
    ),
    (
        "POST",
        "/api/session",
        {"json": {"username": "X\u0000Y", "password": "a"}},
        422,
        "username",
    ),
    (
        "POST",
        "/api/session",
        {"data": {"username": "a\u0000b", "password": "x"}},
        422,
        "username",
    ),
    # Malformed multipart.
    ("POST", "/api/imports", {"headers": {"content-type": "multipart/form-data"}}, 400, "boundary"),
    (
        "POST",
        "/api/imports",
        {"headers": MULTIPART, "content": _multipart(b"X-Long: " + b"a" * 5000 + b"\r\n")},
        400,
        "part header is longer",
    ),
    (
        "POST",
        "/api/imports",
        {
            "headers": MULTIPART,
            "content": _multipart(b"".join(b"X-H%d: v\r\n" % i for i in range(10))),
        },
        400,
        "more than 8 headers",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "words"),
    CASES,
    ids=[f"{m} {p[:60]}" for m, p, *_ in CASES],
)
def test_bad_input_gets_a_json_4xx_naming_it(
    client: httpx.Client, method: str, path: str, kwargs: dict, status: int, words: str
) -> None:
    answer = client.request(method, path, **kwargs)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert words in answer.text


def test_ordinary_values_still_work(client: httpx.Client) -> None:
    assert client.get("/api/products?page=1000000000&name=plain").status_code == 200
    assert client.get("/api/imports/9223372036854775807").status_code == 404
    assert client.get("/api/imports?page=2").json()["items"] == []


def _upload_named(filename: bytes) -> bytes:
    return (
        b'--BB\r\nContent-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"\r\nsku,name,description\r\nNUL-1,B,C\r\n--BB--\r\n"
    )


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (b"a\x00b.csv", "ab.csv"),  # PostgreSQL cannot store the NUL
        (b"C:\\fakepath\\prices.csv", "prices.csv"),
        (b"../../etc/prices.csv", "prices.csv"),
        (b"x" * 400 + b".csv", "x" * 255),
        (b"\x01\x02", "upload.csv"),
    ],
)
def test_a_file_name_is_kept_without_path_or_control_characters(
    client: httpx.Client, sent: bytes, kept: str
) -> None:
    answer = client.post("/api/imports", content=_upload_named(sent), headers=MULTIPART)
    assert answer.status_code == 202, answer.text
    assert answer.json()["filename"] == kept


@pytest.mark.parametrize(
    "field", ["mapping", "mode", "missing", "confirm_delete_missing", "dry_run", "decimal", "sheet"]
)
def test_a_nul_in_any_form_field_of_an_upload_is_a_4xx_or_harmless(
    client: httpx.Client, field: str
) -> None:
    """A text field of the upload form holding a NUL (PostgreSQL cannot store it) never
    answers 5xx, whatever field it is in."""
    body = (
        b'--BB\r\nContent-Disposition: form-data; name="' + field.encode() + b'"\r\n\r\n'
        b"x\x00y\r\n" + _upload_named(b"nul-field.csv")
    )
    answer = client.post("/api/imports", content=body, headers=MULTIPART)
    assert answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("application/json")
