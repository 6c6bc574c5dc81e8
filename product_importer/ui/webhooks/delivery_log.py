"""An endpoint's delivery log: filters, one line per delivery, redelivery."""

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
from product_importer.ui.webhooks.rows import DeliveryRow
from product_importer.ui.webhooks.state import ANY, WebhooksState
from product_importer.ui.widgets import dismiss_button
from product_importer.webhooks.endpoints import EVENT_TYPES
from product_importer.webhooks.tables import DeliveryStatus

DELIVERY_STATUSES = (ANY, *(str(s) for s in DeliveryStatus))


def delivery_status_badge(status: rx.Var[str]) -> rx.Component:
    color = rx.match(
        status,
        ("succeeded", "green"),
        ("failed", "red"),
        ("sending", "blue"),
        "amber",
    )
    return rx.badge(status, color_scheme=color, variant="soft", size="2")


DELIVERY_COLUMNS = (
    Column("#", "3.5rem"),
    Column("Time", TIME_WIDTH),
    Column("Event", "11rem"),
    Column("Status", "7.5rem"),
    Column("Attempts", "6rem"),
    Column("Code", "4rem"),
    Column("Latency", "5rem"),
    Column("Answer"),
)


def _delivery_row(row: DeliveryRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(clipped(row.id, color_scheme="gray")),
        rx.table.cell(row.created, white_space="nowrap"),
        rx.table.cell(
            rx.hstack(
                wrapped(row.event_type),
                rx.cond(row.is_test, rx.badge("test", variant="outline", size="1")),
                spacing="2",
                wrap="wrap",
            )
        ),
        rx.table.cell(delivery_status_badge(row.status)),
        rx.table.cell(row.attempts),
        rx.table.cell(row.status_code),
        rx.table.cell(row.latency, white_space="nowrap"),
        rx.table.cell(
            rx.vstack(
                rx.cond(row.error != "", wrapped(row.error, size="1", color_scheme="red")),
                rx.cond(
                    row.excerpt != "",
                    rx.code(row.excerpt, size="1", variant="ghost", overflow_wrap="anywhere"),
                ),
                rx.cond(
                    row.next_attempt != "",
                    rx.text(f"next attempt {row.next_attempt}", size="1", color_scheme="gray"),
                ),
                spacing="1",
            )
        ),
        actions_cell(
            rx.button(
                "Redeliver",
                on_click=WebhooksState.redeliver(row.id),
                disabled=~row.can_redeliver,
                size="1",
                variant="soft",
            )
        ),
        custom_attrs={"data-delivery-id": row.id, "data-status": row.status},
        class_name="delivery-row",
    )


def delivery_log() -> rx.Component:
    return rx.cond(
        WebhooksState.log_endpoint_id,
        rx.vstack(
            rx.hstack(
                rx.heading("Delivery log", size="5"),
                clipped(WebhooksState.log_url, size="2", color_scheme="gray", min_width="0"),
                rx.text(f"{WebhooksState.log_total} in all", size="2", color_scheme="gray"),
                rx.spacer(),
                rx.text("Status", size="1", color_scheme="gray"),
                rx.select(
                    list(DELIVERY_STATUSES),
                    value=WebhooksState.log_status,
                    on_change=WebhooksState.set_log_status,
                    size="1",
                    aria_label="Status",
                ),
                rx.text("Event", size="1", color_scheme="gray"),
                rx.select(
                    [ANY, *EVENT_TYPES],
                    value=WebhooksState.log_event_type,
                    on_change=WebhooksState.set_log_event_type,
                    size="1",
                    aria_label="Event type",
                ),
                rx.button(
                    rx.icon("refresh-cw", size=14),
                    "Refresh",
                    on_click=WebhooksState.refresh_log,
                    size="1",
                    variant="soft",
                ),
                dismiss_button(WebhooksState.close_log, "Close log"),
                align="center",
                spacing="3",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(
                WebhooksState.log_rows.length() > 0,
                data_table(
                    DELIVERY_COLUMNS,
                    rx.table.body(rx.foreach(WebhooksState.log_rows, _delivery_row)),
                    actions_width="7rem",
                    size="1",
                ),
                rx.text("No deliveries.", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
            class_name="delivery-log",
        ),
    )
