"""An import's live card: status badge, progress, counts, the preview's changes and its
buttons; the error report link."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.imports.cards import JobCard
from product_importer.ui.imports.saved_mappings import SavedMappingsState
from product_importer.ui.imports.state import (
    ImportState,
)
from product_importer.ui.session_state import SessionState
from product_importer.ui.widgets import dismiss_button


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


def _stat(label: rx.Var | str, value: rx.Var | str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray", weight="medium"),
        rx.text(value, size="3", weight="bold"),
        spacing="0",
        min_width="6.5em",
    )


def _price_style(card: JobCard) -> rx.Component:
    """How the prices were read, and the choice of another decimal separator (the
    preview is read again from its kept file); a question when prices read two ways."""
    choice = rx.select.root(
        rx.select.trigger(
            placeholder="Choose the decimal separator",
            aria_label="Decimal separator of the prices",
            class_name="price-decimal",
        ),
        rx.select.content(
            rx.select.item("Decimal point (1,299.00)", value="."),
            rx.select.item("Decimal comma (1.299,00)", value=","),
        ),
        value=card.price_decimal,
        on_change=lambda value: ImportState.reread_preview(card.job_id, value),
        size="1",
    )
    words = rx.text(card.price_style, size="2", class_name="price-style")
    return rx.vstack(
        rx.cond(
            card.price_style_asks,
            rx.callout(
                card.price_style,
                icon="circle-help",
                color_scheme="amber",
                size="1",
                width="100%",
                class_name="price-style-question",
            ),
            words,
        ),
        rx.cond(
            card.price_style_changeable,
            rx.hstack(
                rx.text("Prices:", size="2"),
                choice,
                rx.text(
                    "(currency signs and thousands separators are read either way)",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
        ),
        spacing="1",
        width="100%",
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
        rx.cond(card.price_style != "", _price_style(card)),
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
                        dismiss_button(ImportState.dismiss(card.job_id)),
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
            rx.cond(
                card.mapping_name != "",
                rx.hstack(
                    rx.text(
                        "Columns from the saved mapping ",
                        rx.text.strong(card.mapping_name),
                        size="2",
                        class_name="saved-mapping-used",
                    ),
                    rx.cond(
                        SessionState.is_admin & (card.mapping_id != 0),
                        rx.button(
                            "Change it",
                            size="1",
                            variant="ghost",
                            on_click=SavedMappingsState.start_edit(card.mapping_id),
                            class_name="change-saved-mapping",
                        ),
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
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
