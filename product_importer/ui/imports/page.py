"""The Import page: drop CSV files, watch their imports live, browse the import history."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import ArrayVar, ObjectVar

from product_importer.csvfile import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from product_importer.settings import settings
from product_importer.ui.imports.history import import_history
from product_importer.ui.imports.job_card import job_card
from product_importer.ui.imports.saved_mappings import (
    SavedMappingsState,
    saved_mappings_section,
)
from product_importer.ui.imports.state import (
    DELETE_CONFIRMATION,
    UPLOAD_ID,
    ImportState,
)
from product_importer.ui.session_state import SessionState
from product_importer.ui.shell import page_shell
from product_importer.ui.widgets import error_callout


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
    """Which column is which field, for a file whose headers did not say it clearly: the
    file is kept meanwhile, so the choice imports it with no second upload."""
    return rx.cond(
        ImportState.mapping_headers.length() > 0,
        rx.card(
            rx.vstack(
                rx.heading("Choose the columns", size="4"),
                rx.text(
                    "The headers of ",
                    rx.text.strong(ImportState.mapping_file),
                    " do not say clearly which column is which. The best matches are "
                    "chosen; correct them, then import: the file is kept, no need to send "
                    "it again.",
                    size="2",
                ),
                rx.cond(
                    SavedMappingsState.mappings.length() > 0,
                    rx.select.root(
                        rx.select.trigger(
                            placeholder="Start from a saved mapping…",
                            aria_label="Start from a saved mapping",
                            class_name="start-from-saved",
                        ),
                        rx.select.content(
                            rx.foreach(
                                SavedMappingsState.mappings,
                                lambda m: rx.select.item(m.name, value=m.id.to_string()),
                            ),
                        ),
                        on_change=ImportState.start_from_saved,
                        size="1",
                    ),
                ),
                *(_column_select(f) for f in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)),
                rx.hstack(
                    rx.text("Save this mapping as", size="2", min_width="8em"),
                    rx.input(
                        placeholder="a name (optional), e.g. ERP export",
                        value=ImportState.mapping_save_as,
                        on_change=ImportState.set_mapping_save_as,
                        aria_label="Save this mapping as",
                        class_name="save-mapping-as",
                        min_width="14em",
                    ),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(
                    "A saved mapping is used without asking for the next file with the "
                    "same header names.",
                    size="1",
                    color_scheme="gray",
                ),
                rx.cond(
                    ImportState.mapping_problem != "",
                    rx.callout(
                        ImportState.mapping_problem,
                        icon="triangle-alert",
                        color_scheme="red",
                        size="1",
                        width="100%",
                        class_name="mapping-problem",
                    ),
                ),
                rx.hstack(
                    rx.button(
                        "Import with these columns",
                        on_click=ImportState.use_mapping,
                        disabled=~ImportState.mapping_complete | ImportState.mapping_busy,
                        loading=ImportState.mapping_busy,
                        class_name="use-mapping",
                    ),
                    rx.button("Forget", on_click=ImportState.forget_mapping, variant="soft"),
                    align="center",
                    wrap="wrap",
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
        saved_mappings_section(),
    )
