"""/api/docs with the outside network blocked: every file the docs page needs comes from
the app itself, and the operations are listed."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.e2e.conftest import open_tab, shot


def test_the_api_docs_work_with_every_request_outside_the_app_blocked(
    browser, app_url: str, db, credentials, request
) -> None:
    app = urlsplit(app_url).netloc
    outside: list[str] = []

    def only_the_app(route) -> None:
        if urlsplit(route.request.url).netloc == app:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    with open_tab(browser, app_url, "/", request) as tab:
        tab.context.route("**/*", only_the_app)
        tab.get_by_text("Drop CSV files here").wait_for()
        # The navigation's link, as a person reaches the docs (it leaves the Reflex app).
        tab.get_by_role("link", name="API docs").click()
        tab.wait_for_url("**/api/docs")
        tab.locator(".swagger-ui .info .title").get_by_text("Product Importer API").wait_for()
        operations = tab.locator(".opblock-summary-path")
        operations.first.wait_for()
        paths = set(operations.all_inner_texts())
        assert {"/api/imports", "/api/products", "/api/webhooks"} <= {
            p.replace("\u200b", "").strip() for p in paths
        }, paths
        # An operation opens and shows its parameters: the UI's scripts run, not only its HTML.
        tab.locator(".opblock-summary-path", has_text="/api/products").first.click()
        tab.get_by_text("Parameters").first.wait_for()
        shot(tab, "api-docs-offline")
    assert outside == [], f"the docs page asked the outside network for {outside}"
