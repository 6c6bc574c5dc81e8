"""The Webhooks page's dialogs: the endpoint form (add and edit) and the signing secret."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.webhooks.state import WebhooksState
from product_importer.ui.widgets import button_row, copy_button, dialog_fit
from product_importer.webhooks.endpoints import EVENT_TYPES


def _field_error(message: rx.Var[str]) -> rx.Component:
    return rx.cond(message != "", rx.text(message, size="1", color_scheme="red", role="alert"))


def _event_checkbox(event_type: str) -> rx.Component:
    return rx.checkbox(
        event_type,
        checked=WebhooksState.form_events.contains(event_type),
        on_change=lambda checked: WebhooksState.toggle_event(event_type, checked),
        disabled=WebhooksState.form_all_events,
    )


def endpoint_form() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(WebhooksState.form_id, "Edit webhook", "Add webhook")),
            rx.vstack(
                rx.text("URL", size="2", weight="medium"),
                rx.input(
                    value=WebhooksState.form_url,
                    on_change=WebhooksState.set_form_url,
                    placeholder="https://example.com/webhooks",
                    name="url",
                    type="url",
                    width="100%",
                ),
                _field_error(WebhooksState.url_error),
                rx.text("Description", size="2", weight="medium"),
                rx.input(
                    value=WebhooksState.form_description,
                    on_change=WebhooksState.set_form_description,
                    placeholder="What receives these events",
                    name="description",
                    width="100%",
                ),
                _field_error(WebhooksState.description_error),
                rx.text("Events", size="2", weight="medium"),
                rx.checkbox(
                    "All events",
                    checked=WebhooksState.form_all_events,
                    on_change=WebhooksState.set_form_all_events,
                ),
                rx.grid(
                    *(_event_checkbox(event_type) for event_type in EVENT_TYPES),
                    columns=rx.breakpoints(initial="1", xs="2"),
                    spacing="2",
                    width="100%",
                ),
                _field_error(WebhooksState.events_error),
                rx.hstack(
                    rx.switch(
                        checked=WebhooksState.form_enabled,
                        on_change=WebhooksState.set_form_enabled,
                    ),
                    rx.text("Enabled", size="2"),
                    spacing="2",
                    align="center",
                ),
                button_row(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(
                        "Save", on_click=WebhooksState.save_form, loading=WebhooksState.saving
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            **dialog_fit("34rem"),
        ),
        open=WebhooksState.form_open,
        on_open_change=WebhooksState.set_form_open,
    )


def secret_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Signing secret"),
            rx.dialog.description(
                f"For {WebhooksState.secret_url}. It is shown only now: store it where your "
                "receiver can read it.",
                size="2",
            ),
            rx.hstack(
                rx.code(
                    WebhooksState.secret_value,
                    class_name="secret-value",
                    overflow_wrap="anywhere",
                    min_width="0",
                ),
                copy_button(WebhooksState.secret_value, "Secret"),
                spacing="2",
                align="center",
                margin_y="1em",
            ),
            button_row(rx.button("Done", on_click=WebhooksState.close_secret)),
            **dialog_fit("32rem"),
        ),
        open=WebhooksState.secret_open,
        on_open_change=lambda _open: WebhooksState.close_secret(),
    )
