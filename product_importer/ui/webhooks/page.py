"""The Webhooks page (admins): endpoints with health and enabled toggles, create/edit form,
test button, secret reveal with copy, and the delivery log with filters and redelivery."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.shell import page_shell
from product_importer.ui.webhooks.delivery_log import delivery_log
from product_importer.ui.webhooks.dialogs import endpoint_form, secret_dialog
from product_importer.ui.webhooks.endpoints import endpoints_table
from product_importer.ui.webhooks.state import WebhooksState
from product_importer.ui.widgets import dismissible_error


def page_error() -> rx.Component:
    return dismissible_error(WebhooksState.page_error, WebhooksState.clear_error)


def webhooks_page() -> rx.Component:
    return page_shell(
        "/webhooks",
        rx.hstack(
            rx.vstack(
                rx.heading("Webhooks", size="7"),
                rx.text(
                    "Other systems hear about product changes and imports: each event is "
                    "signed, retried when the receiver fails, and logged.",
                    size="2",
                    color_scheme="gray",
                ),
                spacing="2",
            ),
            rx.spacer(),
            rx.button(rx.icon("plus", size=16), "Add webhook", on_click=WebhooksState.open_create),
            align="end",
            width="100%",
            wrap="wrap",
        ),
        page_error(),
        endpoints_table(),
        delivery_log(),
        endpoint_form(),
        secret_dialog(),
    )
