"""The Webhooks page (admins): endpoints with health and enabled toggles, create/edit form,
test button, secret reveal with copy, and the delivery log with filters and redelivery."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.shell import page_shell
from product_importer.ui.tables import (
    TIME_WIDTH,
    Column,
    actions_cell,
    clipped,
    data_table,
    wrapped,
)
from product_importer.ui.webhooks_state import ANY, DeliveryRow, EndpointRow, WebhooksState
from product_importer.ui.widgets import button_row, copy_button, dialog_fit, dismissible_error
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
        rx.alert_dialog.root(
            rx.alert_dialog.trigger(
                rx.icon_button(
                    rx.icon("trash-2", size=14),
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    aria_label="Delete",
                    title="Delete",
                )
            ),
            rx.alert_dialog.content(
                rx.alert_dialog.title("Delete this webhook?"),
                rx.alert_dialog.description(
                    wrapped(f"{row.url} and its delivery log will be removed.", size="2")
                ),
                button_row(
                    rx.alert_dialog.cancel(
                        rx.button("Cancel", variant="soft", color_scheme="gray")
                    ),
                    rx.alert_dialog.action(
                        rx.button(
                            "Delete", color_scheme="red", on_click=WebhooksState.delete(row.id)
                        )
                    ),
                    margin_top="1em",
                ),
                **dialog_fit("28rem"),
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
                rx.icon_button(
                    rx.icon("x", size=14),
                    on_click=WebhooksState.close_log,
                    size="1",
                    variant="ghost",
                    color_scheme="gray",
                    aria_label="Close log",
                ),
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
