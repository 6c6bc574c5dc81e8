"""The Products page's export: its button and the card with the job's progress, then the
link that downloads its file."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.products.export_state import ProductExportState as S
from product_importer.ui.widgets import dismiss_button


def export_button() -> rx.Component:
    """Export (what the filters show), and the file's format."""
    return rx.hstack(
        rx.button(
            rx.icon("download", size=14),
            "Export",
            on_click=S.start_export,
            loading=S.export_running,
            variant="soft",
            title="Export what the filters show",
        ),
        rx.select.root(
            rx.select.trigger(aria_label="Export format", variant="soft"),
            rx.select.content(
                rx.select.item("CSV", value="csv"),
                rx.select.item("Excel (.xlsx)", value="xlsx"),
            ),
            value=S.export_format,
            on_change=S.set_export_format,
        ),
        spacing="1",
        align="end",
    )


def export_card() -> rx.Component:
    color = rx.match(
        S.export_status, ("completed", "green"), ("failed", "red"), ("cancelled", "gray"), "blue"
    )
    return rx.cond(
        S.export_status != "",
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("file-down", size=18),
                    rx.text("Export", weight="bold"),
                    rx.badge(S.export_status, color_scheme=color, variant="soft"),
                    rx.spacer(),
                    rx.cond(
                        S.export_running,
                        rx.button(
                            "Cancel",
                            on_click=S.cancel_export,
                            variant="soft",
                            color_scheme="gray",
                            size="1",
                        ),
                        dismiss_button(S.dismiss_export, "Dismiss the export"),
                    ),
                    align="center",
                    width="100%",
                ),
                rx.cond(
                    S.export_running,
                    rx.hstack(
                        rx.progress(value=S.export_percent.to(int), max=100, width="100%"),
                        rx.text(f"{S.export_percent}%", size="2", weight="bold"),
                        align="center",
                        width="100%",
                    ),
                ),
                rx.hstack(
                    rx.text(S.export_message, size="2", class_name="export-message"),
                    rx.cond(
                        S.export_download_href != "",
                        # Document navigation: the file streams as a download, the page stays.
                        rx.link(
                            rx.hstack(
                                rx.icon("download", size=14),
                                rx.text("Download ", S.export_file_name),
                                spacing="1",
                                align="center",
                            ),
                            href=S.export_download_href,
                            download=S.export_file_name,
                            reload_document=True,
                            class_name="export-download",
                        ),
                    ),
                    align="center",
                    spacing="3",
                    wrap="wrap",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
            class_name="export-card",
            custom_attrs={"data-status": S.export_status, "data-percent": S.export_percent},
        ),
    )
