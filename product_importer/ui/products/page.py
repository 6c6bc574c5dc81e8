"""The Products page: a server-side grid (filters, sort, pages), product form, deletes,
export."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.products.dialogs import bulk_delete_dialog, delete_dialog, product_form
from product_importer.ui.products.export_card import export_button, export_card
from product_importer.ui.products.grid import grid, pager
from product_importer.ui.products.state import (
    ProductsState,
)
from product_importer.ui.session_state import SessionState
from product_importer.ui.shell import page_shell
from product_importer.ui.widgets import dismiss_button

# Debounce of the filter inputs: the grid queries once the typing pauses.
FILTER_DEBOUNCE_MS = 350


def _filter_input(
    label: str, value: rx.Var, on_change, name: str, placeholder: str = "", aria: str = ""
) -> rx.Component:
    return rx.vstack(
        rx.el.label(
            label,
            html_for=f"filter-{name}",
            font_size="var(--font-size-1)",
            font_weight="500",
            color="var(--gray-11)",
        ),
        rx.debounce_input(
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                value=value,
                on_change=on_change,
                placeholder=placeholder or f"Any {label.lower()}",
                name=f"filter-{name}",
                id=f"filter-{name}",
                aria_label=aria or f"Filter by {label.lower()}",
                width="100%",
            ),
            debounce_timeout=FILTER_DEBOUNCE_MS,
        ),
        spacing="1",
        flex="1",
        min_width="10em",
    )


def filters_bar() -> rx.Component:
    return rx.hstack(
        _filter_input(
            "Search",
            ProductsState.filter_q,
            ProductsState.set_filter_q,
            "q",
            "SKU, name or description",
            "Search products by SKU, name or description",
        ),
        _filter_input("SKU", ProductsState.filter_sku, ProductsState.set_filter_sku, "sku"),
        _filter_input("Name", ProductsState.filter_name, ProductsState.set_filter_name, "name"),
        _filter_input(
            "Description",
            ProductsState.filter_description,
            ProductsState.set_filter_description,
            "description",
        ),
        rx.vstack(
            rx.text("Status", size="1", weight="medium", color_scheme="gray"),
            rx.select.root(
                rx.select.trigger(aria_label="Filter by status", min_width="8em"),
                rx.select.content(
                    rx.select.item("All", value="all"),
                    rx.select.item("Active", value="active"),
                    rx.select.item("Inactive", value="inactive"),
                ),
                value=ProductsState.filter_active,
                on_change=ProductsState.set_filter_active,
            ),
            spacing="1",
        ),
        rx.cond(
            ProductsState.filtered,
            rx.button(
                rx.icon("x", size=14),
                "Clear",
                on_click=ProductsState.clear_filters,
                variant="soft",
                color_scheme="gray",
            ),
        ),
        export_button(),
        align="end",
        spacing="3",
        width="100%",
        wrap="wrap",
    )


def bulk_delete_card() -> rx.Component:
    color = rx.match(ProductsState.bulk_status, ("completed", "green"), ("failed", "red"), "amber")
    return rx.cond(
        ProductsState.bulk_status != "",
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("trash-2", size=18),
                    rx.text("Delete all products", weight="bold"),
                    rx.badge(ProductsState.bulk_status, color_scheme=color, variant="soft"),
                    rx.spacer(),
                    rx.cond(
                        ~ProductsState.bulk_running,
                        dismiss_button(ProductsState.dismiss_bulk),
                    ),
                    align="center",
                    width="100%",
                ),
                rx.hstack(
                    rx.progress(value=ProductsState.bulk_percent.to(int), max=100, width="100%"),
                    rx.text(f"{ProductsState.bulk_percent}%", size="2", weight="bold"),
                    align="center",
                    width="100%",
                ),
                rx.text(ProductsState.bulk_message, size="2", class_name="bulk-message"),
                spacing="3",
                width="100%",
            ),
            width="100%",
            class_name="bulk-delete-card",
            custom_attrs={
                "data-status": ProductsState.bulk_status,
                "data-percent": ProductsState.bulk_percent,
            },
        ),
    )


def products_page() -> rx.Component:
    return page_shell(
        "/products",
        rx.hstack(
            rx.heading("Products", size="7"),
            rx.spacer(),
            rx.button(rx.icon("plus", size=16), "New product", on_click=ProductsState.open_create),
            rx.cond(  # delete-all is for admins; the server checks it again
                SessionState.is_admin,
                rx.button(
                    rx.icon("trash-2", size=16),
                    "Delete all",
                    on_click=ProductsState.open_bulk_delete,
                    color_scheme="red",
                    variant="soft",
                    disabled=ProductsState.bulk_running,
                ),
            ),
            align="center",
            spacing="3",
            width="100%",
            wrap="wrap",
        ),
        bulk_delete_card(),
        filters_bar(),
        export_card(),
        rx.cond(
            ProductsState.load_error != "",
            rx.callout(ProductsState.load_error, icon="circle-x", color_scheme="red", width="100%"),
        ),
        pager(),
        grid(),
        product_form(),
        delete_dialog(),
        bulk_delete_dialog(),
    )
