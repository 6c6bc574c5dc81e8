"""The endpoints table: health, the last test, and each endpoint's actions."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.tables import (
    TIME_WIDTH,
    Column,
    actions_cell,
    clipped,
    data_table,
    wrapped,
)
from product_importer.ui.webhooks.rows import EndpointRow
from product_importer.ui.webhooks.state import WebhooksState
from product_importer.ui.widgets import confirm_dialog


def _health(row: EndpointRow) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(
                row.last_status,
                color_scheme=rx.cond(
                    row.last_ok, "green", rx.cond(row.last_attempt, "red", "gray")
                ),
                variant="soft",
            ),
            rx.cond(
                row.failure_streak > 0,
                rx.text(f"{row.failure_streak} failed in a row", size="1", color_scheme="red"),
            ),
            spacing="2",
            align="center",
        ),
        rx.cond(row.last_attempt, rx.text(row.last_attempt, size="1", color_scheme="gray")),
        spacing="1",
    )


def _test_result(row: EndpointRow) -> rx.Component:
    return rx.cond(
        row.test_result != "",
        rx.text(
            row.test_result,
            size="1",
            weight="medium",
            color_scheme=rx.cond(row.test_ok, "green", "red"),
            class_name="test-result",
            overflow_wrap="anywhere",
        ),
        rx.text("not tested", size="1", color_scheme="gray"),
    )


def _action(icon: str, label: str, on_click, **props) -> rx.Component:
    """An icon button named `label` (read out, and shown as its tooltip)."""
    return rx.icon_button(
        rx.icon(icon, size=14),
        on_click=on_click,
        size="1",
        variant="soft",
        aria_label=label,
        title=label,
        **props,
    )


def _actions(row: EndpointRow) -> rx.Component:
    """The switch and the buttons of a row, in the column that stays in sight."""
    return actions_cell(
        rx.switch(
            checked=row.enabled,
            on_change=lambda value: WebhooksState.set_enabled(row.id, value),
            aria_label="Enabled",
            title="Enabled",
        ),
        _action(
            "send",
            "Test",
            WebhooksState.test(row.id),
            loading=WebhooksState.testing.contains(row.id),
        ),
        _action("scroll-text", "Log", WebhooksState.show_log(row.id)),
        _action("pencil", "Edit", WebhooksState.open_edit(row.id)),
        _action(
            "rotate-cw", "Rotate secret", WebhooksState.rotate_secret(row.id), color_scheme="gray"
        ),
        confirm_dialog(
            "Delete this webhook?",
            wrapped(f"{row.url} and its delivery log will be removed.", size="2"),
            "Delete",
            WebhooksState.delete(row.id),
            trigger=rx.icon_button(
                rx.icon("trash-2", size=14),
                size="1",
                variant="soft",
                color_scheme="red",
                aria_label="Delete",
                title="Delete",
            ),
        ),
    )


def _endpoint_row(row: EndpointRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                clipped(row.url, weight="medium", class_name="webhook-url"),
                rx.cond(
                    row.description != "",
                    clipped(row.description, size="1", color_scheme="gray"),
                ),
                rx.cond(
                    row.disabled_reason != "",
                    rx.text(
                        f"{row.disabled_reason} — {row.disabled_at}",
                        size="1",
                        color_scheme="red",
                        class_name="disabled-reason",
                        overflow_wrap="anywhere",
                    ),
                ),
                spacing="1",
                width="100%",
            )
        ),
        rx.table.cell(wrapped(row.events, size="2")),
        rx.table.cell(_health(row)),
        rx.table.cell(_test_result(row)),
        _actions(row),
        custom_attrs={"data-webhook-id": row.id},
        class_name="webhook-row",
    )


ENDPOINT_COLUMNS = (
    Column("URL"),
    Column("Events", "9rem"),
    Column("Last status", TIME_WIDTH),
    Column("Last test", "12rem"),
)


# Enabled switch, Test, Log, Edit, Rotate secret, Delete.
ENDPOINT_ACTIONS_WIDTH = "14.5rem"


def endpoints_table() -> rx.Component:
    return rx.cond(
        WebhooksState.rows.length() > 0,
        data_table(
            ENDPOINT_COLUMNS,
            rx.table.body(rx.foreach(WebhooksState.rows, _endpoint_row)),
            actions_width=ENDPOINT_ACTIONS_WIDTH,
            size="2",
        ),
        rx.text("No webhooks yet.", color_scheme="gray"),
    )
