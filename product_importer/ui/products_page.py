"""The Products page: a server-side grid (filters, sort, pages), product form, deletes."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.products_state import (
    CONFIRM_WORD,
    PAGE_SIZES,
    ProductRow,
    ProductsState,
)
from product_importer.ui.session_state import SessionState
from product_importer.ui.shell import page_shell
from product_importer.ui.tables import (
    TIME_WIDTH,
    Column,
    actions_cell,
    clipped,
    data_table,
    header_cell,
    wrapped,
)
from product_importer.ui.widgets import button_row, dialog_fit

# Debounce of the filter inputs: the grid queries once the typing pauses.
FILTER_DEBOUNCE_MS = 350

# (column, the sort key it sorts by): the widths hold whatever the rows of a page hold.
COLUMNS = (
    (Column("SKU", "11rem"), "sku"),
    (Column("Name"), "name"),
    (Column("Description"), None),
    (Column("Price", "7rem"), "price"),
    (Column("Active", "6.5rem"), "active"),
    (Column("Updated", TIME_WIDTH), "updated_at"),
)
ACTIONS_WIDTH = "5.5rem"


# --- filters ------------------------------------------------------------------------------


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
        # Document navigation: the file streams as a download, the page stays.
        rx.link(
            rx.button(rx.icon("download", size=14), "Export CSV", variant="soft"),
            href=ProductsState.export_href,
            download="products.csv",
            reload_document=True,
        ),
        align="end",
        spacing="3",
        width="100%",
        wrap="wrap",
    )


# --- the grid -----------------------------------------------------------------------------


def _sort_icon(column: str) -> rx.Component:
    return rx.cond(
        ProductsState.sort == column,
        rx.icon("arrow-up", size=14),
        rx.cond(
            ProductsState.sort == f"-{column}",
            rx.icon("arrow-down", size=14),
            rx.icon("arrow-up-down", size=14, opacity="0.35"),
        ),
    )


def _header_cell(column: Column, sort_key: str | None) -> rx.Component:
    if sort_key is None:
        return header_cell(column)
    return header_cell(
        column,
        rx.hstack(rx.text(column.label), _sort_icon(sort_key), spacing="1", align="center"),
        on_click=ProductsState.sort_by(sort_key),
        cursor="pointer",
        user_select="none",
        custom_attrs={"data-sort-column": sort_key},
    )


def _product_row(row: ProductRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(clipped(rx.code(row.sku, variant="ghost"), title=row.sku)),
        rx.table.cell(wrapped(row.name)),
        rx.table.cell(clipped(row.description, size="2", color_scheme="gray")),
        rx.table.cell(row.price, text_align="right", white_space="nowrap"),
        rx.table.cell(
            rx.cond(
                row.active,
                rx.badge("active", color_scheme="green", variant="soft"),
                rx.badge("inactive", color_scheme="gray", variant="soft"),
            )
        ),
        rx.table.cell(row.updated, white_space="nowrap", color=rx.color("gray", 11)),
        actions_cell(
            rx.icon_button(
                rx.icon("pencil", size=14),
                on_click=ProductsState.open_edit(row.product_id),
                variant="ghost",
                size="1",
                aria_label=f"Edit {row.sku}",
            ),
            rx.icon_button(
                rx.icon("trash-2", size=14),
                on_click=ProductsState.ask_delete(row.product_id, row.sku),
                variant="ghost",
                color_scheme="red",
                size="1",
                aria_label=f"Delete {row.sku}",
            ),
        ),
        custom_attrs={"data-sku": row.sku},
        class_name="product-row",
    )


def _empty_state() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon("package-open", size=32, color=rx.color("gray", 9)),
            rx.cond(
                ProductsState.catalog_empty,
                rx.vstack(
                    rx.text("No products yet", weight="bold"),
                    rx.text(
                        "Import a CSV file or add a product to start the catalog.",
                        size="2",
                        color_scheme="gray",
                    ),
                    align="center",
                    spacing="1",
                ),
                rx.vstack(
                    rx.text("No products match these filters", weight="bold"),
                    rx.button(
                        "Clear filters",
                        on_click=ProductsState.clear_filters,
                        variant="soft",
                        size="2",
                    ),
                    align="center",
                    spacing="2",
                ),
            ),
            align="center",
            spacing="2",
            padding="2em",
        ),
        width="100%",
        class_name="products-empty",
    )


def grid() -> rx.Component:
    return rx.cond(
        ProductsState.rows.length() > 0,
        data_table(
            [column for column, _ in COLUMNS],
            rx.table.body(rx.foreach(ProductsState.rows, _product_row)),
            header=[_header_cell(column, sort_key) for column, sort_key in COLUMNS],
            actions_width=ACTIONS_WIDTH,
            size="2",
        ),
        rx.cond(ProductsState.loaded, _empty_state()),
    )


def _page_button(number: rx.Var[int]) -> rx.Component:
    current = number == ProductsState.page
    return rx.button(
        number,
        on_click=ProductsState.go_to_page(number),
        variant=rx.cond(current, "solid", "soft"),
        color_scheme=rx.cond(current, "indigo", "gray"),
        size="1",
        aria_label=f"Page {number}",
        aria_current=rx.cond(current, "page", "false"),
    )


def pager() -> rx.Component:
    at_start = ProductsState.page <= 1
    at_end = ProductsState.page >= ProductsState.page_count
    return rx.hstack(
        rx.text(ProductsState.total_label, size="2", color_scheme="gray", class_name="total"),
        rx.spacer(),
        rx.hstack(
            rx.text("Rows per page", size="2", color_scheme="gray"),
            rx.select.root(
                rx.select.trigger(aria_label="Rows per page"),
                rx.select.content(*(rx.select.item(str(n), value=str(n)) for n in PAGE_SIZES)),
                value=ProductsState.page_size.to_string(),
                on_change=ProductsState.set_page_size,
                size="1",
            ),
            align="center",
            spacing="2",
        ),
        rx.hstack(
            rx.icon_button(
                rx.icon("chevrons-left", size=14),
                on_click=ProductsState.go_to_page(1),
                disabled=at_start,
                variant="soft",
                size="1",
                aria_label="First page",
            ),
            rx.icon_button(
                rx.icon("chevron-left", size=14),
                on_click=ProductsState.go_to_page(ProductsState.page - 1),
                disabled=at_start,
                variant="soft",
                size="1",
                aria_label="Previous page",
            ),
            rx.foreach(ProductsState.page_numbers, _page_button),
            rx.icon_button(
                rx.icon("chevron-right", size=14),
                on_click=ProductsState.go_to_page(ProductsState.page + 1),
                disabled=at_end,
                variant="soft",
                size="1",
                aria_label="Next page",
            ),
            rx.icon_button(
                rx.icon("chevrons-right", size=14),
                on_click=ProductsState.go_to_page(ProductsState.page_count),
                disabled=at_end,
                variant="soft",
                size="1",
                aria_label="Last page",
            ),
            spacing="1",
            align="center",
        ),
        align="center",
        spacing="5",
        width="100%",
        wrap="wrap",
    )


# --- the product form ---------------------------------------------------------------------


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


# --- deletes ------------------------------------------------------------------------------


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete product"),
            rx.alert_dialog.description(
                rx.text(
                    "Delete ",
                    rx.code(ProductsState.delete_sku, overflow_wrap="anywhere"),
                    "? This cannot be undone.",
                )
            ),
            button_row(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Delete", color_scheme="red", on_click=ProductsState.confirm_delete),
                margin_top="1em",
            ),
            **dialog_fit("28rem"),
        ),
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
                        rx.icon_button(
                            rx.icon("x", size=14),
                            on_click=ProductsState.dismiss_bulk,
                            variant="ghost",
                            color_scheme="gray",
                            size="1",
                            aria_label="Dismiss",
                        ),
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
