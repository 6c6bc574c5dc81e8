"""The Import page's "Saved mappings" section: every saved mapping with its columns;
admins rename, change and delete them (the same domain functions as /api/mappings)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import reflex as rx

from product_importer.access import Role
from product_importer.csvfile.mapping import FIELDS, MappingProblem
from product_importer.imports import saved_mappings
from product_importer.models import SavedMapping
from product_importer.ui.access import requires
from product_importer.ui.session_state import SessionState
from product_importer.ui.tables import TIME_WIDTH, Column, actions_cell, clipped, data_table
from product_importer.ui.times import shown_time
from product_importer.ui.widgets import button_row, confirm_dialog, dialog_fit, error_callout

log = logging.getLogger(__name__)

# The column chooser's word for "this field is not imported" (a select needs a value).
NO_COLUMN = "(not imported)"

COLUMNS = (Column("Name", "14rem"), Column("Columns"), Column("Changed", TIME_WIDTH))


@dataclasses.dataclass
class MappingRow:
    id: int = 0
    name: str = ""
    columns: str = ""
    changed: str = ""


def _row(saved: SavedMapping) -> MappingRow:
    pairs = [f"{f} ← {h}" for f in FIELDS if (h := saved.columns.get(f))]
    return MappingRow(
        id=int(saved.id or 0),
        name=saved.name,
        columns=", ".join(pairs),
        changed=shown_time(saved.updated_at),
    )


class SavedMappingsState(rx.State):
    """The saved mappings of the Import page, and the one being edited."""

    mappings: list[MappingRow] = []
    problem: str = ""
    editing_id: int = 0
    edit_name: str = ""
    edit_headers: list[str] = []
    edit_columns: dict[str, str] = {}
    edit_problem: str = ""

    async def _reload(self) -> None:
        found = await asyncio.to_thread(saved_mappings.list_mappings)
        self.mappings = [_row(m) for m in found]

    @rx.event
    @requires(Role.editor, page_load=True)
    async def load_mappings(self):
        try:
            await self._reload()
        except Exception as exc:  # the page still renders; the reason is shown
            log.exception("could not read the saved mappings")
            self.problem = f"could not read the saved mappings: {exc}"

    @rx.event
    @requires(Role.editor)
    async def refresh(self):
        await self._reload()

    @rx.event
    @requires(Role.admin)
    async def start_edit(self, mapping_id: int):
        try:
            saved = await asyncio.to_thread(saved_mappings.get_mapping, mapping_id)
        except saved_mappings.SavedMappingNotFound as exc:
            self.problem = str(exc)
            await self._reload()
            return
        self.editing_id = mapping_id
        self.edit_name = saved.name
        self.edit_headers = [NO_COLUMN, *saved.headers]
        self.edit_columns = {f: saved.columns.get(f) or NO_COLUMN for f in FIELDS}
        self.edit_problem = ""

    @rx.event
    @requires(Role.admin)
    def set_edit_name(self, value: str):
        self.edit_name = value

    @rx.event
    @requires(Role.admin)
    def set_edit_column(self, field_name: str, header: str):
        self.edit_columns = {**self.edit_columns, field_name: header}

    @rx.event
    @requires(Role.admin)
    def stop_edit(self, open_: bool = False):
        if not open_:
            self.editing_id = 0

    @rx.event
    @requires(Role.admin)
    async def save_edit(self):
        columns = {f: (None if h == NO_COLUMN else h) for f, h in self.edit_columns.items()}
        try:
            await asyncio.to_thread(
                saved_mappings.update_mapping,
                self.editing_id,
                name=self.edit_name,
                columns=columns,
            )
        except (
            MappingProblem,
            saved_mappings.MappingNameTaken,
            saved_mappings.SavedMappingNotFound,
        ) as exc:
            self.edit_problem = str(exc)
            return
        self.editing_id = 0
        await self._reload()
        return rx.toast.success("Saved mapping changed")

    @rx.event
    @requires(Role.admin)
    async def delete(self, mapping_id: int):
        try:
            await asyncio.to_thread(saved_mappings.delete_mapping, mapping_id)
        except saved_mappings.SavedMappingNotFound as exc:
            self.problem = str(exc)
        await self._reload()

    @rx.event
    @requires(Role.editor)
    def dismiss_problem(self):
        self.problem = ""


def _mapping_row(row: MappingRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(clipped(row.name)),
        rx.table.cell(clipped(row.columns)),
        rx.table.cell(clipped(row.changed)),
        actions_cell(
            rx.cond(
                SessionState.is_admin,
                rx.hstack(
                    rx.button(
                        "Edit",
                        size="1",
                        variant="soft",
                        on_click=SavedMappingsState.start_edit(row.id),
                        class_name="edit-mapping",
                    ),
                    confirm_dialog(
                        f"Delete the saved mapping {row.name}?",
                        "Files with these headers are no longer read with it; imports "
                        "that used it keep its name.",
                        "Delete",
                        SavedMappingsState.delete(row.id),
                        trigger=rx.button("Delete", size="1", variant="soft", color_scheme="red"),
                    ),
                    spacing="2",
                ),
            ),
        ),
        class_name="saved-mapping",
        data_name=row.name,
    )


def _edit_select(field_name: str) -> rx.Component:
    return rx.hstack(
        rx.text(field_name, weight="medium", min_width="8em"),
        rx.select.root(
            rx.select.trigger(aria_label=f"Saved column for {field_name}", min_width="12em"),
            rx.select.content(
                rx.foreach(SavedMappingsState.edit_headers, lambda h: rx.select.item(h, value=h)),
            ),
            value=SavedMappingsState.edit_columns[field_name],
            on_change=lambda header: SavedMappingsState.set_edit_column(field_name, header),
        ),
        align="center",
    )


def _edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Edit the saved mapping"),
            rx.vstack(
                rx.input(
                    value=SavedMappingsState.edit_name,
                    on_change=SavedMappingsState.set_edit_name,
                    aria_label="Name of the saved mapping",
                    width="100%",
                ),
                *(_edit_select(f) for f in FIELDS),
                rx.cond(
                    SavedMappingsState.edit_problem != "",
                    rx.callout(SavedMappingsState.edit_problem, color_scheme="red", width="100%"),
                ),
                button_row(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Save", on_click=SavedMappingsState.save_edit),
                ),
                spacing="3",
            ),
            **dialog_fit(),
        ),
        open=SavedMappingsState.editing_id != 0,
        on_open_change=SavedMappingsState.stop_edit,
    )


def saved_mappings_section() -> rx.Component:
    """The saved mappings, when there are any (admins: edit and delete)."""
    return rx.cond(
        SavedMappingsState.mappings.length() > 0,
        rx.vstack(
            rx.heading("Saved mappings", size="4"),
            rx.text(
                "A file whose header names are those of a saved mapping is read with it.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                SavedMappingsState.problem != "",
                error_callout(SavedMappingsState.problem, SavedMappingsState.dismiss_problem),
            ),
            data_table(
                COLUMNS,
                rx.table.body(rx.foreach(SavedMappingsState.mappings, _mapping_row)),
                actions_width="9rem",
                variant="ghost",
            ),
            _edit_dialog(),
            spacing="2",
            width="100%",
            class_name="saved-mappings",
        ),
    )
