"""API tokens die with their owner and never outrank them, through the real API: an admin
makes tokens (signed in, and with one of their tokens), is demoted, promoted, deleted."""

from __future__ import annotations

import httpx

PASSWORD = "a long enough password 1"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_admins_tokens_follow_their_role_and_die_with_them(
    client: httpx.Client, anonymous: httpx.Client
) -> None:
    made = client.post(
        "/api/users", json={"username": "bea", "role": "admin", "password": PASSWORD}
    )
    assert made.status_code == 201, made.text
    bea = made.json()["id"]
    signed_in = anonymous.post("/api/session", json={"username": "bea", "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    token = anonymous.post("/api/tokens", json={"name": "bea's script", "role": "admin"})
    assert token.status_code == 201, token.text
    own = token.json()["token"]
    anonymous.cookies.clear()
    # A token made with that token belongs to bea too.
    second = client.post(
        "/api/tokens", json={"name": "by token", "role": "admin"}, headers=_bearer(own)
    )
    assert second.status_code == 201, second.text
    made_by_token = second.json()["token"]
    for secret in (own, made_by_token):
        assert client.get("/api/users", headers=_bearer(secret)).status_code == 200

    # Demoted: the tokens are worth an editor's role now, whatever they were made with.
    assert client.patch(f"/api/users/{bea}", json={"role": "editor"}).status_code == 200
    for secret in (own, made_by_token):
        refused = client.get("/api/users", headers=_bearer(secret))
        assert refused.status_code == 403, refused.text
        assert client.get("/api/products", headers=_bearer(secret)).status_code == 200
        assert client.get("/api/session", headers=_bearer(secret)).json()["role"] == "editor"
    # Promoted again: back to the token's own role.
    assert client.patch(f"/api/users/{bea}", json={"role": "admin"}).status_code == 200
    assert client.get("/api/users", headers=_bearer(own)).status_code == 200

    # Deleted: the tokens stop working at once, and are gone from the list.
    assert client.delete(f"/api/users/{bea}").status_code == 204
    for secret in (own, made_by_token):
        gone = client.get("/api/products", headers=_bearer(secret))
        assert gone.status_code == 401, gone.text
    names = {t["name"] for t in client.get("/api/tokens").json()}
    assert not names & {"bea's script", "by token"}
    # The suite's own tokens (made on the command line's path, without an owner) still work.
    assert client.get("/api/users").status_code == 200


def test_an_editor_token_of_an_admin_stays_an_editor(client: httpx.Client) -> None:
    made = client.post("/api/users", json={"username": "cy", "role": "admin", "password": PASSWORD})
    assert made.status_code == 201
    with httpx.Client(base_url=str(client.base_url), timeout=60) as browser:
        browser.post("/api/session", json={"username": "cy", "password": PASSWORD})
        editor = browser.post("/api/tokens", json={"name": "cy editor", "role": "editor"})
    secret = editor.json()["token"]
    assert client.get("/api/users", headers=_bearer(secret)).status_code == 403
    assert client.get("/api/products", headers=_bearer(secret)).status_code == 200
    client.delete(f"/api/users/{made.json()['id']}")
