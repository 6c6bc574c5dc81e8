"""Every page and every dialog fits every screen: a phone (390x844), a tablet (768x1024)
and a laptop (1366x768), in the light and the dark colour scheme.

On each one: the document never scrolls sideways; every visible button and link is inside
the window and inside every box that clips it (a data table may scroll sideways in its own
box on a small screen, but only its data: never a button); no button's text wraps; the
buttons of one table cell sit on one line; no table cell breaks words anywhere
(`break-all`); a dialog is inside the window, whole. Grid columns keep their widths from
one page of products to the next. The tables hold long values (URLs, names, file names).

The checks collect every problem of every screen and fail once, listing them all; the
screenshots are kept in the test's output folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from product_importer.access import Role
from product_importer.access.tokens import create_token
from product_importer.access.users import create_user, find_user
from tests.conftest import ADMIN, Credentials
from tests.e2e.test_import_page import job_of, wait_until

SIZES = {"phone": (390, 844), "tablet": (768, 1024), "laptop": (1366, 768)}
SCHEMES = ("light", "dark")
# Below this width a data table may scroll sideways inside its own box.
DATA_SCROLL_BELOW = 1024

LONG_USER = "maria.longname-of-the-warehouse-team@example-company.com"
LONG_TOKEN = "nightly catalog synchronisation from the warehouse system"
LONG_FILE = "catalog-export-from-the-warehouse-system-2026-12-03-full.csv"
LONG_PATH = (
    "/webhooks/receivers/product-importer/catalog-events/"
    "v2?subscription=warehouse-synchronisation&tenant=example-company"
)

# Collects the layout problems of the page as it is now (see the module docstring).
LAYOUT_PROBLEMS = r"""
([allowDataScroll, scope]) => {
  const problems = [];
  const root = scope ? document.querySelector(scope) : document;
  const de = document.documentElement;
  const vw = de.clientWidth, vh = window.innerHeight;
  if (de.scrollWidth > de.clientWidth)
    problems.push(`the document is ${de.scrollWidth}px wide in a ${de.clientWidth}px window`);
  const shown = (el) => {
    const s = getComputedStyle(el);
    if (s.visibility === "hidden" || s.display === "none") return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const name = (el) => (el.getAttribute("aria-label") || el.innerText || el.title || el.tagName)
    .trim().replace(/\s+/g, " ").slice(0, 50);
  const isAction = (el) => el.tagName === "BUTTON"
    || ["button", "switch", "combobox", "menuitem"].includes(el.getAttribute("role"));
  const textLines = (el) => {
    const tops = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) {
        if (r.width > 0 && !tops.some((t) => Math.abs(t - r.top) < r.height / 2)) tops.push(r.top);
      }
    }
    return tops.length;
  };
  const controls = [...root.querySelectorAll(
    "button, a[href], [role=button], [role=switch], [role=menuitem], [role=combobox]"
  )].filter(shown);
  for (const el of controls) {
    const r = el.getBoundingClientRect();
    let left = 0, right = vw, scroller = null;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === "visible") continue;
      const ar = a.getBoundingClientRect();
      left = Math.max(left, ar.left);
      right = Math.min(right, ar.right);
      if (!scroller && a.scrollWidth > a.clientWidth + 1) scroller = a;
    }
    if (r.left < left - 1 || r.right > right + 1) {
      const dataInTable = allowDataScroll && scroller && scroller.querySelector("table")
        && el.closest("td, th") && !isAction(el);
      if (!dataInTable)
        problems.push(`"${name(el)}" is cut off: ${Math.round(r.left)}..${Math.round(r.right)}`
          + ` outside ${Math.round(left)}..${Math.round(right)}`);
    }
    if (isAction(el) && el.getAttribute("role") !== "combobox" && textLines(el) > 1)
      problems.push(`"${name(el)}" wraps onto ${textLines(el)} lines`);
  }
  for (const cell of root.querySelectorAll("td, th")) {
    if (!shown(cell)) continue;
    const buttons = [...cell.querySelectorAll("button, [role=button], [role=switch]")]
      .filter(shown).map((b) => b.getBoundingClientRect());
    if (buttons.some((b) => Math.abs(b.top - buttons[0].top) > 4))
      problems.push(`the buttons of a cell take ${buttons.length} places on several lines: `
        + `"${cell.innerText.trim().replace(/\s+/g, " ").slice(0, 60)}"`);
    for (const el of [cell, ...cell.querySelectorAll("*")]) {
      const s = getComputedStyle(el);
      if (s.wordBreak === "break-all" && el.innerText.trim()) {
        problems.push(`a cell breaks words anywhere: "${el.innerText.trim().slice(0, 40)}"`);
        break;
      }
    }
  }
  for (const dialog of document.querySelectorAll("[role=dialog], [role=alertdialog]")) {
    if (!shown(dialog)) continue;
    const r = dialog.getBoundingClientRect();
    if (r.left < 0 || r.top < 0 || r.right > vw + 0.5 || r.bottom > vh + 0.5)
      problems.push(`a dialog is not inside the window: ${Math.round(r.left)},${Math.round(r.top)}`
        + `..${Math.round(r.right)},${Math.round(r.bottom)} in ${vw}x${vh}`);
  }
  return problems;
}
"""


def _seed_catalog(db) -> None:
    """60 products (with the imported ones, more than a page of 50): long SKUs, names and
    descriptions on the first page only, short ones on the second."""
    db.execute(
        """INSERT INTO products (sku, name, description, price, active)
           SELECT 'LAYOUT-' || lpad(i::text, 4, '0') || CASE WHEN i <= 20 AND i % 7 = 0
                      THEN '-EXTRA-LONG-STOCK-KEEPING-UNIT-CODE' ELSE '' END,
                  CASE WHEN i <= 20 AND i % 3 = 0
                       THEN 'Solid oak dining chair with a hand-woven seat and armrests, '
                            || 'finished in a natural oil, number ' || i
                       ELSE 'Pine table ' || i END,
                  CASE WHEN i <= 20 AND i % 2 = 0
                       THEN repeat('A long description that goes on and on. ', 8)
                       ELSE 'Short' END,
                  CASE WHEN i <= 20 THEN 100000 + i * 37.5 ELSE i END, i % 4 <> 0
           FROM generate_series(1, 60) AS i"""
    )


def _seed_access() -> None:
    if find_user(LONG_USER) is None:
        create_user(LONG_USER, Role.editor)
        create_token(LONG_TOKEN, Role.editor, LONG_USER)


def _seed_webhooks_and_imports(app_api, receiver) -> None:
    """Two webhooks with long URLs, then two imports with a long file name and skipped
    rows (an error report link): the imports' events fill the delivery log."""
    for path, description in (
        (LONG_PATH, "The warehouse system, which keeps the stock levels of every shop"),
        ("/short", ""),
    ):
        made = app_api.post(
            "/api/webhooks",
            json={"url": receiver.url(path), "events": ["*"], "description": description},
        )
        assert made.status_code == 201, made.text
    body = "sku,name,description,price\n" + "".join(
        f"IMP-{i},Imported item {i},Text {i},{'not a price' if i % 5 == 0 else i}\n"
        for i in range(30)
    )
    ids = []
    for name in (LONG_FILE, "small.csv"):
        sent = app_api.post("/api/imports", files={"file": (name, body.encode())})
        assert sent.status_code == 202, sent.text
        ids.append(sent.json()["id"])
    wait_until(
        lambda: all(job_of(app_api, str(i))["status"] == "completed" for i in ids),
        timeout=120,
        what="the imports",
    )
    wait_until(lambda: len(receiver.requests()) >= 2, timeout=60, what="deliveries")


