"""Access control: every route and event handler is protected; sign-in, sessions, tokens."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys

import httpx
import psycopg
import pytest
from fastapi.routing import iter_route_contexts

from product_importer.access import Principal, Role
from product_importer.api import api
from tests.conftest import ADMIN, EDITOR, ROOT, TEST_ENV, Credentials

# Routes anyone may call, and why.
PUBLIC_ROUTES = {
    ("GET", "/health"): "load balancers and monitors",
    ("GET", "/api/docs"): "API documentation",
    ("GET", "/api/docs/oauth2-redirect"): "API documentation",
    ("GET", "/api/docs/assets"): "API documentation (Swagger UI's files)",
    ("GET", "/api/openapi.json"): "API documentation",
    ("POST", "/api/session"): "signing in",
    ("POST", "/api/session/sign-out"): "only ends the session whose cookie it receives",
}


def _api_routes() -> list[tuple[str, str, Role | None]]:
    """Every (method, path, role needed) of the API, found by walking the app itself."""
    found = []
    for route in iter_route_contexts(api.routes):
        roles = []
        dependant = getattr(route, "dependant", None)
        stack = list(dependant.dependencies) if dependant else []
        while stack:
            dep = stack.pop()
            if isinstance(getattr(dep.call, "required_role", None), Role):
                roles.append(dep.call.required_role)
            stack.extend(dep.dependencies)
        role = Role.admin if Role.admin in roles else (roles[0] if roles else None)
        methods = getattr(route, "methods", None) or {"GET"}  # a mount: static files
        for method in sorted(methods - {"HEAD"}):
            found.append((method, route.path, role))
    return found


def test_the_route_walk_sees_every_router():
    paths = {path for _, path, _ in _api_routes()}
    assert {"/api/imports", "/api/imports/{job_id}/events", "/api/users", "/api/tokens"} <= paths


def test_every_api_route_refuses_anonymous_callers_and_too_small_roles(
    anonymous: httpx.Client, credentials: Credentials
):
    editor = credentials.bearer("editor")
    checked = 0
    for method, path, role in _api_routes():
        if (method, path) in PUBLIC_ROUTES:
            continue
        assert role is not None, f"{method} {path} declares no role: add require(Role...)"
        url = re.sub(r"\{[^}]+\}", "1", path)
        answer = anonymous.request(method, url)
        assert answer.status_code == 401, f"{method} {path} answered {answer.status_code}"
        assert answer.headers["www-authenticate"] == "Bearer"
        bad_token = anonymous.request(method, url, headers={"Authorization": "Bearer pit_nope"})
        assert bad_token.status_code == 401, f"{method} {path} took a made-up token"
        if role is Role.admin:
            answer = anonymous.request(method, url, headers=editor)
            assert answer.status_code == 403, f"{method} {path} let an editor in"
            assert "admin role" in answer.json()["detail"]
        checked += 1
    assert checked >= 10


def test_public_routes_are_only_the_documented_ones():
    public = {(m, p) for m, p, role in _api_routes() if role is None}
    assert public <= set(PUBLIC_ROUTES), f"unprotected routes: {public - set(PUBLIC_ROUTES)}"


# --- Reflex pages and event handlers -------------------------------------------------------


@pytest.fixture(scope="module")
def reflex_app():
    from product_importer import product_importer as module

    return module


def _our_handlers() -> list[str]:
    from reflex_base.registry import RegistrationContext

    return [
        name
        for name, registered in RegistrationContext.get().event_handlers.items()
        if registered.states[0].__module__.startswith("product_importer.")
    ]


def test_every_event_handler_of_ours_declares_a_role_and_refuses_smaller_callers(reflex_app):
    from product_importer.ui.access import Unmarked, needed_role, refusal

    anonymous, editor = None, Principal("user", 1, EDITOR, Role.editor)
    admin = Principal("user", 2, ADMIN, Role.admin)
    handlers = _our_handlers()
    assert len(handlers) >= 15
    public = []
    for name in handlers:
        if name.endswith(".setvar"):  # Reflex's generic setter: refused on our states
            with pytest.raises(Unmarked):
                needed_role(name)
            continue
        role = needed_role(name)  # raises Unmarked for a handler that declares nothing
        if role is None:
            public.append(name.rsplit(".", 1)[1])
            continue
        assert refusal(role, anonymous, "/") is not None, name
        assert refusal(role, admin, "/") is None, name
        assert (refusal(role, editor, "/") is None) == (role is Role.editor), name
    # Public handlers only load the session for the page chrome and the sign-in page.
    assert sorted(public) == ["load", "load_admin_page", "load_editor_page"]


def test_an_unknown_or_undeclared_handler_is_refused(reflex_app):
    from product_importer.ui.access import Unmarked, needed_role

    with pytest.raises(Unmarked):
        needed_role("reflex___state____state.no_such_state.no_such_handler")


def test_every_page_but_sign_in_loads_behind_a_session_guard(reflex_app):
    from product_importer.ui.session_state import SessionState

    guards = {
        SessionState.load_editor_page.fn: Role.editor,
        SessionState.load_admin_page.fn: Role.admin,
    }
    pages = dict(reflex_app.app._load_events)
    assert "sign-in" in {route.strip("/") for route in pages}
    for route, loads in pages.items():
        if route.strip("/") == "sign-in":
            continue
        first = loads[0].fn if hasattr(loads[0], "fn") else None
        assert first in guards, f"page {route} does not load behind a session guard"
    assert guards[pages["webhooks"][0].fn] is Role.admin
    assert guards[pages["access"][0].fn] is Role.admin


# --- sign-in, sessions, cookies --------------------------------------------------------------


def _sign_in(anonymous: httpx.Client, username: str, password: str) -> httpx.Response:
    return anonymous.post("/api/session", json={"username": username, "password": password})


def test_a_wrong_password_is_refused_and_the_right_one_signs_in(anonymous, credentials):
    wrong = _sign_in(anonymous, ADMIN, "not the password")
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "wrong user name or password"
    assert "set-cookie" not in wrong.headers
    assert _sign_in(anonymous, "nobody", "whatever12").status_code == 401

    right = _sign_in(anonymous, ADMIN.upper(), credentials.admin_password)
    assert right.status_code == 200
    assert right.json() == {"name": ADMIN, "role": "admin", "kind": "user"}
    assert anonymous.get("/api/session").json()["name"] == ADMIN  # the cookie works


def test_the_session_cookie_is_http_only_same_site_and_stored_hashed(
    anonymous, credentials, db: psycopg.Connection
):
    answer = _sign_in(anonymous, EDITOR, credentials.editor_password)
    cookie = answer.headers["set-cookie"]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path", "max-age"} <= flags
    assert "samesite=lax" in cookie.lower()
    token = anonymous.cookies["pi_session"]
    assert len(token) > 40
    stored = [h for (h,) in db.execute("SELECT token_hash FROM user_sessions").fetchall()]
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_signing_out_ends_the_session_everywhere(anonymous, credentials, api_base):
    _sign_in(anonymous, EDITOR, credentials.editor_password)
    token = anonymous.cookies["pi_session"]
    out = anonymous.post("/api/session/sign-out")
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    # Even a copy of the old cookie no longer works.
    with httpx.Client(base_url=api_base, cookies={"pi_session": token}) as copy:
        assert copy.get("/api/session").status_code == 401


def test_an_expired_session_is_refused(anonymous, credentials, db):
    _sign_in(anonymous, EDITOR, credentials.editor_password)
    assert anonymous.get("/api/imports").status_code == 200
    db.execute("UPDATE user_sessions SET expires_at = now() - interval '1 second'")
    assert anonymous.get("/api/imports").status_code == 401


def test_failed_sign_ins_are_rate_limited_per_user_and_per_address(
    anonymous, credentials, api_base
):
    for _ in range(5):
        assert _sign_in(anonymous, EDITOR, "wrong password").status_code == 401
    paused = _sign_in(anonymous, EDITOR, credentials.editor_password)  # even the right one
    assert paused.status_code == 429
    assert "too many failed sign-ins" in paused.json()["detail"]
    assert 0 < int(paused.headers["retry-after"]) <= 900
    # Another user from the same address still gets in, until the address limit (20).
    assert _sign_in(anonymous, ADMIN, credentials.admin_password).status_code == 200
    for n in range(15):
        _sign_in(anonymous, f"guess{n}", "wrong password")
    # That browser is now a known device for the admin (it signed in as them): it goes
    # on; any other browser from the address is paused.
    assert _sign_in(anonymous, ADMIN, credentials.admin_password).status_code == 200
    with httpx.Client(base_url=api_base) as another_browser:
        assert _sign_in(another_browser, ADMIN, credentials.admin_password).status_code == 429


def test_the_sign_in_form_redirects_back_with_the_cookie_or_with_the_problem(
    anonymous, credentials
):
    form = {"username": EDITOR, "password": "wrong password", "next": "/products"}
    bad = anonymous.post("/api/session", data=form)
    assert bad.status_code == 303
    assert bad.headers["location"].startswith("/sign-in?error=wrong%20user%20name")
    assert "next=/products" in bad.headers["location"]
    assert bad.headers["location"].endswith(f"&user={EDITOR}")  # typed again for them
    odd = anonymous.post("/api/session", data={**form, "username": "<script>" + "x" * 100})
    assert odd.headers["location"].endswith("&user=")  # a name no user can have is dropped
    good = anonymous.post("/api/session", data={**form, "password": credentials.editor_password})
    assert good.status_code == 303 and good.headers["location"] == "/products"
    assert "pi_session" in anonymous.cookies
    elsewhere = anonymous.post(
        "/api/session", data={**form, "password": credentials.editor_password, "next": "//evil"}
    )
    assert elsewhere.headers["location"] == "/"  # no open redirect


# --- API tokens and users ------------------------------------------------------------------


def test_a_token_is_shown_once_stored_hashed_records_its_use_and_can_be_revoked(
    client, anonymous, db
):
    made = client.post("/api/tokens", json={"name": "nightly sync", "role": "editor"})
    assert made.status_code == 201
    token = made.json()["token"]
    assert token.startswith("pit_") and made.json()["hint"] == "…" + token[-4:]
    listed = client.get("/api/tokens").json()
    assert all("token" not in t for t in listed)
    assert db.execute(
        "SELECT count(*) FROM api_tokens WHERE token_hash = %s",
        (hashlib.sha256(token.encode()).hexdigest(),),
    ).fetchone() == (1,)
    assert db.execute(
        "SELECT count(*) FROM api_tokens WHERE token_hash = %s", (token,)
    ).fetchone() == (0,)

    use = {"Authorization": f"Bearer {token}"}
    assert anonymous.get("/api/session", headers=use).json() == {
        "name": "nightly sync", "role": "editor", "kind": "token",
    }  # fmt: skip
    assert anonymous.get("/api/tokens", headers=use).status_code == 403
    [row] = [t for t in client.get("/api/tokens").json() if t["id"] == made.json()["id"]]
    assert row["last_used_at"] is not None and row["created_by"] == "tests admin"

    revoked = client.delete(f"/api/tokens/{row['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert anonymous.get("/api/imports", headers=use).status_code == 401


def test_admins_manage_users_and_the_last_admin_stays(client, anonymous):
    made = client.post("/api/users", json={"username": "newbie", "role": "editor"})
    assert made.status_code == 201
    password = made.json()["password"]
    assert _sign_in(anonymous, "newbie", password).status_code == 200
    assert client.post("/api/users", json={"username": "NEWBIE"}).status_code == 409
    short = client.post("/api/users", json={"username": "shorty", "password": "123"})
    assert short.status_code == 422 and "at least 10" in short.json()["detail"]
    bad_name = client.post("/api/users", json={"username": "has space"})
    assert bad_name.status_code == 422 and "username" in bad_name.json()["detail"]

    user_id = made.json()["id"]
    changed = client.patch(f"/api/users/{user_id}", json={"password": "a-new-password"})
    assert changed.status_code == 200
    assert anonymous.get("/api/session").status_code == 401  # a new password signs out
    assert client.delete(f"/api/users/{user_id}").status_code == 204
    assert client.delete(f"/api/users/{user_id}").status_code == 404

    admins = [u for u in client.get("/api/users").json() if u["role"] == "admin"]
    assert len(admins) == 1
    last = client.delete(f"/api/users/{admins[0]['id']}")
    assert last.status_code == 422 and "last admin" in last.json()["detail"]
    demote = client.patch(f"/api/users/{admins[0]['id']}", json={"role": "editor"})
    assert demote.status_code == 422


# --- command line ---------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "product_importer", *args],
        cwd=ROOT,
        env={**os.environ, **TEST_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_line_prints_a_new_token_alone_and_creates_users(anonymous, credentials):
    made = _cli("tokens", "create", "deploy script", "--role", "admin")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert re.fullmatch(r"pit_[A-Za-z0-9_-]{40,}", token), made.stdout
    assert (
        anonymous.get("/api/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )

    user = _cli("users", "create", "cli-user", "--role", "editor")
    assert user.returncode == 0, user.stderr
    password = user.stdout.rsplit(" ", 1)[1].strip()
    assert _sign_in(anonymous, "cli-user", password).status_code == 200
    again = _cli("users", "create", "cli-user")
    assert again.returncode == 1 and "already exists" in again.stderr
    assert _cli("users", "delete", "cli-user").returncode == 0


def test_the_first_start_creates_one_admin_only_when_there_are_no_users(db, credentials):
    from product_importer.access import users

    assert users.ensure_first_admin() is None  # the test users exist
    db.execute("CREATE TEMP TABLE keep AS SELECT * FROM users")
    try:
        db.execute("DELETE FROM users")
        password = users.ensure_first_admin()
        assert password and len(password) >= 12
        assert users.authenticate("admin", password).role is Role.admin
        assert users.ensure_first_admin() is None
    finally:
        db.execute("DELETE FROM users")
        db.execute("INSERT INTO users SELECT * FROM keep")
