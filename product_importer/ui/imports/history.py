"""The import history: a page of past imports, newest first, and its pager."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.imports.cards import JobRow
from product_importer.ui.imports.job_card import errors_link, status_badge
from product_importer.ui.imports.state import (
    HISTORY_PAGE_SIZE,
    ImportState,
)
from product_importer.ui.tables import Column, clipped, data_table, wrapped
from product_importer.ui.widgets import confirm_dialog


def _history_row(row: JobRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(clipped(row.job_id, color_scheme="gray")),
        rx.table.row_header_cell(clipped(row.filename)),
        rx.table.cell(
            rx.vstack(
                status_badge(row.status, row.outcome, row.outcome_words),
                _revert_part(row),
                spacing="1",
                align="start",
            )
        ),
        rx.table.cell(wrapped(row.started)),
        rx.table.cell(clipped(row.duration)),
        rx.table.cell(clipped(row.size)),
        rx.table.cell(
            rx.text(row.rows),
            rx.cond(
                row.has_repeated,
                rx.text(row.repeated, size="1", color_scheme="gray", class_name="repeated"),
            ),
        ),
        rx.table.cell(row.created),
        rx.table.cell(row.updated),
        rx.table.cell(row.unchanged),
        rx.table.cell(
            rx.cond(
                row.has_skipped,
                rx.hstack(rx.text(row.skipped), errors_link(row.job_id), spacing="2"),
                rx.text(row.skipped),
            ),
            white_space="nowrap",
        ),
        custom_attrs={"data-job-id": row.job_id},
        class_name="history-row",
    )


def _revert_part(row: JobRow) -> rx.Component:
    """How its revert goes or went; and, for an import that can be reverted (or whose
    revert was cancelled or failed: it goes on where it stopped), the button."""
    return rx.hstack(
        rx.cond(
            row.revert_words != "",
            rx.tooltip(
                rx.badge(
                    row.revert_words,
                    color_scheme="purple",
                    variant="outline",
                    class_name="revert-status",
                ),
                content=row.revert_counts,
            ),
        ),
        rx.cond(
            row.can_revert,
            confirm_dialog(
                f"Revert import {row.job_id}?",
                "The products it created are deleted and the ones it changed get back "
                "their values before it. Products changed since are left alone (listed "
                "in the API: GET /api/imports/{id}/revert).",
                "Revert",
                ImportState.revert_import(row.job_id),
                trigger=rx.button(
                    rx.icon("undo-2", size=14),
                    "Revert",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    class_name="revert-button",
                ),
            ),
        ),
        spacing="1",
        wrap="wrap",
    )


HISTORY_COLUMNS = (
    Column("#", "2.5rem"),
    Column("File"),
    Column("Status", "11rem"),
    Column("Started", "7rem"),
    Column("Duration", "5.5rem"),
    Column("Size", "5rem"),
    Column("Rows", "4.5rem"),
    Column("Created", "5.5rem"),
    Column("Updated", "5.5rem"),
    Column("Unchanged", "7rem"),
    Column("Skipped", "8rem"),
)


def _history_table() -> rx.Component:
    # The table scrolls sideways inside its own box on a narrow window; the page never does.
    return data_table(
        HISTORY_COLUMNS,
        rx.table.body(rx.foreach(ImportState.history, _history_row)),
        size="1",
        class_name="history-table",
    )


def _pager() -> rx.Component:
    page = ImportState.history_page
    return rx.hstack(
        rx.text(
            f"Page {page} of {ImportState.history_page_count}",
            size="2",
            color_scheme="gray",
            class_name="history-page",
        ),
        rx.spacer(),
        rx.button(
            rx.icon("chevron-left", size=16),
            "Newer",
            on_click=ImportState.show_history_page(page - 1),
            disabled=page <= 1,
            variant="soft",
            size="2",
        ),
        rx.button(
            "Older",
            rx.icon("chevron-right", size=16),
            on_click=ImportState.show_history_page(page + 1),
            disabled=page >= ImportState.history_page_count,
            variant="soft",
            size="2",
        ),
        align="center",
        width="100%",
        spacing="2",
    )


def _empty_history() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon("history", size=28, color=rx.color("gray", 9)),
            rx.text("No imports yet.", weight="medium"),
            rx.text("Imports you start appear here.", size="2", color_scheme="gray"),
            align="center",
            spacing="1",
            padding_y="1em",
        ),
        width="100%",
        variant="surface",
    )


def import_history() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Import history", size="5"),
            rx.cond(
                ImportState.history_total > 0,
                rx.text(
                    f"{ImportState.history_total} in all, newest first",
                    size="2",
                    color_scheme="gray",
                    class_name="history-total",
                ),
            ),
            align="baseline",
            spacing="3",
            wrap="wrap",
        ),
        rx.cond(
            ImportState.history.length() > 0,
            rx.vstack(
                _history_table(),
                rx.cond(ImportState.history_total > HISTORY_PAGE_SIZE, _pager()),
                spacing="3",
                width="100%",
            ),
            _empty_history(),
        ),
        spacing="3",
        width="100%",
    )