class Screens:
    """Checks one window size and colour scheme, keeps its screenshots, collects problems."""

    def __init__(self, tab, label: str, out: Path) -> None:
        self.tab, self.label, self.out = tab, label, out
        self.problems: list[str] = []
        width = tab.viewport_size["width"]
        self.allow_data_scroll = width < DATA_SCROLL_BELOW

    def check(self, what: str, scope: str = "") -> None:
        """Checks the page, or only what `scope` (a CSS selector) holds, and the document."""
        self.tab.wait_for_timeout(300)  # let an opening dialog's animation end
        self.tab.screenshot(
            path=str(self.out / f"{self.label}-{what}.png"), full_page=what.endswith("page")
        )
        found = self.tab.evaluate(LAYOUT_PROBLEMS, [self.allow_data_scroll, scope])
        # One line per kind of problem: "Edit P-1 is cut off" and 49 more like it.
        kinds: dict[str, list[str]] = {}
        for problem in found:
            kinds.setdefault(re.sub(r'"[^"]*"|-?\d+', "_", problem), []).append(problem)
        for same in kinds.values():
            more = f" (and {len(same) - 1} more like it)" if len(same) > 1 else ""
            self.problems.append(f"{self.label} {what}: {same[0]}{more}")

    def attempt(self, check) -> None:
        """Runs one page's checks; one that cannot go on is a problem too, and the next
        page is checked from a fresh load."""
        try:
            check(self)
        except Exception as exc:  # noqa: BLE001 - reported with every other problem
            name = check.__name__.strip("_")
            self.tab.screenshot(path=str(self.out / f"{self.label}-{name}-FAILED.png"))
            self.problems.append(f"{self.label} {name}: could not go on: {exc}")
            self.tab.goto("/")
            self.tab.get_by_text("Drop CSV files here").wait_for()

    def dialog(self, what: str, opener, role: str = "dialog") -> None:
        """Opens a dialog with `opener`, checks it and closes it with Escape."""
        opener()
        dialog = self.tab.get_by_role(role)
        dialog.wait_for()
        self.check(what, f"[role={role}]")
        self.tab.keyboard.press("Escape")
        dialog.wait_for(state="detached")


def _go(tab, label: str) -> None:
    """Follows the navigation link `label`, from the menu when the bar has no room."""
    link = tab.get_by_role("link", name=label, exact=True)
    if not link.first.is_visible():
        tab.get_by_role("button", name="Menu").click()
        link = tab.get_by_role("menuitem", name=label, exact=True)
    link.first.click()


