"""Other sites' pages cannot act with a browser's session, on the real app's backend (Reflex
in production mode, with the API inside it, as `make run` serves them): cross-site sign-in
and cookie-carrying changes are refused 403, CORS allows only ALLOWED_ORIGINS (Reflex's
default echoed every origin, with credentials), and the websocket refuses a foreign
Origin. API calls with a bearer token are not affected."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN, TEST_ENV, Credentials, Process
from tests.support import free_port, wait_until

PARTNER = "https://partner.example"
FOREIGN = "https://evil.example"


@pytest.fixture(scope="module")
def app_base(database: str, logs: Path) -> Iterator[str]:
    """The app's backend (no frontend build needed) with one allowed partner origin."""
    port = free_port()
    env = {**os.environ, **TEST_ENV, "ALLOWED_ORIGINS": PARTNER, "PORT": str(port)}
    command = ["-m", "product_importer.reflex_cli", "run", "--env", "prod", "--backend-only"]
    proc = Process(
        [sys.executable, *command, "--backend-port", str(port)], env, logs / "app-backend.log"
    )
    proc.start()
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(base + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, timeout=180, what="the app's backend to start")
        yield base
    finally:
        proc.stop()


def _sign_in_form(base: str, credentials: Credentials, **headers: str) -> httpx.Response:
    return httpx.post(
        base + "/api/session",
        data={"username": ADMIN, "password": credentials.admin_password, "next": "/"},
        headers=headers,
        follow_redirects=False,
    )


def test_a_foreign_form_post_to_sign_in_is_refused_and_sets_no_cookie(
    app_base: str, credentials: Credentials, db
) -> None:
    refused = _sign_in_form(app_base, credentials, origin=FOREIGN)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/json"
    assert FOREIGN in refused.json()["detail"]
    assert "set-cookie" not in refused.headers
    # Without Origin, a foreign Referer is refused the same way; "null" too.
    referred = _sign_in_form(app_base, credentials, referer=FOREIGN + "/login.html")
    assert referred.status_code == 403 and "set-cookie" not in referred.headers
    assert _sign_in_form(app_base, credentials, origin="null").status_code == 403
    # The app's own page, and the allowed partner, sign in.
    for origin in (app_base, PARTNER):
        signed_in = _sign_in_form(app_base, credentials, origin=origin)
        assert signed_in.status_code == 303, signed_in.text
        assert "pi_session=" in signed_in.headers["set-cookie"]


def test_cookie_carrying_changes_from_another_site_are_refused_tokens_are_not(
    app_base: str, credentials: Credentials, db
) -> None:
    with httpx.Client(base_url=app_base, timeout=60) as browser:
        assert browser.post(
            "/api/session",
            json={"username": ADMIN, "password": credentials.admin_password},
            headers={"origin": app_base},
        ).is_success
        product = {"sku": "CSRF-1", "name": "Kept"}
        refused = browser.post("/api/products", json=product, headers={"origin": FOREIGN})
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"].startswith("a request from another site's page")
        assert browser.delete("/api/products/1", headers={"origin": FOREIGN}).status_code == 403
        assert browser.get("/api/products").json()["total"] == 0
        # Reading is no change; the app's own page changes.
        assert browser.get("/api/products", headers={"origin": FOREIGN}).status_code == 200
        made = browser.post("/api/products", json=product, headers={"origin": app_base})
        assert made.status_code == 201, made.text
    # A bearer token from anywhere is the API's ordinary caller.
    scripted = httpx.post(
        app_base + "/api/products",
        json={"sku": "CSRF-2", "name": "By token"},
        headers={**credentials.bearer("admin"), "origin": FOREIGN},
    )
    assert scripted.status_code == 201, scripted.text


def _preflight(base: str, origin: str) -> httpx.Response:
    return httpx.options(
        base + "/api/products",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )


def test_cors_allows_only_the_listed_origins(app_base: str) -> None:
    foreign = _preflight(app_base, FOREIGN)
    assert "access-control-allow-origin" not in foreign.headers
    partner = _preflight(app_base, PARTNER)
    assert partner.status_code == 200
    assert partner.headers["access-control-allow-origin"] == PARTNER
    simple = httpx.get(app_base + "/health", headers={"origin": FOREIGN})
    assert "access-control-allow-origin" not in simple.headers


def _handshake(base: str, origin: str) -> bytes:
    """The first line of the answer to a websocket handshake on the app's event socket."""
    host = base.removeprefix("http://")
    name, port = host.rsplit(":", 1)
    with socket.create_connection((name, int(port)), timeout=30) as sock:
        sock.sendall(
            f"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {origin}\r\n\r\n".encode()
        )
        return sock.recv(4096).split(b"\r\n", 1)[0]


def test_the_websocket_refuses_a_foreign_origin(app_base: str) -> None:
    assert b" 101 " not in _handshake(app_base, FOREIGN) + b" "
    assert b" 403" in _handshake(app_base, FOREIGN)
    assert _handshake(app_base, app_base).startswith(b"HTTP/1.1 101")
    assert _handshake(app_base, PARTNER).startswith(b"HTTP/1.1 101")
