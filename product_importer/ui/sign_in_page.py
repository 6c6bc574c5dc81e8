"""The sign-in page. Its form posts straight to `POST /api/session`, which sets the
HTTP-only session cookie and redirects back: no script ever handles the password."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.native_form import native_form
from product_importer.ui.session_state import SignInState


def _field(label: str, name: str, kind: str, autocomplete: str, **props) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=name),
        rx.input(
            id=name, name=name, type=kind, required=True, auto_complete=autocomplete, size="3",
            width="100%", **props,
        ),
        spacing="1",
        width="100%",
    )  # fmt: skip


def sign_in_page() -> rx.Component:
    return rx.center(
        rx.card(
            native_form(
                rx.vstack(
                    rx.hstack(
                        rx.icon("boxes", size=26, color=rx.color("accent", 10)),
                        rx.heading("Product Importer", size="5"),
                        spacing="2",
                        align="center",
                    ),
                    rx.text("Sign in to import and manage the catalog.", color_scheme="gray"),
                    rx.cond(
                        SignInState.error != "",
                        rx.callout(
                            SignInState.error,
                            icon="triangle_alert",
                            color_scheme="red",
                            role="alert",
                        ),
                    ),
                    # Keyed by the name kept from a refused sign-in, so it is filled in again.
                    _field(
                        "User name",
                        "username",
                        "text",
                        "username",
                        default_value=SignInState.username,
                        key=SignInState.username,
                    ),  # fmt: skip
                    _field("Password", "password", "password", "current-password"),
                    rx.el.input(type="hidden", name="next", value=SignInState.next_path),
                    rx.button("Sign in", type="submit", size="3", width="100%"),
                    spacing="4",
                    width="100%",
                ),
                method="post",
                action="/api/session",
            ),
            size="4",
            width="100%",
            max_width="24rem",
        ),
        rx.box(
            rx.color_mode.button(size="2", variant="ghost"),
            position="fixed",
            top="1em",
            right="1em",
        ),
        min_height="100vh",
        padding="1em",
        background=rx.color("gray", 2),
    )
