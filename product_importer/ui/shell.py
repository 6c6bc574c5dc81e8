"""The app shell every page sits in: a top bar with navigation and the colour-mode toggle."""

from __future__ import annotations

import reflex as rx

# Shown from Radix's "xs" breakpoint (520 px) up: hidden on a phone-sized window.
_FROM_XS = rx.breakpoints(initial="none", xs="block")

NAV_ITEMS = (
    ("Import", "/", "upload"),
    ("Products", "/products", "package"),
    ("Webhooks", "/webhooks", "webhook"),
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
                *(_nav_link(label, href, icon, href == active) for label, href, icon in NAV_ITEMS),
                spacing="1",
            ),
            rx.spacer(),
            # A plain anchor: the API docs are served by FastAPI, not a Reflex page.
            rx.link(
                rx.el.a("API docs", href="/api/docs"),
                as_child=True,
                size="2",
                color_scheme="gray",
                display=_FROM_XS,
            ),
            rx.color_mode.button(size="2", variant="ghost"),
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


def page_shell(active: str, *children: rx.Component) -> rx.Component:
    """A page: the navigation bar over a centred column of content."""
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
