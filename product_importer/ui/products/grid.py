"""The products grid: sortable column headers, one line per product, the empty state and
the pager."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.products.rows import ProductRow
from product_importer.ui.products.state import (
    PAGE_SIZES,
    ProductsState,
)
from product_importer.ui.tables import (
    TIME_WIDTH,
    Column,
    actions_cell,
    clipped,
    data_table,
    header_cell,
    wrapped,
)

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
