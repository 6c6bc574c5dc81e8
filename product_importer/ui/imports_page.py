"""The Import page: drop CSV files, watch their imports live, browse the import history."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import ArrayVar, ObjectVar

from product_importer.csvfile import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from product_importer.settings import settings
from product_importer.ui.imports_state import (
    DELETE_CONFIRMATION,
    HISTORY_PAGE_SIZE,
    UPLOAD_ID,
    ImportState,
    JobCard,
    JobRow,
)
from product_importer.ui.session_state import SessionState
from product_importer.ui.shell import page_shell
from product_importer.ui.tables import Column, clipped, data_table, wrapped
from product_importer.ui.widgets import error_callout


def status_badge(status: rx.Var[str], outcome: rx.Var[str], words: rx.Var[str]) -> rx.Component:
    """A completed job shows its outcome (green, amber or red); the others their status."""
    color = rx.match(
        outcome,
        ("all_applied", "green"),
        ("applied_with_skipped", "amber"),
        ("nothing_applied", "red"),
        _status_color(status),
    )
    return rx.badge(
        rx.cond(outcome != "", words, status),
        color_scheme=color,
        variant="soft",
        size="2",
        custom_attrs={"data-outcome": outcome},
        class_name="status-badge",
    )


def _status_color(status: rx.Var[str]) -> rx.Var:
    return rx.match(
        status,
        ("completed", "green"),
        ("failed", "red"),
        ("cancelled", "gray"),
        ("processing", "blue"),
        "amber",
    )


def errors_link(job_id: rx.Var[int]) -> rx.Component:
    # Document navigation, not client-side routing: the report is a download, not a page.
    return rx.link(
        rx.hstack(rx.icon("download", size=14), rx.text("errors.csv"), spacing="1"),
        href=f"/api/imports/{job_id}/errors.csv",
        download="",
        reload_document=True,
        size="2",
    )


def template_link() -> rx.Component:
    """The template CSV (our columns, two sample rows), downloaded like the reports."""
    return rx.link(
        rx.hstack(rx.icon("file-down", size=14), rx.text("Download a template CSV"), spacing="1"),
        href="/api/imports/template.csv",
        download="",
        reload_document=True,
        size="2",
        class_name="template-link",
    )


def _columns_hint() -> rx.Component:
    def code_list(names: tuple[str, ...]) -> list[rx.Component]:
        parts: list[rx.Component] = []
        for index, name in enumerate(names):
            if index:
                parts.append(rx.text.span(", "))
            parts.append(rx.code(name, variant="ghost"))
        return parts

    return rx.text(
        "Columns ",
        *code_list(REQUIRED_COLUMNS),
        " are required; ",
        *code_list(OPTIONAL_COLUMNS),
        " are optional; other header names (Title, Variant SKU, Artikelnummer, ...) are "
        f"matched. CSV, .csv.gz, UTF-16 text, .xlsx (its first sheet) or a .zip holding "
        f"one of them, up to {settings.max_upload_mb} MB.",
        size="2",
        color_scheme="gray",
    )


def _on_rejected(rejections: rx.Var) -> rx.event.EventSpec:
    """Send only "name:code,code" per refused file: the File objects themselves must not
    travel over the websocket."""

    def describe(rejection: ObjectVar) -> rx.Var:
        rejection = rejection.to(ObjectVar, dict[str, dict[str, Any]])
        file = rejection["file"].to(ObjectVar, dict[str, Any])
        errors = rejection["errors"].to(ArrayVar, list[dict[str, Any]])
        return f"{file['name']}:{errors.map(lambda error: error['code']).join(',')}"

    return ImportState.files_rejected(rejections.to(ArrayVar).map(describe))


# What the drop zone takes, by type and by name (the intake reads each by its bytes).
ACCEPTED_FILES = {
    "text/csv": [".csv", ".tsv", ".txt"],
    "application/gzip": [".gz"],
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [".xlsx"],
    "application/zip": [".zip"],
}


def drop_zone() -> rx.Component:
    return rx.upload.root(
        rx.vstack(
            rx.icon("file-up", size=36, color=rx.color("accent", 9)),
            rx.text(
                "Drop CSV files here, or click to choose",
                weight="medium",
                text_align="center",
            ),
            rx.text(
                "Each file becomes its own import as soon as it is chosen.",
                size="2",
                color_scheme="gray",
                text_align="center",
            ),
            align="center",
            spacing="2",
        ),
        id=UPLOAD_ID,
        multiple=True,
        max_size=settings.max_upload_bytes,
        accept=ACCEPTED_FILES,
        disabled=ImportState.uploading,
        on_drop=[
            ImportState.drop_started(),
            ImportState.upload(
                rx.upload_files_chunk(
                    upload_id=UPLOAD_ID,
                    on_upload_progress=ImportState.upload_progressed.throttle(250),
                )
            ),
        ],
        on_drop_rejected=_on_rejected,
        border=f"2px dashed {rx.color('accent', 7)}",
        border_radius="var(--radius-4)",
        padding=["1.5em", "2.5em"],
        width="100%",
        cursor=rx.cond(ImportState.uploading, "progress", "pointer"),
        opacity=rx.cond(ImportState.uploading, "0.6", "1"),
        background=rx.color("accent", 2),
        drag_active_style={"background": rx.color("accent", 4)},
    )


def _problem(message: rx.Var[str], index: rx.Var[int]) -> rx.Component:
    return error_callout(message, ImportState.dismiss_error(index), class_name="upload-problem")


def upload_errors() -> rx.Component:
    """One message per refused file, each naming its file."""
    return rx.cond(
        ImportState.upload_errors.length() > 0,
        rx.vstack(
            rx.foreach(ImportState.upload_errors, _problem),
            spacing="2",
            width="100%",
        ),
    )


def upload_card() -> rx.Component:
    return rx.cond(
        ImportState.uploading,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("upload", size=18),
                    rx.text(ImportState.upload_filename, weight="bold", word_break="break-all"),
                    rx.badge("uploading", color_scheme="amber", variant="soft", size="2"),
                    rx.spacer(),
                    rx.button(
                        "Cancel upload",
                        # Jobs of files already in keep running: follow them again.
                        on_click=[rx.cancel_upload(UPLOAD_ID), ImportState.reattach],
                        variant="soft",
                        color_scheme="gray",
                        size="1",
                    ),
                    align="center",
                    width="100%",
                    wrap="wrap",
                ),
                rx.progress(value=ImportState.upload_percent, max=100, width="100%"),
                rx.text(
                    f"{ImportState.upload_percent}% sent; rows are checked while they arrive.",
                    size="2",
                    color_scheme="gray",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
    )


def _stat(label: rx.Var | str, value: rx.Var | str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray", weight="medium"),
        rx.text(value, size="3", weight="bold"),
        spacing="0",
        min_width="6.5em",
    )


def _preview_panel(card: JobCard) -> rx.Component:
    """What a previewed import would do, before anything is written."""
    return rx.vstack(
        rx.text(
            "Preview: nothing has been written yet. Apply imports it from the file already "
            f"sent; not applied by {card.preview_until}, it is discarded.",
            size="2",
        ),
        rx.hstack(
            _stat("New", card.preview_new),
            _stat("Changed", card.preview_changed),
            _stat("Unchanged", card.preview_unchanged),
            _stat("Repeated", card.preview_repeated),
            _stat("Bad", card.preview_bad),
            spacing=rx.breakpoints(initial="3", sm="5"),
            wrap="wrap",
            class_name="preview-counts",
        ),
        rx.cond(card.preview_other != "", rx.text(card.preview_other, size="2")),
        rx.cond(
            card.changes.length() > 0,
            rx.vstack(
                rx.text("Changes (before → after)", size="2", weight="medium"),
                rx.foreach(
                    card.changes,
                    lambda line: rx.text(line, size="2", class_name="preview-change"),
                ),
                spacing="1",
                class_name="preview-changes",
            ),
        ),
        spacing="2",
        width="100%",
        class_name="preview-panel",
    )


def import_choices() -> rx.Component:
    """What the next dropped files may do."""
    return rx.hstack(
        rx.checkbox(
            "Preview first",
            checked=ImportState.preview_first,
            on_change=ImportState.set_preview_first,
            class_name="preview-first",
        ),
        rx.select.root(
            rx.select.trigger(aria_label="Import mode", class_name="import-mode"),
            rx.select.content(
                rx.select.item("Create and update", value="create_update"),
                rx.select.item("Create only (skip existing SKUs)", value="create_only"),
                rx.select.item("Update only (skip unknown SKUs)", value="update_only"),
            ),
            value=ImportState.import_mode,
            on_change=ImportState.set_import_mode,
        ),
        rx.select.root(
            rx.select.trigger(aria_label="Products missing from the file", class_name="missing"),
            rx.select.content(
                rx.select.item("Missing from the file: leave them", value="leave"),
                rx.select.item("Missing from the file: deactivate them", value="deactivate"),
                rx.cond(
                    SessionState.is_admin,
                    rx.select.item("Missing from the file: delete them", value="delete"),
                ),
            ),
            value=ImportState.missing_choice,
            on_change=ImportState.set_missing_choice,
        ),
        rx.cond(
            ImportState.missing_choice == "delete",
            rx.input(
                placeholder=f"Type {DELETE_CONFIRMATION} to confirm",
                value=ImportState.delete_confirmation,
                on_change=ImportState.set_delete_confirmation,
                aria_label="Confirm deleting the products missing from the file",
                class_name="delete-confirmation",
            ),
        ),
        spacing="3",
        align="center",
        wrap="wrap",
        width="100%",
    )


def job_card(card: JobCard) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("file-spreadsheet", size=18),
                rx.text(card.filename, weight="bold", word_break="break-all"),
                rx.text(f"#{card.job_id}", color_scheme="gray", size="2"),
                status_badge(card.status, card.outcome, card.outcome_words),
                rx.text(f"stage: {card.stage}", size="2", color_scheme="gray"),
                rx.spacer(),
                rx.cond(
                    card.previewed,
                    rx.hstack(
                        rx.button(
                            "Apply",
                            on_click=ImportState.apply_preview(card.job_id),
                            size="1",
                            class_name="apply-preview",
                        ),
                        rx.button(
                            "Discard",
                            on_click=ImportState.discard_preview(card.job_id),
                            variant="soft",
                            color_scheme="gray",
                            size="1",
                            class_name="discard-preview",
                        ),
                    ),
                ),
                rx.cond(
                    card.previewed,
                    rx.fragment(),
                    rx.cond(
                        card.finished,
                        rx.icon_button(
                            rx.icon("x", size=14),
                            on_click=ImportState.dismiss(card.job_id),
                            variant="ghost",
                            color_scheme="gray",
                            size="1",
                            aria_label="Dismiss",
                        ),
                        rx.button(
                            "Cancel import",
                            on_click=ImportState.cancel_job(card.job_id),
                            variant="soft",
                            color_scheme="red",
                            size="1",
                        ),
                    ),
                ),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(
                card.options != "",
                rx.text(card.options, size="2", color_scheme="gray", class_name="import-options"),
            ),
            rx.cond(card.previewed, _preview_panel(card)),
            rx.cond(
                card.waiting != "",
                rx.hstack(
                    rx.icon("hourglass", size=16),
                    rx.text(card.waiting, size="2", color_scheme="amber"),
                    align="center",
                    class_name="waiting-for-worker",
                ),
            ),
            rx.cond(
                ~card.previewed,
                rx.hstack(
                    rx.progress(value=card.percent.to(int), max=100, width="100%"),
                    rx.text(f"{card.percent}%", size="2", weight="bold", min_width="3.5em"),
                    align="center",
                    width="100%",
                ),
            ),
            rx.cond(
                ~card.previewed,
                rx.hstack(
                    _stat("Processed", card.rows),
                    _stat("Created", card.created),
                    _stat("Updated", card.updated),
                    _stat("Unchanged", card.unchanged),
                    _stat("Skipped", card.skipped),
                    _stat(rx.cond(card.finished, "Average rate", "Speed"), card.speed),
                    _stat(rx.cond(card.finished, "Took", "Time left"), card.eta),
                    spacing=rx.breakpoints(initial="3", sm="5"),
                    wrap="wrap",
                    width="100%",
                ),
            ),
            rx.cond(
                card.has_repeated,
                rx.text(card.repeated, size="2", color_scheme="gray", class_name="repeated"),
            ),
            rx.cond(
                card.other_counts != "",
                rx.text(card.other_counts, size="2", class_name="other-counts"),
            ),
            rx.hstack(
                rx.cond(card.has_skipped, errors_link(card.job_id)),
                rx.cond(
                    card.extra_columns != "",
                    rx.text(
                        f"Extra columns ignored: {card.extra_columns}",
                        size="2",
                        color_scheme="gray",
                    ),
                ),
                spacing="4",
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                card.error != "",
                rx.callout(card.error, icon="circle-x", color_scheme="red", size="1", width="100%"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-job-id": card.job_id, "data-status": card.status},
        class_name="job-card",
    )


def _history_row(row: JobRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(clipped(row.job_id, color_scheme="gray")),
        rx.table.row_header_cell(clipped(row.filename)),
        rx.table.cell(status_badge(row.status, row.outcome, row.outcome_words)),
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


def _column_select(field_name: str) -> rx.Component:
    return rx.hstack(
        rx.text(field_name, weight="medium", min_width="8em"),
        rx.select.root(
            rx.select.trigger(
                aria_label=f"Column for {field_name}",
                class_name="mapping-" + field_name,
                min_width="14em",
            ),
            rx.select.content(
                rx.foreach(ImportState.mapping_headers, lambda h: rx.select.item(h, value=h)),
            ),
            value=ImportState.mapping_choice[field_name],
            on_change=lambda header: ImportState.choose_column(field_name, header),
        ),
        align="center",
    )


def mapping_chooser() -> rx.Component:
    """Which column is which field, for a file whose headers did not say it clearly."""
    return rx.cond(
        ImportState.mapping_headers.length() > 0,
        rx.card(
            rx.vstack(
                rx.heading("Choose the columns", size="4"),
                rx.text(
                    "The headers of ",
                    rx.text.strong(ImportState.mapping_file),
                    " do not say clearly which column is which. The best matches are "
                    "chosen; correct them, then drop the file again.",
                    size="2",
                ),
                *(_column_select(f) for f in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)),
                rx.hstack(
                    rx.button(
                        "Use these columns",
                        on_click=ImportState.use_mapping,
                        disabled=~ImportState.mapping_complete,
                        class_name="use-mapping",
                    ),
                    rx.button("Forget", on_click=ImportState.forget_mapping, variant="soft"),
                    rx.cond(
                        ImportState.mapping_ready,
                        rx.text(
                            "The next file dropped is imported with these columns.",
                            size="2",
                            color_scheme="green",
                            class_name="mapping-ready",
                        ),
                    ),
                    align="center",
                ),
                spacing="2",
            ),
            width="100%",
            class_name="mapping-chooser",
        ),
    )


def imports_page() -> rx.Component:
    return page_shell(
        "/",
        rx.vstack(
            rx.heading("Import products", size="7"),
            _columns_hint(),
            template_link(),
            spacing="2",
        ),
        import_choices(),
        drop_zone(),
        upload_errors(),
        mapping_chooser(),
        upload_card(),
        rx.cond(
            ImportState.cards.length() > 0,
            rx.vstack(rx.foreach(ImportState.cards, job_card), spacing="3", width="100%"),
        ),
        import_history(),
    )
