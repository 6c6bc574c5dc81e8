"""Webhook delivery end to end: a real worker (with its relay), PostgreSQL, Redis and a real
HTTP receiver. The tests' retry schedule is 1 s, 1 s, 2 s and three failed events in a row
disable an endpoint (tests/conftest.py)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable

import httpx
import pytest

from product_importer import db as database
from product_importer.events import EventType, record_event
from product_importer.events.payloads import (
    BulkDeletedData,
    ImportData,
    ProductData,
    RevertedData,
    sample_payload,
)
from tests.conftest import TEST_ENV, Process
from tests.support import catalog, csv_bytes, import_csv, upload, wait_for_job, wait_until
from tests.webhook_receiver import Reply, verifies

# The schedule of the tests (WEBHOOK_RETRY_SCHEDULE) and its jitter (±10%).
SCHEDULE = (1.0, 1.0, 2.0)
EARLIEST = 0.9


def create(client: httpx.Client, url: str, events: list[str], **extra) -> dict:
    response = client.post("/api/webhooks", json={"url": url, "events": events, **extra})
    assert response.status_code == 201, response.text
    return response.json()


# The field of each payload type that tells the tests' events apart.
_NUMBERED = {
    ProductData: "id",
    ImportData: "import_id",
    BulkDeletedData: "job_id",
    RevertedData: "revert_id",
}


def record_committed(event_type: EventType, n: int) -> int:
    """A change committed with its event, as the products code records it: the sample
    payload of the type, numbered `n`."""
    sample = sample_payload(event_type)
    data = sample.model_copy(update={_NUMBERED[type(sample)]: n})
    with database.connect() as conn:
        event_id = record_event(conn, event_type, data)
        conn.commit()
    return event_id


def deliveries(client: httpx.Client, hook: dict, **params) -> list[dict]:
    return client.get(f"/api/webhooks/{hook['id']}/deliveries", params=params).json()["items"]


def hook_state(client: httpx.Client, hook: dict) -> dict:
    return client.get(f"/api/webhooks/{hook['id']}").json()


def quiet_for(seconds: float) -> None:
    """Let the worker run a while, so that a wrong extra request would have arrived."""
    time.sleep(seconds)


def test_each_event_type_arrives_once_per_subscribed_endpoint_signed(client, receiver, worker):
    everything = create(client, receiver.url("/all"), ["*"])
    some = create(client, receiver.url("/some"), ["product.created", "import.completed"])
    create(client, receiver.url("/off"), ["*"], enabled=False)
    for n, event_type in enumerate(EventType):
        record_committed(event_type, n)

    got_all = receiver.wait_for(len(EventType), "/all")
    got_some = receiver.wait_for(2, "/some")
    quiet_for(2)
    assert len(receiver.requests("/all")) == len(EventType)
    assert len(receiver.requests("/some")) == 2
    assert receiver.requests("/off") == []
    assert sorted(r.json["type"] for r in got_all) == sorted(str(t) for t in EventType)
    assert sorted(r.json["type"] for r in got_some) == ["import.completed", "product.created"]
    for request, secret in [(r, everything["secret"]) for r in got_all] + [
        (r, some["secret"]) for r in got_some
    ]:
        assert verifies(request, secret), request.headers
        assert request.headers["content-type"] == "application/json"
        assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 300
        body = request.json
        assert set(body) == {"type", "timestamp", "data"}
        n = [str(t) for t in EventType].index(body["type"])
        sample = sample_payload(EventType(body["type"]))
        assert body["data"] == sample.model_copy(update={_NUMBERED[type(sample)]: n}).model_dump(
            mode="json"
        )
    ids = [r.headers["webhook-id"] for r in got_all + got_some]
    assert len(set(ids)) == len(ids)


def test_a_500_is_retried_on_the_schedule_until_200_with_the_same_id(client, receiver, worker):
    hook = create(client, receiver.url(), ["product.updated"])
    receiver.script("/hook", Reply(500, "boom"), Reply(500, "boom again"))
    record_committed(EventType.product_updated, 1)

    first, second, third = receiver.wait_for(3, timeout=60)
    assert (
        first.headers["webhook-id"] == second.headers["webhook-id"] == third.headers["webhook-id"]
    )
    assert first.body == second.body == third.body
    assert all(verifies(r, hook["secret"]) for r in (first, second, third))
    # Each retry waits at least its step of the schedule (less its jitter).
    assert second.at - first.at >= SCHEDULE[0] * EARLIEST
    assert third.at - second.at >= SCHEDULE[1] * EARLIEST

    def logged() -> bool:
        items = deliveries(client, hook)
        return bool(items) and items[0]["status"] == "succeeded"

    wait_until(logged, timeout=60, what="the delivery to be logged as succeeded")
    [delivery] = deliveries(client, hook)
    log = delivery["attempt_log"]
    assert [a["attempt"] for a in log] == [1, 2, 3]
    assert [a["status_code"] for a in log] == [500, 500, 200]
    assert [a["response_excerpt"] for a in log] == ["boom", "boom again", "ok"]
    assert [a["error"] for a in log] == ["HTTP 500", "HTTP 500", None]
    assert all(isinstance(a["latency_ms"], int) for a in log)
    quiet_for(2.5)
    assert len(receiver.requests()) == 3
    assert hook_state(client, hook)["failure_streak"] == 0


def test_retry_after_is_honoured(client, receiver, worker):
    create(client, receiver.url(), ["product.deleted"])
    receiver.script("/hook", Reply(503, headers={"Retry-After": "4"}))
    record_committed(EventType.product_deleted, 1)
    first, second = receiver.wait_for(2, timeout=60)
    # The schedule says 1 s; the receiver asked for 4.
    assert second.at - first.at >= 4


def test_410_disables_the_endpoint_and_stops_its_deliveries(client, receiver, worker):
    hook = create(client, receiver.url(), ["*"])
    receiver.script("/hook", Reply(410, "gone"))
    record_committed(EventType.product_created, 1)
    receiver.wait_for(1)
    wait_until(
        lambda: hook_state(client, hook)["enabled"] is False,
        timeout=60,
        what="the endpoint to be disabled",
    )
    state = hook_state(client, hook)
    assert "410" in state["disabled_reason"] and state["disabled_at"]
    record_committed(EventType.product_created, 2)
    quiet_for(3)
    assert len(receiver.requests()) == 1
    [delivery] = deliveries(client, hook)
    assert delivery["status"] == "failed"

    # Redelivering to a disabled endpoint sends nothing and says why.
    assert client.post(f"/api/webhooks/deliveries/{delivery['id']}/redeliver").status_code == 202
    wait_until(
        lambda: deliveries(client, hook)[0]["last_error"].startswith("not sent: the endpoint"),
        timeout=60,
        what="the redelivery to be refused",
    )
    assert deliveries(client, hook)[0]["status"] == "failed"
    assert len(receiver.requests()) == 1


def test_an_endpoint_failing_the_configured_streak_of_events_is_disabled(client, receiver, worker):
    hook = create(client, receiver.url(), ["product.updated"])
    attempts_per_event = len(SCHEDULE) + 1
    receiver.script("/hook", *[Reply(500)] * (3 * attempts_per_event))
    for n in range(3):  # WEBHOOK_DISABLE_AFTER=3 in the tests
        record_committed(EventType.product_updated, n)

    wait_until(
        lambda: hook_state(client, hook)["enabled"] is False,
        timeout=60,
        what="the endpoint to be disabled after three failed events",
    )
    state = hook_state(client, hook)
    assert state["failure_streak"] == 3
    assert state["disabled_reason"].startswith("disabled automatically: 3 events in a row failed")
    assert "HTTP 500" in state["disabled_reason"] and state["disabled_at"]
    assert state["last_status_code"] == 500
    assert len(receiver.requests()) == 3 * attempts_per_event
    assert all(d["attempts"] == attempts_per_event for d in deliveries(client, hook))

    again = client.patch(f"/api/webhooks/{hook['id']}", json={"enabled": True}).json()
    assert (again["enabled"], again["failure_streak"], again["disabled_reason"]) == (True, 0, None)


def test_a_success_resets_the_failure_streak(client, receiver, worker):
    hook = create(client, receiver.url(), ["product.updated"])
    receiver.script("/hook", *[Reply(500)] * (len(SCHEDULE) + 1))
    record_committed(EventType.product_updated, 1)
    wait_until(
        lambda: hook_state(client, hook)["failure_streak"] == 1,
        timeout=60,
        what="one failed event",
    )
    record_committed(EventType.product_updated, 2)
    wait_until(
        lambda: hook_state(client, hook)["failure_streak"] == 0,
        timeout=60,
        what="the streak to be reset by a success",
    )
    assert hook_state(client, hook)["enabled"] is True


def test_an_import_sends_started_and_completed_with_counts_not_one_event_per_row(
    client, receiver, worker
):
    create(client, receiver.url(), ["*"])
    job = import_csv(client, csv_bytes(catalog(1000)))  # 5 batches of 200 in the tests
    received = receiver.wait_for(2)
    quiet_for(2)
    assert len(receiver.requests()) == 2
    by_type = {r.json["type"]: r for r in received}
    started, completed = by_type["import.started"], by_type["import.completed"]
    assert started.json["data"]["import_id"] == job["id"]
    assert started.json["data"]["total_rows"] == 1000
    data = completed.json["data"]
    assert (data["import_id"], data["status"], data["created"], data["skipped"]) == (
        job["id"],
        "completed",
        1000,
        0,
    )
    assert (data["updated"], data["unchanged"], data["processed_rows"]) == (0, 0, 1000)


def test_an_import_that_fails_sends_import_failed(client, receiver, worker, db):
    create(client, receiver.url(), ["import.failed"])
    worker.kill()  # so that the job waits while its staged rows disappear
    try:
        response = upload(client, csv_bytes(catalog(10)))
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        db.execute(f"DROP TABLE import_staging_{job_id}")
    finally:
        worker.ensure_running()
    job = wait_for_job(client, job_id)
    assert job["status"] == "failed"
    [request] = receiver.wait_for(1)
    assert request.json["type"] == "import.failed"
    assert request.json["data"]["import_id"] == job_id
    assert "staged rows" in request.json["data"]["error"]


def test_events_recorded_while_no_worker_ran_are_delivered_once_it_starts(client, receiver, worker):
    create(client, receiver.url(), ["product.created"])
    worker.kill()
    try:
        for n in range(5):
            record_committed(EventType.product_created, n)
        time.sleep(0.5)
        assert receiver.requests() == []
    finally:
        worker.ensure_running()
    received = receiver.wait_for(5)
    quiet_for(2)
    assert sorted(r.json["data"]["id"] for r in receiver.requests()) == [0, 1, 2, 3, 4]
    assert len({r.headers["webhook-id"] for r in received}) == 5


def test_two_worker_processes_fan_out_each_event_exactly_once(client, receiver, worker, logs):
    create(client, receiver.url("/a"), ["*"])
    create(client, receiver.url("/b"), ["*"])
    second = Process(
        [sys.executable, "-m", "dramatiq", "product_importer.worker", "--processes", "1"],
        {**os.environ, **TEST_ENV},
        logs / "worker-2.log",
    )
    second.start()
    try:
        time.sleep(3)  # both relays listening
        for n in range(60):
            record_committed(EventType.product_updated, n)
        receiver.wait_for(60, "/a")
        receiver.wait_for(60, "/b")
        quiet_for(2)
    finally:
        second.stop()
    for path in ("/a", "/b"):
        got = receiver.requests(path)
        assert sorted(r.json["data"]["id"] for r in got) == list(range(60))
        assert len({r.headers["webhook-id"] for r in got}) == 60


# Requests that record an event; each must answer before a slow receiver has answered.
# POST /api/products joins this list when the products API lands.
CHANGE_REQUESTS: dict[str, Callable[[httpx.Client], httpx.Response]] = {
    "POST /api/imports": lambda client: upload(client, csv_bytes(catalog(10))),
    "POST /api/products": lambda client: client.post(
        "/api/products", json={"sku": "SLOW-1", "name": "Slow", "price": "1.00"}
    ),
}


@pytest.mark.parametrize("change", list(CHANGE_REQUESTS))
def test_a_receiver_that_sleeps_10_s_does_not_slow_the_request(client, receiver, worker, change):
    hook = create(client, receiver.url(), ["*"])
    # Only the first answer is slow: later events of the change (import.completed) must
    # not hold the worker's threads for the tests that follow.
    receiver.script("/hook", Reply(sleep_s=10))
    response = CHANGE_REQUESTS[change](client)
    answered_at = time.time()
    assert response.status_code < 300, response.text
    first = min(receiver.wait_for(1, timeout=60), key=lambda r: r.at)
    # The receiver answers 10 s after it got the event: a request that waited for the
    # delivery could not have answered before then.
    assert answered_at < first.at + 10, f"{change} answered {answered_at - first.at:.1f}s late"
    # Nothing may still be in flight when the next test starts over with the same ids.
    wait_until(
        lambda: all(d["status"] in ("succeeded", "failed") for d in deliveries(client, hook)),
        timeout=60,
        what="the slow delivery to finish",
    )


def test_product_changes_through_the_api_arrive_as_their_events(client, receiver, worker):
    hook = create(client, receiver.url(), ["product.created", "product.updated",
                                           "product.deleted", "products.bulk_deleted"])  # fmt: skip
    made = client.post("/api/products", json={"sku": "EV-1", "name": "Lamp", "price": "5.00"})
    assert made.status_code == 201, made.text
    product_id = made.json()["id"]
    assert client.patch(f"/api/products/{product_id}", json={"price": "6.00"}).status_code == 200
    assert client.delete(f"/api/products/{product_id}").status_code == 204
    client.post("/api/products", json={"sku": "EV-2", "name": "Chair"})
    assert client.delete("/api/products", params={"confirm": "true"}).status_code == 202
    # Deliveries run in parallel: they arrive in any order.
    got = sorted(receiver.wait_for(5, timeout=60), key=lambda r: r.json["type"])
    quiet_for(1)
    assert len(receiver.requests()) == 5
    assert [r.json["type"] for r in got] == [
        "product.created", "product.created", "product.deleted", "product.updated",
        "products.bulk_deleted",
    ]  # fmt: skip
    assert all(verifies(r, hook["secret"]) for r in got)
    assert sorted(r.json["data"]["sku"] for r in got[:2]) == ["EV-1", "EV-2"]
    assert got[-1].json["data"]["count"] == 1


def test_secrets_never_appear_in_the_logs(client, receiver, worker, logs):
    hook = create(client, receiver.url(), ["*"])
    rotated = client.post(f"/api/webhooks/{hook['id']}/rotate-secret").json()
    receiver.script("/hook", Reply(500))
    record_committed(EventType.product_created, 1)
    receiver.wait_for(2, timeout=60)
    client.post(f"/api/webhooks/{hook['id']}/test")
    time.sleep(1)
    text = "\n".join(p.read_text(errors="replace") for p in logs.glob("*.log"))
    assert "webhook delivery" in text  # the worker does log its deliveries
    for secret in (hook["secret"], rotated["secret"]):
        assert secret not in text
        assert secret.removeprefix("whsec_") not in text
    assert json.dumps(hook["secret"]) not in text
