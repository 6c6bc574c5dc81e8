"""The webhooks API against a real server, database and receiver: CRUD, validation, test
send, secret rotation, the delivery log and redelivery."""

from __future__ import annotations

import os
import sys

import httpx
import pytest

from tests.conftest import TEST_ENV, start_server
from tests.support import wait_until
from tests.webhook_receiver import Reply, verifies


def create(client: httpx.Client, url: str, events: list[str] | None = None, **extra) -> dict:
    response = client.post("/api/webhooks", json={"url": url, "events": events or ["*"], **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_answers_the_secret_once_and_reads_never_show_it(client, receiver):
    hook = create(client, receiver.url(), ["product.created"], description="ERP sync")
    assert hook["secret"].startswith("whsec_")
    assert {k: hook[k] for k in ("url", "events", "enabled", "description")} == {
        "url": receiver.url(),
        "events": ["product.created"],
        "enabled": True,
        "description": "ERP sync",
    }
    assert hook["disabled_reason"] is None
    one = client.get(f"/api/webhooks/{hook['id']}").json()
    listed = client.get("/api/webhooks").json()
    assert "secret" not in one and all("secret" not in h for h in listed)
    assert [h["id"] for h in listed] == [hook["id"]]
    assert hook["secret"] not in client.get(f"/api/webhooks/{hook['id']}").text


def test_put_replaces_patch_changes_some_and_delete_removes(client, receiver):
    hook = create(client, receiver.url(), ["product.created"])
    put = client.put(
        f"/api/webhooks/{hook['id']}",
        json={"url": receiver.url("/other"), "events": ["import.completed"], "enabled": True},
    )
    assert put.status_code == 200, put.text
    assert (put.json()["url"], put.json()["events"], put.json()["description"]) == (
        receiver.url("/other"),
        ["import.completed"],
        "",
    )
    patched = client.patch(f"/api/webhooks/{hook['id']}", json={"enabled": False}).json()
    assert patched["enabled"] is False and patched["url"] == receiver.url("/other")
    assert patched["disabled_reason"] == "disabled by an admin" and patched["disabled_at"]
    enabled = client.patch(f"/api/webhooks/{hook['id']}", json={"enabled": True}).json()
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None
    assert client.delete(f"/api/webhooks/{hook['id']}").status_code == 204
    assert client.get(f"/api/webhooks/{hook['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "ftp://x.example/"}, "url", "must start with http:// or https://"),
        ({"url": "http://h.invalid/", "events": ["*"]}, "url", "does not resolve"),
        ({"url": "{url}", "events": ["product.exploded"]}, "events", "unknown event type"),
        ({"url": "{url}", "events": []}, "events", "choose at least one event type"),
        ({"url": "{url}", "description": "x" * 1001}, "description", "longer than 1000"),
    ],
)
def test_a_bad_field_is_refused_with_422_naming_it(client, receiver, body, field, message):
    body = {k: (v.format(url=receiver.url()) if isinstance(v, str) else v) for k, v in body.items()}
    response = client.post("/api/webhooks", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(f"{field}: ")
    assert message in response.json()["detail"]
    assert client.get("/api/webhooks").json() == []


def test_a_missing_url_is_refused_with_422_naming_it(client):
    response = client.post("/api/webhooks", json={"events": ["*"]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "url"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/webhooks/999"),
        ("PUT", "/api/webhooks/999"),
        ("PATCH", "/api/webhooks/999"),
        ("DELETE", "/api/webhooks/999"),
        ("POST", "/api/webhooks/999/test"),
        ("POST", "/api/webhooks/999/rotate-secret"),
        ("GET", "/api/webhooks/999/deliveries"),
        ("POST", "/api/webhooks/deliveries/999/redeliver"),
    ],
)
def test_unknown_ids_answer_404(client, receiver, method, path):
    body = {"PUT": {"url": receiver.url(), "events": ["*"]}, "PATCH": {}}.get(method)
    response = client.request(method, path, json=body)
    assert response.status_code == 404, response.text
    assert "not found" in response.json()["detail"]


def test_test_answers_status_and_latency_and_logs_the_delivery(client, receiver):
    hook = create(client, receiver.url(), ["import.completed"])
    answer = client.post(f"/api/webhooks/{hook['id']}/test")
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["status_code"], result["ok"], result["error"]) == (200, True, None)
    assert isinstance(result["latency_ms"], int) and result["latency_ms"] >= 0
    [request] = receiver.requests()
    assert verifies(request, hook["secret"])
    assert request.json["type"] == "import.completed"
    assert request.headers["webhook-id"].startswith("msg_test_")
    log = client.get(f"/api/webhooks/{hook['id']}/deliveries").json()
    [delivery] = log["items"]
    assert (delivery["is_test"], delivery["status"], delivery["event_type"]) == (
        True,
        "succeeded",
        "import.completed",
    )
    assert delivery["message_id"] == request.headers["webhook-id"]
    [attempt] = delivery["attempt_log"]
    assert (attempt["attempt"], attempt["status_code"], attempt["response_excerpt"]) == (
        1,
        200,
        "ok",
    )


def test_a_failing_test_reports_it_and_does_not_touch_the_endpoint(client, receiver):
    hook = create(client, receiver.url(), ["*"])
    receiver.script("/hook", Reply(410, "gone"))
    result = client.post(f"/api/webhooks/{hook['id']}/test", json={}).json()
    assert (result["status_code"], result["ok"], result["error"]) == (410, False, "HTTP 410")
    after = client.get(f"/api/webhooks/{hook['id']}").json()
    assert after["enabled"] is True and after["failure_streak"] == 0


def test_each_endpoint_keeps_its_newest_test_apart_from_its_health(client, receiver):
    from product_importer.webhooks.deliveries import latest_tests

    tested = create(client, receiver.url("/tested"), ["*"])
    untested = create(client, receiver.url("/untested"), ["*"])
    receiver.script("/tested", Reply(503, "busy"), Reply(200, "ok"))
    client.post(f"/api/webhooks/{tested['id']}/test")
    assert latest_tests()[tested["id"]].status_code == 503
    client.post(f"/api/webhooks/{tested['id']}/test")
    tests = latest_tests()
    assert untested["id"] not in tests
    newest = tests[tested["id"]]
    assert (newest.status_code, newest.ok, newest.error) == (200, True, None)
    assert newest.latency_ms >= 0 and newest.attempted_at is not None
    # Tests never count as the endpoint's health.
    after = client.get(f"/api/webhooks/{tested['id']}").json()
    assert after["last_status_code"] is None and after["failure_streak"] == 0


def test_the_response_excerpt_is_bounded(client, receiver):
    hook = create(client, receiver.url(), ["*"])
    receiver.script("/hook", Reply(200, "x" * 100_000))
    assert client.post(f"/api/webhooks/{hook['id']}/test").json()["ok"] is True
    [delivery] = client.get(f"/api/webhooks/{hook['id']}/deliveries").json()["items"]
    assert delivery["attempt_log"][0]["response_excerpt"] == "x" * 1000


def test_rotate_answers_a_new_secret_and_both_sign_meanwhile(client, receiver):
    hook = create(client, receiver.url(), ["*"])
    rotated = client.post(f"/api/webhooks/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != hook["secret"]
    assert rotated.json()["previous_secret_expires_at"]
    client.post(f"/api/webhooks/{hook['id']}/test")
    [request] = receiver.requests()
    assert len(request.headers["webhook-signature"].split()) == 2
    assert verifies(request, new_secret) and verifies(request, hook["secret"])


def test_redeliver_sends_the_same_message_again(client, receiver, worker):
    hook = create(client, receiver.url(), ["*"])
    client.post(f"/api/webhooks/{hook['id']}/test")
    [delivery] = client.get(f"/api/webhooks/{hook['id']}/deliveries").json()["items"]
    answer = client.post(f"/api/webhooks/deliveries/{delivery['id']}/redeliver")
    assert answer.status_code == 202, answer.text
    first, second = receiver.wait_for(2, timeout=60)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body and verifies(second, hook["secret"])

    def logged_twice() -> bool:
        [d] = client.get(f"/api/webhooks/{hook['id']}/deliveries").json()["items"]
        return d["status"] == "succeeded" and d["attempts"] == 2

    wait_until(logged_twice, timeout=60, what="the redelivery to be logged")


def test_the_log_filters_by_status_and_event_type(client, receiver):
    hook = create(client, receiver.url(), ["*"])
    receiver.script("/hook", Reply(500))
    client.post(f"/api/webhooks/{hook['id']}/test", json={"event_type": "product.deleted"})
    client.post(f"/api/webhooks/{hook['id']}/test", json={"event_type": "import.started"})
    base = f"/api/webhooks/{hook['id']}/deliveries"
    assert client.get(base).json()["total"] == 2
    failed = client.get(base, params={"status": "failed"}).json()["items"]
    assert [d["event_type"] for d in failed] == ["product.deleted"]
    started = client.get(base, params={"event_type": "import.started"}).json()["items"]
    assert [d["status"] for d in started] == ["succeeded"]
    assert client.get(base, params={"status": "lost"}).status_code == 422


def test_private_urls_are_refused_when_the_operator_allows_none(database, logs, credentials):
    """The suite allows loopback for its receiver; an API started without the setting
    refuses private and loopback targets."""
    env = {k: v for k, v in {**os.environ, **TEST_ENV}.items() if k != "WEBHOOK_ALLOW_PRIVATE"}
    assert sys.executable
    proc, base = start_server(env, logs / "api-no-private.log")
    try:
        for url in (
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://10.0.0.7/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/hook",
        ):
            response = httpx.post(
                f"{base}/api/webhooks",
                json={"url": url},
                headers=credentials.bearer("admin"),
                timeout=30,
            )
            assert response.status_code == 422, (url, response.text)
            detail = response.json()["detail"]
            assert detail.startswith("url: ") and "WEBHOOK_ALLOW_PRIVATE" in detail
    finally:
        proc.stop()


def test_credentials_in_the_url_are_masked_in_every_answer_and_kept_for_delivery(
    client, receiver, db
) -> None:
    import base64

    def with_credentials(userinfo: str, path: str = "/hook") -> str:
        return receiver.url(path).replace("http://", f"http://{userinfo}@")

    def basic_auth(path: str) -> str:
        return receiver.wait_for(1, path)[-1].headers["authorization"]

    real = with_credentials("shop:s3cret")
    shown = with_credentials("shop:***")
    hook = create(client, real, ["product.created"])
    assert hook["url"] == shown
    assert client.get(f"/api/webhooks/{hook['id']}").json()["url"] == shown
    assert [h["url"] for h in client.get("/api/webhooks").json()] == [shown]
    assert "s3cret" not in client.get("/api/webhooks").text
    assert "s3cret" not in client.post(f"/api/webhooks/{hook['id']}/rotate-secret").text
    # Delivery uses the real URL: the receiver gets the credentials as Basic auth.
    assert client.post(f"/api/webhooks/{hook['id']}/test").json()["ok"] is True
    expected = "Basic " + base64.b64encode(b"shop:s3cret").decode()
    assert basic_auth("/hook") == expected

    # Edits that send the URL back as shown, or leave it out, keep the stored credentials.
    put = client.put(f"/api/webhooks/{hook['id']}", json={"url": shown, "events": ["*"]})
    assert put.status_code == 200, put.text
    assert put.json()["url"] == shown
    client.patch(f"/api/webhooks/{hook['id']}", json={"description": "ERP"})
    moved = client.patch(
        f"/api/webhooks/{hook['id']}", json={"url": with_credentials("shop:***", "/v2")}
    )
    assert moved.json()["url"] == with_credentials("shop:***", "/v2")
    stored = db.execute("SELECT url FROM webhook_endpoints WHERE id = %s", (hook["id"],)).fetchone()
    assert stored == (with_credentials("shop:s3cret", "/v2"),)
    client.post(f"/api/webhooks/{hook['id']}/test")
    assert basic_auth("/v2") == expected

    # A new password is a new URL; a user name alone is masked whole.
    client.patch(f"/api/webhooks/{hook['id']}", json={"url": with_credentials("shop:n3w", "/v3")})
    client.post(f"/api/webhooks/{hook['id']}/test")
    assert basic_auth("/v3") == "Basic " + base64.b64encode(b"shop:n3w").decode()
    # The mask never carries the credentials to another host.
    elsewhere = client.patch(
        f"/api/webhooks/{hook['id']}", json={"url": "http://shop:***@localhost:9/hook"}
    )
    assert elsewhere.status_code == 200, elsewhere.text
    stored = db.execute("SELECT url FROM webhook_endpoints WHERE id = %s", (hook["id"],)).fetchone()
    assert stored == ("http://shop:***@localhost:9/hook",)
    token_only = create(client, with_credentials("tok_abc"))
    assert token_only["url"] == with_credentials("***")
