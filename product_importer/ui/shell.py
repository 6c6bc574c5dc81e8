"""The app shell every page sits in: a top bar with navigation and the colour-mode toggle."""

from __future__ import annotations

import reflex as rx

from product_importer.access import Role
from product_importer.ui.native_form import native_form
from product_importer.ui.session_state import SessionState

# (label, route, icon, role needed): editors do not see the admin pages at all.
# Shown from Radix's "xs" breakpoint (520 px) up: hidden on a phone-sized window.
_FROM_XS = rx.breakpoints(initial="none", xs="block")

NAV_ITEMS = (
    ("Import", "/", "upload", Role.editor),
    ("Products", "/products", "package", Role.editor),
    ("Webhooks", "/webhooks", "webhook", Role.admin),
    ("Access", "/access", "key-round", Role.admin),
)


def _nav_link(label: str, href: str, icon: str, active: bool) -> rx.Component:
    look = (
        {"background": rx.color("accent", 3), "aria_current": "page"}
        if active
        else {"color_scheme": "gray", "high_contrast": True}
    )
    # On a phone the labels give way to the icons (the link keeps its name for readers).
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=16),
            rx.text(label, size="2", weight="medium", display=_FROM_XS),
            spacing="2",
            align="center",
        ),
        href=href,
        aria_label=label,
        underline="none",
        padding_x="0.75em",
        padding_y="0.4em",
        border_radius="var(--radius-2)",
        **look,
    )


def _nav_item(label: str, href: str, icon: str, role: Role, active: bool) -> rx.Component:
    link = _nav_link(label, href, icon, active)
    return rx.cond(SessionState.is_admin, link) if role is Role.admin else link


def _account_menu() -> rx.Component:
    """Who is signed in, and a sign-out form (a plain POST: it works without scripts)."""
    return rx.hstack(
        rx.icon("circle-user", size=18, color=rx.color("gray", 10)),
        rx.text(SessionState.user_name, size="2", weight="medium", data_testid="user-name"),
        rx.badge(SessionState.role, variant="soft", color_scheme="gray"),
        native_form(
            rx.button("Sign out", type="submit", size="1", variant="soft", color_scheme="gray"),
            method="post",
            action="/api/session/sign-out",
        ),
        spacing="2",
        align="center",
    )


def navbar(active: str) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.hstack(
                rx.icon("boxes", size=22, color=rx.color("accent", 10)),
                rx.heading("Product Importer", size="4", weight="bold", display=_FROM_XS),
                spacing="2",
                align="center",
            ),
            rx.hstack(
                *(
                    _nav_item(label, href, icon, role, href == active)
                    for label, href, icon, role in NAV_ITEMS
                ),
                spacing="1",
                wrap="wrap",
            ),
            rx.spacer(),
            # A document navigation: the API docs are served by FastAPI, not a Reflex page
            # (the client-side router would show its 404).
            rx.link(
                "API docs",
                href="/api/docs",
                reload_document=True,
                size="2",
                color_scheme="gray",
                display=_FROM_XS,
            ),
            rx.color_mode.button(size="2", variant="ghost"),
            _account_menu(),
            align="center",
            spacing=rx.breakpoints(initial="3", xs="5"),
            width="100%",
            max_width="72rem",
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
            max_width="72rem",
            margin_x="auto",
            padding_x=rx.breakpoints(initial="1em", xs="1.5em"),
            padding_y=rx.breakpoints(initial="1.25em", xs="2em"),
        ),
        min_height="100vh",
        background=rx.color("gray", 2),
    )
