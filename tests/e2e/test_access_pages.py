"""Signing in and out in a real browser, and what each role sees."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from product_importer.product_importer import PAGES
from tests.conftest import ADMIN, EDITOR, Credentials
from tests.e2e.conftest import shot, signed_in_context


@pytest.fixture
def anonymous_tab(browser, app_url: str, db) -> Iterator:
    context = browser.new_context(base_url=app_url)
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def _signed_in_tab(browser, app_url: str, username: str):
    context = signed_in_context(browser, app_url, username)
    return context, context.new_page()


# Records, from the first byte of every page, whether anything protected was ever drawn.
SAW_PROTECTED = """
window.__sawProtected = [];
new MutationObserver(() => {
  for (const name of ["Sign out", "Drop CSV files here", "New product", "Add webhook"]) {
    if (document.body && document.body.innerText.includes(name)
        && !window.__sawProtected.includes(name)) window.__sawProtected.push(name);
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def _every_page_goes_to_sign_in_showing_nothing(tab) -> None:
    tab.add_init_script(SAW_PROTECTED)
    for route in PAGES:
        tab.goto(route)
        tab.wait_for_url(re.compile(r"/sign-in"))
        tab.get_by_role("button", name="Sign in").wait_for()
        # Nothing protected was shown, not even for a moment, before the sign-in page.
        assert tab.evaluate("window.__sawProtected") == [], route


def test_every_page_sends_an_anonymous_visitor_to_sign_in(anonymous_tab) -> None:
    _every_page_goes_to_sign_in_showing_nothing(anonymous_tab)
    shot(anonymous_tab, "access-sign-in-page")


def test_a_signed_out_tab_shows_nothing_protected_on_its_next_page(
    anonymous_tab, credentials: Credentials
) -> None:
    tab = anonymous_tab
    tab.goto("/")
    tab.get_by_label("User name").fill(EDITOR)
    tab.get_by_label("Password").fill(credentials.editor_password)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_text("Drop CSV files here").wait_for()
    tab.get_by_role("button", name="Sign out").click()
    tab.wait_for_url(re.compile(r"/sign-in"))
    tab.get_by_role("button", name="Sign in").wait_for()
    _every_page_goes_to_sign_in_showing_nothing(tab)


def test_signing_in_with_the_form_then_out(anonymous_tab, credentials: Credentials) -> None:
    tab = anonymous_tab
    tab.goto("/products")
    tab.wait_for_url(re.compile(r"/sign-in\?next=/products"))
    tab.get_by_label("User name").fill(EDITOR)
    tab.get_by_label("Password").fill("not the password")
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_role("alert").filter(has_text="wrong user name or password").wait_for()
    shot(tab, "access-wrong-password")
    # The user name is kept: only the password is typed again.
    assert tab.get_by_label("User name").input_value() == EDITOR
    assert tab.get_by_label("Password").input_value() == ""
    tab.get_by_label("Password").fill(credentials.editor_password)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(re.compile(r"/products/?$"))
    tab.get_by_test_id("user-name").filter(has_text=EDITOR).wait_for()
    cookie = next(c for c in tab.context.cookies() if c["name"] == "pi_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    tab.get_by_role("button", name="Sign out").click()
    tab.wait_for_url(re.compile(r"/sign-in"))
    tab.goto("/")
    tab.wait_for_url(re.compile(r"/sign-in\?next=/$"))
    # Signing in from the root page comes back to it.
    tab.get_by_label("User name").fill(EDITOR)
    tab.get_by_label("Password").fill(credentials.editor_password)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_text("Drop CSV files here").wait_for()


def test_an_editor_sees_no_admin_pages(browser, app_url, db, credentials) -> None:
    context, tab = _signed_in_tab(browser, app_url, EDITOR)
    try:
        tab.goto("/")
        tab.get_by_test_id("user-name").filter(has_text=EDITOR).wait_for()
        nav = tab.get_by_role("link")
        assert nav.filter(has_text="Products").count() == 1
        assert nav.filter(has_text="Webhooks").count() == 0
        assert nav.filter(has_text="Access").count() == 0
        shot(tab, "access-editor-nav")
        tab.goto("/products")
        tab.get_by_role("button", name="New product").wait_for()
        assert tab.get_by_role("button", name="Delete all").count() == 0
        for admin_page in ("/webhooks", "/access"):
            tab.goto(admin_page)
            tab.get_by_text("That page needs the admin role.").first.wait_for()
            tab.wait_for_url(re.compile(r"/$"))
            tab.get_by_text("Drop CSV files here").wait_for()
            tab.wait_for_timeout(1500)  # a second message would have come by now
            # One message says it: the page's own loader, refused too, adds none.
            toasts = tab.locator("[data-sonner-toast]")
            assert toasts.filter(has_text="role").count() == 1, toasts.all_inner_texts()
            for toast in toasts.all():
                toast.evaluate("t => t.remove()")
    finally:
        context.close()


def test_an_admin_sees_admin_pages_and_makes_a_token_shown_once(
    browser, app_url, db, credentials
) -> None:
    context, tab = _signed_in_tab(browser, app_url, ADMIN)
    try:
        tab.goto("/")
        tab.get_by_test_id("user-name").filter(has_text=ADMIN).wait_for()
        nav = tab.get_by_role("link")
        assert nav.filter(has_text="Webhooks").count() == 1
        tab.goto("/products")
        tab.get_by_role("button", name="Delete all").wait_for()
        tab.goto("/")
        tab.get_by_test_id("user-name").filter(has_text=ADMIN).wait_for()
        nav.filter(has_text="Access").click()
        tab.wait_for_url(re.compile(r"/access/?$"))
        tab.get_by_role("rowheader", name=EDITOR, exact=True).wait_for()
        # Every input of the page has a label a screen reader reads out.
        assert tab.get_by_label("User name", exact=True).count() == 1
        assert tab.get_by_label("Role", exact=True).count() == 2
        tab.get_by_label("Token name", exact=True).fill("browser token")
        tab.get_by_role("button", name="Create token").click()
        secret = tab.get_by_test_id("secret-value")
        secret.wait_for()
        assert secret.inner_text().startswith("pit_")
        tab.get_by_role("rowheader", name="browser token").wait_for()
        shot(tab, "access-admin-token-created")
        tab.reload()
        tab.get_by_role("rowheader", name="browser token").wait_for()
        assert tab.get_by_test_id("secret-value").count() == 0  # shown once
        row = tab.get_by_role("row").filter(has_text="browser token")
        row.get_by_role("button", name="Revoke").click()
        tab.get_by_role("alertdialog").get_by_role("button", name="Revoke").click()
        row.get_by_text("revoked").wait_for()
    finally:
        context.close()


def test_a_session_that_ends_mid_page_stops_working_at_the_next_event(
    browser, app_url, db, credentials
) -> None:
    """The server checks the session on every event, not only when a page loads."""
    context, tab = _signed_in_tab(browser, app_url, EDITOR)
    try:
        tab.goto("/products")
        tab.get_by_role("button", name="New product").wait_for()
        db.execute("UPDATE user_sessions SET expires_at = now() - interval '1 second'")
        tab.get_by_placeholder("Any name").fill("chair")  # a filter event, on the open page
        tab.wait_for_url(re.compile(r"/sign-in\?next=/products"))
        shot(tab, "access-session-ended-mid-page")
    finally:
        context.close()
