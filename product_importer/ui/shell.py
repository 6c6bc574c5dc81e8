"""The app shell every page sits in: a top bar with navigation and the colour-mode toggle."""

from __future__ import annotations

import reflex as rx

from product_importer.access import Role
from product_importer.ui.native_form import native_form
from product_importer.ui.session_state import SessionState

# (label, route, icon, role needed): editors do not see the admin pages at all.
NAV_ITEMS = (
    ("Import", "/", "upload", Role.editor),
    ("Products", "/products", "package", Role.editor),
    ("Webhooks", "/webhooks", "webhook", Role.admin),
    ("Access", "/access", "key-round", Role.admin),
)

# The widest the bar and a page's column get (a laptop's data tables fit whole).
PAGE_WIDTH = "80rem"

# From 768 px up the bar has room for the labelled links; below, they are in a menu.
_WIDE = rx.breakpoints(initial="none", sm="flex")
_NARROW = rx.breakpoints(initial="flex", sm="none")
# The app's name and the role badge from 992 px up (the phone keeps the logo).
_ROOMY = rx.breakpoints(initial="none", md="flex")


def _for_role(role: Role, item: rx.Component) -> rx.Component:
    return rx.cond(SessionState.is_admin, item) if role is Role.admin else item


def _nav_link(label: str, href: str, icon: str, active: bool) -> rx.Component:
    look = (
        {"background": rx.color("accent", 3), "aria_current": "page"}
        if active
        else {"color_scheme": "gray", "high_contrast": True}
    )
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=16),
            rx.text(label, size="2", weight="medium"),
            spacing="2",
            align="center",
        ),
        href=href,
        underline="none",
        padding_x=rx.breakpoints(initial="0.5em", md="0.75em"),
        padding_y="0.4em",
        border_radius="var(--radius-2)",
        white_space="nowrap",
        **look,
    )


def _nav_links(active: str) -> rx.Component:
    """The labelled links, in a row (wide windows)."""
    return rx.el.nav(
        rx.hstack(
            *(
                _for_role(role, _nav_link(label, href, icon, href == active))
                for label, href, icon, role in NAV_ITEMS
            ),
            spacing="1",
            align="center",
        ),
        aria_label="Main",
        display=_WIDE,
    )


def _menu_item(label: str, icon: str, on_select: rx.event.EventSpec) -> rx.Component:
    return rx.menu.item(
        rx.hstack(rx.icon(icon, size=16), rx.text(label), spacing="2", align="center"),
        on_select=on_select,
    )


def _nav_menu() -> rx.Component:
    """The same links, labelled, in a menu behind a button (narrow windows)."""
    return rx.box(
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(
                    rx.icon("menu", size=18),
                    variant="soft",
                    color_scheme="gray",
                    size="2",
                    aria_label="Menu",
                )
            ),
            rx.menu.content(
                *(
                    _for_role(role, _menu_item(label, icon, rx.redirect(href)))
                    for label, href, icon, role in NAV_ITEMS
                ),
                rx.menu.separator(),
                # The API docs are served by FastAPI, not a Reflex page: a document load.
                _menu_item(
                    "API docs", "book-open", rx.call_script("window.location.assign('/api/docs')")
                ),
                align="start",
            ),
        ),
        display=_NARROW,
    )


def _account_menu() -> rx.Component:
    """Who is signed in, and a sign-out form (a plain POST: it works without scripts)."""
    return rx.hstack(
        rx.icon("circle-user", size=18, color=rx.color("gray", 10), flex_shrink="0"),
        rx.text(
            SessionState.user_name,
            size="2",
            weight="medium",
            data_testid="user-name",
            title=SessionState.user_name,
            overflow="hidden",
            text_overflow="ellipsis",
            white_space="nowrap",
            max_width=rx.breakpoints(initial="6em", sm="12em"),
        ),
        rx.badge(SessionState.role, variant="soft", color_scheme="gray", display=_ROOMY),
        native_form(
            rx.button(
                "Sign out",
                type="submit",
                size="1",
                variant="soft",
                color_scheme="gray",
                white_space="nowrap",
            ),
            method="post",
            action="/api/session/sign-out",
        ),
        spacing="2",
        align="center",
        min_width="0",
    )


def navbar(active: str) -> rx.Component:
    return rx.box(
        rx.hstack(
            _nav_menu(),
            rx.hstack(
                rx.icon("boxes", size=22, color=rx.color("accent", 10)),
                rx.heading(
                    "Product Importer",
                    size="4",
                    weight="bold",
                    white_space="nowrap",
                    display=_ROOMY,
                ),
                spacing="2",
                align="center",
                flex_shrink="0",
            ),
            _nav_links(active),
            rx.spacer(),
            # A document navigation: the API docs are served by FastAPI, not a Reflex page
            # (the client-side router would show its 404).
            rx.link(
                "API docs",
                href="/api/docs",
                reload_document=True,
                size="2",
                color_scheme="gray",
                white_space="nowrap",
                display=_WIDE,
            ),
            rx.color_mode.button(size="2", variant="ghost"),
            _account_menu(),
            align="center",
            spacing=rx.breakpoints(initial="2", md="4"),
            width="100%",
            max_width=PAGE_WIDTH,
            margin_x="auto",
            padding_x=rx.breakpoints(initial="1em", xs="1.5em"),
            padding_y="0.75em",
        ),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
        position="sticky",
        top="0",
        z_index="10",
        width="100%",
    )


def _waiting_for_session() -> rx.Component:
    """What a page shows until its guard knows who is there: nothing protected."""
    return rx.center(rx.spinner(size="3"), min_height="60vh", aria_label="Loading")


def page_shell(active: str, *children: rx.Component) -> rx.Component:
    """A page: the navigation bar over a centred column of content, drawn only once the
    page guard has found a session (a signed-out visitor sees a spinner, then sign-in)."""
    return rx.cond(SessionState.signed_in, _page(active, *children), _waiting_for_session())


def _page(active: str, *children: rx.Component) -> rx.Component:
    return rx.box(
        navbar(active),
        rx.box(
            # min_width 0: a wide child (a table) scrolls inside itself instead of
            # stretching the page past the window.
            rx.vstack(*children, spacing="6", width="100%", min_width="0"),
            max_width=PAGE_WIDTH,
            margin_x="auto",
            padding_x=rx.breakpoints(initial="1em", xs="1.5em"),
            padding_y=rx.breakpoints(initial="1.25em", xs="2em"),
        ),
        min_height="100vh",
        background=rx.color("gray", 2),
    )
