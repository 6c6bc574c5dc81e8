"""The Products page's dialogs: the product form (new and edit), delete one, delete all."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.products.state import (
    CONFIRM_WORD,
    ProductsState,
)
from product_importer.ui.widgets import button_row, confirm_dialog, dialog_fit


def _field(label: str, control: rx.Component, error_key: str) -> rx.Component:
    error = ProductsState.form_errors.get(error_key, "")
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium"),
        control,
        rx.cond(
            error != "",
            rx.text(error, size="1", color_scheme="red", class_name=f"field-error-{error_key}"),
        ),
        spacing="1",
        width="100%",
    )


def product_form() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(ProductsState.form_product_id == 0, "New product", "Edit product")
            ),
            rx.vstack(
                _field(
                    "SKU",
                    rx.input(
                        value=ProductsState.form_sku,
                        on_change=ProductsState.set_form_sku,
                        name="sku",
                        width="100%",
                        aria_label="SKU",
                    ),
                    "sku",
                ),
                _field(
                    "Name",
                    rx.input(
                        value=ProductsState.form_name,
                        on_change=ProductsState.set_form_name,
                        name="name",
                        width="100%",
                        aria_label="Name",
                    ),
                    "name",
                ),
                _field(
                    "Description",
                    rx.text_area(
                        value=ProductsState.form_description,
                        on_change=ProductsState.set_form_description,
                        name="description",
                        aria_label="Description",
                        width="100%",
                        rows="3",
                    ),
                    "description",
                ),
                _field(
                    "Price",
                    rx.input(
                        value=ProductsState.form_price,
                        on_change=ProductsState.set_form_price,
                        name="price",
                        width="100%",
                        aria_label="Price",
                        placeholder="e.g. 19.99 (optional)",
                        input_mode="decimal",
                    ),
                    "price",
                ),
                rx.hstack(
                    rx.switch(
                        checked=ProductsState.form_active,
                        on_change=ProductsState.set_form_active,
                        aria_label="Active",
                    ),
                    rx.text("Active", size="2"),
                    align="center",
                    spacing="2",
                ),
                button_row(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(
                        "Save",
                        on_click=ProductsState.save_product,
                        loading=ProductsState.form_saving,
                    ),
                ),
                spacing="4",
                width="100%",
            ),
            **dialog_fit("32rem"),
        ),
        open=ProductsState.form_open,
        on_open_change=ProductsState.set_form_open,
    )


def delete_dialog() -> rx.Component:
    return confirm_dialog(
        "Delete product",
        rx.text(
            "Delete ",
            rx.code(ProductsState.delete_sku, overflow_wrap="anywhere"),
            "? This cannot be undone.",
        ),
        "Delete",
        ProductsState.confirm_delete,
        closes=False,  # the state closes it once the product is gone
        open=ProductsState.delete_open,
        on_open_change=ProductsState.set_delete_open,
    )


def bulk_delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete all products"),
            rx.alert_dialog.description(
                rx.text(
                    "Every product in the catalog will be deleted. This cannot be undone. Type ",
                    rx.code(CONFIRM_WORD),
                    " to confirm.",
                )
            ),
            rx.input(
                value=ProductsState.bulk_confirm_text,
                on_change=ProductsState.set_bulk_confirm_text,
                placeholder=CONFIRM_WORD,
                aria_label="Type DELETE to confirm",
                margin_top="1em",
            ),
            rx.cond(
                ProductsState.bulk_error != "",
                rx.callout(
                    ProductsState.bulk_error,
                    icon="triangle-alert",
                    color_scheme="red",
                    size="1",
                    margin_top="1em",
                    role="alert",
                ),
            ),
            button_row(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button(
                    "Delete all products",
                    color_scheme="red",
                    disabled=~ProductsState.bulk_confirmed,
                    on_click=ProductsState.start_bulk_delete,
                ),
                margin_top="1em",
            ),
            **dialog_fit("32rem"),
        ),
        open=ProductsState.bulk_open,
        on_open_change=ProductsState.set_bulk_open,
    )
