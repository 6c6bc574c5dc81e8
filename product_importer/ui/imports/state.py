"""State of the Import page: the browser upload, live progress of jobs, import history.

The upload streams chunk by chunk, file after file, into `jobs.start_import` (the same
function as `POST /api/imports`), so a file is never held whole in memory. Progress comes
from `IMPORTS.follow` in a background task per job and tab (a "watcher"), which writes
into the state in short `async with self:` blocks; Reflex sends the deltas over its
websocket. A watcher ends when its job ends, when its tab has gone away, when a newer
watcher of the same tab and job takes over, or after a long silence."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from product_importer.access import Role
from product_importer.csvfile.header import HeaderMismatch
from product_importer.csvfile.mapping import FIELDS, REQUIRED_FIELDS, MappingProblem
from product_importer.imports import jobs, number_style, preview, saved_mappings
from product_importer.imports.intake import REFUSALS, UploadStalled
from product_importer.imports.kind import IMPORTS, ImportSnapshot
from product_importer.imports.number_style import PriceStyle
from product_importer.imports.options import (
    DeleteMissingNotConfirmed,
    DeleteMissingRefused,
    ImportOptions,
    ImportOptionsInvalid,
)
from product_importer.imports.pending_uploads import (
    PendingUploadBusy,
    PendingUploadNotFound,
    forget_upload,
)
from product_importer.imports.revert import (
    REVERTS,
    RevertRefused,
    RevertSnapshot,
    request_revert,
    revert_snapshot,
    reverts_of,
)
from product_importer.imports.saved_mappings import MappingNameTaken
from product_importer.models import ImportJob, ImportRevert, JobStatus
from product_importer.settings import settings
from product_importer.ui.access import principal_of, requires
from product_importer.ui.imports.cards import (
    JobCard,
    JobRow,
    card_of,
    change_lines,
    ending_toast,
    new_card,
    preview_style,
    rejection_messages,
    row_of,
    row_updated,
)
from product_importer.ui.imports.revert_words import revert_counts, revert_toast, revert_words
from product_importer.ui.imports.saved_mappings import NO_COLUMN, SavedMappingsState
from product_importer.ui.job_watch import Watchers
from product_importer.ui.upload_parts import UploadParts

log = logging.getLogger(__name__)


UPLOAD_ID = "csv_upload"


HISTORY_PAGE_SIZE = 10


# Finished cards kept on the page next to the running ones.
FINISHED_CARDS_KEPT = 3


# Jobs whose end this tab has announced in a toast, remembered to announce each once.
ANNOUNCED_KEPT = 200


# The watcher that owns each (client token, job id) in this backend process.
_WATCHERS = Watchers()
# ...and each (client token, revert id).
_REVERT_WATCHERS = Watchers()


# What a person types to confirm that products missing from the file are deleted.
DELETE_CONFIRMATION = "DELETE"


_OPTION_PROBLEMS = (ImportOptionsInvalid, DeleteMissingRefused, DeleteMissingNotConfirmed)


class ImportState(rx.State):
    """The Import page of one browser tab."""

    uploading: bool = False
    upload_filename: str = ""
    upload_percent: int = 0
    # One message per refused file, each naming its file.
    upload_errors: list[str] = []
    cards: list[JobCard] = []
    history: list[JobRow] = []
    history_total: int = 0
    history_page: int = 1
    history_page_count: int = 1
    # Jobs whose end this tab already announced (kept across reloads: same token).
    _announced: list[int] = []
    # The mapping chooser, shown when a file's headers do not say which column is which:
    # the file's headers, the column chosen per field (pre-filled with the suggestions),
    # the kept upload the choice imports (imports/pending_uploads.py: no second upload),
    # the name to save the choice under, and why the last try was refused.
    mapping_file: str = ""
    mapping_headers: list[str] = []
    mapping_choice: dict[str, str] = {}
    mapping_upload_id: str = ""
    mapping_save_as: str = ""
    mapping_problem: str = ""
    mapping_busy: bool = False
    # What the next dropped files may do: preview first, the mode, the products missing
    # from the file, and the typed confirmation a delete needs.
    preview_first: bool = False
    import_mode: str = "create_update"
    missing_choice: str = "leave"
    delete_confirmation: str = ""

    # --- page load: history and re-attaching to running jobs -----------------------

    @rx.event
    @requires(Role.editor, page_load=True)
    async def load_page(self):
        """Read the history, show every job that is still running, and follow every card
        that is not finished (re-attaching, ui/job_watch.py: a job may have ended while the
        tab was away)."""
        try:
            found = await self._read_history(self.history_page)
            running = await asyncio.to_thread(jobs.running_jobs)
        except Exception as exc:  # the page still renders; the reason is shown
            log.exception("could not read the import history")
            self.upload_errors = [f"could not read the import history: {exc}"]
            return
        self._set_history(found)
        for job in reversed(running):
            self._show(new_card(job))
        reverting = [
            ImportState.watch_revert(import_id, int(r.id or 0))
            for import_id, r in found[1].items()
            if not JobStatus(r.status).is_terminal
        ]
        return self._follow_unfinished() + reverting

    def _set_history(self, found: tuple[jobs.JobPage, dict[int, ImportRevert]]) -> None:
        page, reverts = found
        self.history = [row_of(job, reverts.get(int(job.id or 0))) for job in page.items]
        self.history_total = page.total
        self.history_page = page.page
        self.history_page_count = page.page_count

    async def _read_history(self, page: int) -> tuple[jobs.JobPage, dict[int, ImportRevert]]:
        """A page of the history, with the reverts of its imports."""
        found = await asyncio.to_thread(jobs.list_jobs, page=page, page_size=HISTORY_PAGE_SIZE)
        if not found.items and page != 1:
            # The page is past the end (the history shrank): show the last one instead.
            found = await asyncio.to_thread(
                jobs.list_jobs, page=found.page_count, page_size=HISTORY_PAGE_SIZE
            )
        ids = [int(job.id or 0) for job in found.items]
        return found, await asyncio.to_thread(reverts_of, ids)

    async def _refresh_history(self) -> None:
        """Re-read the page of history on show (from a background task)."""
        async with self:
            page = self.history_page
        found = await self._read_history(page)
        async with self:
            self._set_history(found)

    @rx.event
    @requires(Role.editor)
    async def show_history_page(self, page: int):
        """Go to a page of the import history."""
        page = min(max(1, page), max(1, self.history_page_count))
        self._set_history(await self._read_history(page))

    def _show(self, card: JobCard) -> None:
        """Put a card first, replacing the job's old card, and drop old finished ones."""
        others = [c for c in self.cards if c.job_id != card.job_id]
        running = [c for c in others if not c.finished]
        finished = [c for c in others if c.finished][: FINISHED_CARDS_KEPT - 1]
        self.cards = [card, *running, *finished]

    def _update(
        self,
        snapshot: ImportSnapshot,
        changes: list[str] | None = None,
        style: PriceStyle | None = None,
    ) -> None:
        """Redraw the job's card where it stands (a dismissed card stays dismissed), and
        its line in the history."""
        for index, card in enumerate(self.cards):
            if card.job_id == snapshot.job_id:
                self.cards[index] = card_of(
                    snapshot,
                    card.filename,
                    card.extra_columns,
                    changes,
                    (card.mapping_name, card.mapping_id),
                    style,
                )
                break
        for index, row in enumerate(self.history):
            if row.job_id == snapshot.job_id:
                self.history[index] = row_updated(row, snapshot)
                break

    def _first_announcement(self, job_id: int) -> bool:
        """Whether the end of this job is news to this tab (and remember it is not now)."""
        if job_id in self._announced:
            return False
        self._announced = [*self._announced[-(ANNOUNCED_KEPT - 1) :], job_id]
        return True

    # --- the upload ---------------------------------------------------------------

    @rx.event
    @requires(Role.editor)
    def drop_started(self):
        """A new drop: the messages about the previous one go."""
        self.upload_errors = []

    @rx.event
    @requires(Role.editor)
    def upload_progressed(self, event: dict[str, Any]):
        self.upload_percent = int(100 * float(event.get("progress") or 0))

    @rx.event
    @requires(Role.editor)
    def files_rejected(self, rejections: list[str]):
        self.upload_errors = [*self.upload_errors, *rejection_messages(rejections)]

    @rx.event(background=True)
    @requires(Role.editor)
    async def upload(self, chunks: rx.UploadChunkIterator):
        """Stream each dropped file into its own import job, and follow each job."""
        async with self:
            self.uploading = True
            self.upload_percent = 0
            choices = (
                self.import_mode,
                self.missing_choice,
                self.delete_confirmation.strip() == DELETE_CONFIRMATION,
                self.preview_first,
            )
        principal = await principal_of(self)
        try:
            options = ImportOptions.parse(
                choices[0],
                choices[1],
                is_admin=principal is not None and principal.may(Role.admin),
                confirm_delete_missing=choices[2],
            )
        except _OPTION_PROBLEMS as exc:
            refused = str(exc)
            if isinstance(exc, DeleteMissingNotConfirmed):
                refused = (
                    f"type {DELETE_CONFIRMATION} to confirm that the products missing from "
                    "the file are deleted"
                )
            async with self:
                self.uploading = False
                self.upload_errors = [*self.upload_errors, refused]
            yield rx.toast.error(refused)
            return
        try:
            async for filename, data in UploadParts(
                chunks, read_timeout_s=settings.upload_read_timeout_s
            ).files():
                async with self:
                    self.upload_filename = filename
                job, problem, stalled = await self._receive(
                    filename, data, principal.owner_key if principal else None, options, choices[3]
                )
                if isinstance(problem, HeaderMismatch):
                    async with self:
                        self._offer_mapping(filename, problem)
                    problem = f"{filename}: {problem}"
                if problem:
                    async with self:
                        self.upload_errors = [*self.upload_errors, problem]
                    yield rx.toast.error(problem)
                    if stalled:
                        break  # the browser stopped sending: the files after it won't come
                    continue
                assert job is not None
                async with self:
                    self._show(new_card(job))
                # Its own background event: a watcher outlives the upload.
                yield ImportState.watch_job(int(job.id or 0))
        except asyncio.CancelledError:  # the upload was cancelled or the tab went away
            raise
        except Exception as exc:  # the upload itself broke: say so, keep the page usable
            log.exception("the upload failed")
            async with self:
                self.upload_errors = [*self.upload_errors, f"the upload failed ({exc})"]
        finally:
            async with self:
                self.uploading = False
        await self._refresh_history()

    async def _receive(
        self,
        filename: str,
        data: AsyncIterator[bytes],
        owner: str | None,
        options: ImportOptions,
        dry_run: bool,
    ) -> tuple[ImportJob | None, str | HeaderMismatch, bool]:
        """Import one file of the upload: its job, or why it was refused (and whether the
        upload stalled, which ends it). A file whose columns must be chosen is kept for
        `owner`, so the chooser imports it with no second upload."""
        try:
            job = await jobs.start_import(
                filename, data, options=options, dry_run=dry_run, keep_for=owner
            )
            return job, "", False
        except HeaderMismatch as exc:
            return None, exc, False
        except REFUSALS as exc:
            return None, f"{filename}: {exc}", isinstance(exc, UploadStalled)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # e.g. the database is down: this file only
            log.exception("upload of %s failed", filename)
            return None, f"{filename}: the upload failed ({exc})", False

    # --- the mapping chooser ---------------------------------------------------------

    def _offer_mapping(self, filename: str, problem: HeaderMismatch) -> None:
        """Show the chooser for a refused file, pre-filled with the suggestions."""
        details = problem.details()
        headers: list[str] = details["headers_found"]  # type: ignore[assignment]
        suggested: dict[str, str] = details["suggested_mapping"]  # type: ignore[assignment]
        offered: dict[str, list[str]] = details["suggestions"]  # type: ignore[assignment]
        self.mapping_file = filename
        self.mapping_headers = [NO_COLUMN, *headers]
        self.mapping_choice = {
            f: suggested.get(f) or (offered.get(f) or [NO_COLUMN])[0] for f in FIELDS
        }
        kept = problem.pending_upload or {}
        self.mapping_upload_id = str(kept.get("id") or "")
        self.mapping_save_as = ""
        self.mapping_problem = ""
        self.mapping_busy = False

    @rx.var
    def mapping_complete(self) -> bool:
        """Whether every required field has a column."""
        return all(self.mapping_choice.get(f, NO_COLUMN) != NO_COLUMN for f in REQUIRED_FIELDS)

    @rx.event
    @requires(Role.editor)
    def choose_column(self, field_name: str, header: str):
        self.mapping_choice = {**self.mapping_choice, field_name: header}
        self.mapping_problem = ""

    @rx.event
    @requires(Role.editor)
    async def start_from_saved(self, mapping_id: str):
        """Fill the chooser with a saved mapping's columns (those the file has)."""
        try:
            saved = await asyncio.to_thread(saved_mappings.get_mapping, int(mapping_id))
        except (ValueError, saved_mappings.SavedMappingNotFound) as exc:
            self.mapping_problem = str(exc)
            return
        offered = set(self.mapping_headers)
        self.mapping_choice = {
            f: h if (h := saved.columns.get(f)) in offered else NO_COLUMN for f in FIELDS
        }
        self.mapping_problem = ""

    @rx.event
    @requires(Role.editor)
    def set_mapping_save_as(self, value: str):
        self.mapping_save_as = value

    @rx.event(background=True)
    @requires(Role.editor)
    async def use_mapping(self):
        """Import the kept file with the chosen columns (saving them first under the name
        given): no second upload."""
        async with self:
            if self.mapping_busy or not self.mapping_upload_id:
                return
            self.mapping_busy = True
            self.mapping_problem = ""
            upload_id = self.mapping_upload_id
            mapping = {f: (None if h == NO_COLUMN else h) for f, h in self.mapping_choice.items()}
            save_as = self.mapping_save_as.strip() or None
            choices = (
                self.import_mode,
                self.missing_choice,
                self.delete_confirmation.strip() == DELETE_CONFIRMATION,
                self.preview_first,
            )
        principal = await principal_of(self)
        try:
            if principal is None:
                raise PendingUploadNotFound(upload_id)
            options = ImportOptions.parse(
                choices[0],
                choices[1],
                is_admin=principal.may(Role.admin),
                confirm_delete_missing=choices[2],
            )
            job = await jobs.start_pending_import(
                upload_id,
                principal.owner_key,
                mapping=mapping,
                save_as=save_as,
                options=options,
                dry_run=choices[3],
            )
        except (
            *_OPTION_PROBLEMS,
            *REFUSALS,
            MappingProblem,
            MappingNameTaken,
            PendingUploadNotFound,
            PendingUploadBusy,
        ) as exc:
            async with self:
                self.mapping_busy = False
                self.mapping_problem = str(exc)
            return
        except Exception as exc:  # e.g. the database is down: say so, keep the chooser
            log.exception("the mapped import of %s failed", upload_id)
            async with self:
                self.mapping_busy = False
                self.mapping_problem = f"the import failed ({exc})"
            return
        async with self:
            self._clear_mapping()
            self.upload_errors = []
            self._show(new_card(job))
        if save_as:
            yield SavedMappingsState.refresh
        yield ImportState.watch_job(int(job.id or 0))
        await self._refresh_history()

    def _clear_mapping(self) -> None:
        self.mapping_file = ""
        self.mapping_headers = []
        self.mapping_choice = {}
        self.mapping_upload_id = ""
        self.mapping_save_as = ""
        self.mapping_problem = ""
        self.mapping_busy = False

    @rx.event
    @requires(Role.editor)
    async def forget_mapping(self):
        """Close the chooser and drop the kept file."""
        upload_id = self.mapping_upload_id
        self._clear_mapping()
        principal = await principal_of(self)
        if upload_id and principal is not None:
            await asyncio.to_thread(forget_upload, upload_id, principal.owner_key)

    @rx.event
    @requires(Role.editor)
    def reattach(self):
        """Follow the running jobs again: watchers started by a cancelled upload were
        cancelled with it, although their jobs run on."""
        return self._follow_unfinished()

    def _follow_unfinished(self) -> list[rx.event.EventSpec]:
        """A new watcher for every card not finished: its first update is the job's
        current state, so a card whose job ended unseen shows that end."""
        return [ImportState.watch_job(c.job_id) for c in self.cards if not c.finished]

    # --- following jobs -----------------------------------------------------------

    @rx.event(background=True)
    @requires(Role.editor)
    async def watch_job(self, job_id: int):
        """Follow a job: push its progress into this tab until the watch ends."""
        token = self.router.session.client_token
        async with _WATCHERS.watching("import", job_id, token, IMPORTS.follow(job_id)) as watch:
            async for snapshot in watch:
                async for event in self._show_progress(job_id, snapshot):
                    yield event

    async def _show_progress(
        self, job_id: int, snapshot: ImportSnapshot
    ) -> AsyncIterator[rx.event.EventSpec]:
        """Copy one update into the state; at the job's end, its toast and the history."""
        changes = style = None
        if snapshot.stage == "previewed" and snapshot.status == JobStatus.pending:
            changes = await asyncio.to_thread(change_lines, job_id)
            style = await asyncio.to_thread(preview_style, job_id)
        async with self:
            self._update(snapshot, changes, style)
            filename = next(
                (c.filename for c in self.cards if c.job_id == job_id), f"import {job_id}"
            )
            announce = snapshot.is_terminal and self._first_announcement(job_id)
        if snapshot.is_terminal:
            if announce:
                yield ending_toast(snapshot, filename)
            await self._refresh_history()

    # --- buttons ------------------------------------------------------------------

    @rx.event
    @requires(Role.editor)
    async def cancel_job(self, job_id: int):
        try:
            await asyncio.to_thread(jobs.cancel_job, job_id)
        except (jobs.JobNotFound, jobs.JobAlreadyFinished) as exc:
            return rx.toast.info(str(exc))

    @rx.event
    @requires(Role.editor)
    async def apply_preview(self, job_id: int):
        """Apply a previewed import from its kept rows."""
        try:
            await asyncio.to_thread(preview.apply_preview, job_id)
        except (jobs.JobNotFound, preview.PreviewConflict, *REFUSALS) as exc:
            return rx.toast.error(str(exc))

    @rx.event(background=True)
    @requires(Role.editor)
    async def reread_preview(self, job_id: int, decimal: str):
        """Read a preview again with another decimal separator for its prices (from the
        file it kept): a new preview replaces it."""
        try:
            job = await number_style.reread_preview(job_id, decimal)
        except (
            jobs.JobNotFound,
            preview.PreviewConflict,
            MappingProblem,
            PendingUploadNotFound,
            PendingUploadBusy,
            *REFUSALS,
        ) as exc:
            yield rx.toast.error(str(exc))
            return
        async with self:
            self._first_announcement(job_id)  # replaced, not "cancelled": no toast for it
            self.cards = [c for c in self.cards if c.job_id != job_id]
            self._show(new_card(job))
        yield ImportState.watch_job(int(job.id or 0))
        await self._refresh_history()

    @rx.event
    @requires(Role.editor)
    async def discard_preview(self, job_id: int):
        """Discard a previewed import: nothing is written."""
        try:
            await asyncio.to_thread(preview.discard_preview, job_id)
        except (jobs.JobNotFound, preview.PreviewConflict) as exc:
            return rx.toast.error(str(exc))

    @rx.event
    @requires(Role.editor)
    async def revert_import(self, job_id: int):
        """Revert an import (confirmed in its dialog), then follow the revert."""
        try:
            revert = await asyncio.to_thread(request_revert, job_id)
        except (jobs.JobNotFound, RevertRefused) as exc:
            return rx.toast.error(str(exc))
        self._show_revert(job_id, revert_snapshot(revert))
        return ImportState.watch_revert(job_id, int(revert.id or 0))

    def _show_revert(self, job_id: int, snapshot: RevertSnapshot) -> None:
        for index, row in enumerate(self.history):
            if row.job_id == job_id:
                self.history[index] = dataclasses.replace(
                    row,
                    can_revert=False,
                    revert_words=revert_words(snapshot),
                    revert_counts=revert_counts(snapshot),
                )

    @rx.event(background=True)
    @requires(Role.editor)
    async def watch_revert(self, job_id: int, revert_id: int):
        """Follow an import's revert in its history line until it ends."""
        token = self.router.session.client_token
        follow = REVERTS.follow(revert_id)
        async with _REVERT_WATCHERS.watching("revert", revert_id, token, follow) as watch:
            async for snapshot in watch:
                async with self:
                    self._show_revert(job_id, snapshot)
                    filename = next(
                        (r.filename for r in self.history if r.job_id == job_id),
                        f"import {job_id}",
                    )
                if snapshot.is_terminal:
                    yield revert_toast(snapshot, filename)
                    await self._refresh_history()

    @rx.event
    @requires(Role.editor)
    def set_preview_first(self, value: bool):
        self.preview_first = bool(value)

    @rx.event
    @requires(Role.editor)
    def set_import_mode(self, value: str):
        self.import_mode = value

    @rx.event
    @requires(Role.editor)
    def set_missing_choice(self, value: str):
        self.missing_choice = value
        self.delete_confirmation = ""

    @rx.event
    @requires(Role.editor)
    def set_delete_confirmation(self, value: str):
        self.delete_confirmation = value

    @rx.event
    @requires(Role.editor)
    def dismiss(self, job_id: int):
        self.cards = [c for c in self.cards if c.job_id != job_id]

    @rx.event
    @requires(Role.editor)
    def dismiss_error(self, index: int):
        self.upload_errors = [m for i, m in enumerate(self.upload_errors) if i != index]
