"""Pages whose features come in later issues: they say so plainly."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.shell import page_shell


def _coming_next(active: str, title: str, icon: str, what: str) -> rx.Component:
    return page_shell(
        active,
        rx.heading(title, size="7"),
        rx.card(
            rx.hstack(
                rx.icon(icon, size=28, color=rx.color("gray", 9)),
                rx.vstack(
                    rx.text("Coming next", weight="bold"),
                    rx.text(what, color_scheme="gray", size="2"),
                    spacing="1",
                ),
                spacing="4",
                align="center",
            ),
            size="3",
            width="100%",
        ),
    )


def webhooks_page() -> rx.Component:
    return _coming_next(
        "/webhooks",
        "Webhooks",
        "webhook",
        "Configuring webhooks that tell other systems what changed is not built yet.",
    )
