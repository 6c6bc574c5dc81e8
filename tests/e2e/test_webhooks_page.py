"""The Webhooks page in a real browser: create a webhook, reveal its secret, press Test,
see status and latency, see the delivery in the log, redeliver it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import open_tab, shot
from tests.webhook_receiver import verifies


@pytest.fixture
def webhooks_tab(
    browser, app_url: str, db, worker, credentials, request: pytest.FixtureRequest
) -> Iterator:
    """A fresh tab on the Webhooks page, signed in as an admin, with no webhooks."""
    with open_tab(browser, app_url, "/webhooks", request) as tab:
        tab.get_by_text("No webhooks yet.").wait_for()
        yield tab


def test_create_test_and_see_the_delivery_in_the_log(webhooks_tab, app_api, receiver):
    tab = webhooks_tab
    tab.get_by_role("button", name="Add webhook").click()
    dialog = tab.get_by_role("dialog")
    dialog.locator("input[name=url]").fill("ftp://nowhere")
    dialog.get_by_role("button", name="Save").click()
    dialog.get_by_text("must start with http:// or https://").wait_for()

    dialog.locator("input[name=url]").fill(receiver.url("/e2e"))
    dialog.locator("input[name=description]").fill("Browser test receiver")
    dialog.get_by_role("button", name="Save").click()

    secret_box = tab.locator(".secret-value")
    secret_box.wait_for()
    secret = secret_box.inner_text().strip()
    assert secret.startswith("whsec_")
    shot(tab, "w-secret-revealed")
    tab.get_by_role("button", name="Done").click()
    secret_box.wait_for(state="detached")

    row = tab.locator(".webhook-row").first
    row.get_by_text(receiver.url("/e2e")).wait_for()
    assert "all events" in row.inner_text()
    [hook] = app_api.get("/api/webhooks").json()
    assert hook["url"] == receiver.url("/e2e") and hook["description"] == "Browser test receiver"

    assert "no event sent yet" in row.inner_text()
    row.get_by_role("button", name="Test").click()
    result = row.locator(".test-result")
    result.wait_for()
    tested = r"test sent \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: 200 · \d+ ms"
    assert re.fullmatch(tested, result.inner_text().strip()), result.inner_text()
    [received] = receiver.wait_for(1)
    assert verifies(received, secret)
    # A test is not a delivery of a real event: the health still says none was sent, and
    # the test's answer is kept (from the delivery log) when the page is opened again.
    assert "no event sent yet" in row.inner_text()
    shot(tab, "w-tested")
    tab.reload()
    row.locator(".test-result").wait_for()
    assert re.fullmatch(tested, row.locator(".test-result").inner_text().strip())

    row.get_by_role("button", name="Log").click()
    delivery = tab.locator('.delivery-row[data-status="succeeded"]').first
    delivery.wait_for()
    text = delivery.inner_text()
    assert "product.updated" in text and "test" in text and "200" in text
    assert re.search(r"\d+ ms", text)
    shot(tab, "w-log")

    delivery.get_by_role("button", name="Redeliver").click()
    again = receiver.wait_for(2)[1]
    assert again.headers["webhook-id"] == received.headers["webhook-id"]
    # The log shows the second attempt once it is recorded.
    for _ in range(60):
        tab.get_by_role("button", name="Refresh").click()
        cells = tab.locator(".delivery-row").first.locator("td")
        if cells.nth(3).inner_text().strip() == "succeeded" and cells.nth(4).inner_text() == "2":
            break
        tab.wait_for_timeout(500)
    else:
        raise AssertionError("the log never showed the redelivery's second attempt")


def test_edit_events_and_disable_with_the_switch(webhooks_tab, app_api, receiver):
    tab = webhooks_tab
    created = app_api.post("/api/webhooks", json={"url": receiver.url("/edit"), "events": ["*"]})
    assert created.status_code == 201, created.text
    tab.reload()
    row = tab.locator(".webhook-row").first
    row.get_by_text("all events").wait_for()

    row.get_by_role("button", name="Edit").click()
    dialog = tab.get_by_role("dialog")
    dialog.get_by_role("checkbox", name="All events").click()
    dialog.get_by_role("button", name="Save").click()
    dialog.get_by_text("choose at least one event type").wait_for()
    dialog.get_by_role("checkbox", name="import.completed").click()
    dialog.get_by_role("checkbox", name="product.deleted").click()
    dialog.get_by_role("button", name="Save").click()
    row.get_by_text("product.deleted, import.completed").wait_for()
    hook_id = created.json()["id"]
    hook = app_api.get(f"/api/webhooks/{hook_id}").json()
    assert hook["events"] == ["product.deleted", "import.completed"]

    row.get_by_role("switch", name="Enabled").click()
    row.locator(".disabled-reason").get_by_text("disabled by an admin").wait_for()
    assert app_api.get(f"/api/webhooks/{hook_id}").json()["enabled"] is False
    shot(tab, "w-disabled")