def _sign_in(screens: Screens, password: str) -> None:
    tab = screens.tab
    tab.goto("/sign-in")
    tab.get_by_role("button", name="Sign in").wait_for()
    screens.check("sign-in-page")
    tab.get_by_label("User name").fill(ADMIN)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_text("Drop CSV files here").wait_for()


def _import_page(screens: Screens) -> None:
    tab = screens.tab
    tab.locator(".history-row").first.wait_for()
    tab.locator('.history-row a[href$="errors.csv"]').first.wait_for(state="attached")
    screens.check("import-page")
    if tab.get_by_role("button", name="Menu").is_visible():
        tab.get_by_role("button", name="Menu").click()
        tab.get_by_role("menu").wait_for()
        screens.check("navigation-menu", "[role=menu]")
        tab.keyboard.press("Escape")


def _header_widths(tab) -> list[float]:
    return tab.evaluate(
        "() => [...document.querySelectorAll('table thead th')]"
        ".map((th) => Math.round(th.getBoundingClientRect().width))"
    )


def _products_page(screens: Screens) -> None:
    tab = screens.tab
    _go(tab, "Products")
    tab.get_by_text(re.compile(r"^1–50 of \d+ products")).wait_for()
    screens.check("products-page")
    widths = _header_widths(tab)
    tab.get_by_role("button", name="Next page").click()
    tab.get_by_text(re.compile(r"^51–\d+ of \d+ products")).wait_for()
    if _header_widths(tab) != widths:
        screens.problems.append(
            f"{screens.label} products: the columns change width on page 2: "
            f"{widths} -> {_header_widths(tab)}"
        )
    screens.check("products-page-2")
    row = tab.locator("tr.product-row").first
    screens.dialog("new-product-dialog", tab.get_by_role("button", name="New product").click)
    screens.dialog(
        "edit-product-dialog", row.get_by_role("button", name=re.compile("^Edit ")).click
    )
    screens.dialog(
        "delete-product-dialog",
        row.get_by_role("button", name=re.compile("^Delete ")).click,
        "alertdialog",
    )
    screens.dialog(
        "delete-all-dialog", tab.get_by_role("button", name="Delete all").click, "alertdialog"
    )


def _webhooks_page(screens: Screens) -> None:
    tab = screens.tab
    _go(tab, "Webhooks")
    rows = tab.locator(".webhook-row")
    rows.nth(1).wait_for()
    screens.check("webhooks-page")
    long_row = rows.filter(has_text="warehouse system")
    screens.dialog("add-webhook-dialog", tab.get_by_role("button", name="Add webhook").click)
    button = long_row.get_by_role
    screens.dialog("edit-webhook-dialog", button("button", name="Edit", exact=True).click)
    screens.dialog(
        "delete-webhook-dialog", button("button", name="Delete", exact=True).click, "alertdialog"
    )
    screens.dialog(
        "webhook-secret-dialog", button("button", name="Rotate secret", exact=True).click
    )
    button("button", name="Log", exact=True).click()
    tab.locator(".delivery-row").first.wait_for()
    tab.locator(".delivery-log").scroll_into_view_if_needed()
    screens.check("delivery-log-page")


def _access_page(screens: Screens) -> None:
    tab = screens.tab
    _go(tab, "Access")
    tab.get_by_role("rowheader", name=LONG_USER).wait_for()
    screens.check("access-page")
    user = tab.get_by_role("row").filter(has_text=LONG_USER)
    user.get_by_role("button", name="Reset password").click()
    tab.get_by_test_id("secret-value").wait_for()
    screens.check("access-new-password-page")
    tab.get_by_role("button", name="Done").click()
    screens.dialog(
        "delete-user-dialog", user.get_by_role("button", name="Delete").click, "alertdialog"
    )
    token = tab.get_by_role("row").filter(has_text=LONG_TOKEN)
    screens.dialog(
        "revoke-token-dialog", token.get_by_role("button", name="Revoke").click, "alertdialog"
    )


@pytest.fixture
def seeded(db, worker, app_api, receiver, credentials: Credentials) -> Iterator[None]:
    _seed_catalog(db)
    _seed_access()
    _seed_webhooks_and_imports(app_api, receiver)
    yield


def test_every_page_and_dialog_fits_every_screen(
    browser, app_url: str, seeded, credentials: Credentials, tmp_path: Path
) -> None:
    problems: list[str] = []
    for size, (width, height) in SIZES.items():
        for scheme in SCHEMES:
            context = browser.new_context(
                base_url=app_url, viewport={"width": width, "height": height}, color_scheme=scheme
            )
            context.set_default_timeout(30_000)
            try:
                screens = Screens(context.new_page(), f"{size}-{scheme}", tmp_path)
                _sign_in(screens, credentials.admin_password)
                for check in (_import_page, _products_page, _webhooks_page, _access_page):
                    screens.attempt(check)
                problems += screens.problems
            finally:
                context.close()
    print(f"screenshots in {tmp_path}")
    assert not problems, "\n".join(problems)
