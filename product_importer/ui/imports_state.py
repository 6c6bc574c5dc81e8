"""State of the Import page: the browser upload, live progress of jobs, import history.

The upload streams chunk by chunk, file after file, into `jobs.start_import` (the same
function as `POST /api/imports`), so a file is never held whole in memory. Progress comes
from `IMPORTS.follow` in a background task per job and tab (a "watcher"), which writes
into the state in short `async with self:` blocks; Reflex sends the deltas over its
websocket. A watcher ends when its job ends, when its tab has gone away, when a newer
watcher of the same tab and job takes over, or after a long silence.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from product_importer.access import Role
from product_importer.csvfile.header import HeaderMismatch
from product_importer.csvfile.mapping import FIELDS, REQUIRED_FIELDS
from product_importer.imports import jobs, preview
from product_importer.imports.intake import REFUSALS, UploadStalled
from product_importer.imports.kind import IMPORTS, ImportSnapshot, import_snapshot
from product_importer.imports.options import (
    DeleteMissingNotConfirmed,
    DeleteMissingRefused,
    ImportOptions,
    ImportOptionsInvalid,
)
from product_importer.imports.outcome import Outcome
from product_importer.models import ImportJob, JobStatus
from product_importer.settings import settings
from product_importer.ui.access import principal_of, requires
from product_importer.ui.job_watch import JobWatch, Watchers
from product_importer.ui.times import shown_time
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
# The mapping chooser's word for "this field is not imported" (a select needs a value).
NO_COLUMN = "(not imported)"
# What a person types to confirm that products missing from the file are deleted.
DELETE_CONFIRMATION = "DELETE"
_OPTION_PROBLEMS = (ImportOptionsInvalid, DeleteMissingRefused, DeleteMissingNotConfirmed)


@dataclasses.dataclass
class JobCard:
    """One import as its progress card draws it."""

    job_id: int = 0
    filename: str = ""
    status: str = ""
    stage: str = ""
    percent: float = 0.0
    rows: str = ""
    created: str = "0"
    updated: str = "0"
    unchanged: str = "0"
    skipped: str = "0"
    has_skipped: bool = False
    # Once completed: the outcome (imports/outcome.py) and its words; "" before.
    outcome: str = ""
    outcome_words: str = ""
    repeated: str = ""
    has_repeated: bool = False
    # While running: the speed and time left; once ended: the average rate and duration.
    speed: str = ""
    eta: str = ""
    error: str = ""
    finished: bool = False
    extra_columns: str = ""
    # Why the job does not move, when no worker holds it ("" while one does).
    waiting: str = ""
    # What the import may do (shown when not the default) and what it skipped or removed.
    options: str = ""
    other_counts: str = ""
    # A preview waiting for Apply or Discard: its counts, until when, its changes.
    previewed: bool = False
    preview_new: str = "0"
    preview_changed: str = "0"
    preview_unchanged: str = "0"
    preview_repeated: str = "0"
    preview_bad: str = "0"
    preview_other: str = ""
    preview_until: str = ""
    changes: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class JobRow:
    """One line of the import history table."""

    job_id: int = 0
    filename: str = ""
    status: str = ""
    started: str = ""
    duration: str = ""
    size: str = ""
    rows: str = ""
    created: str = "0"
    updated: str = "0"
    unchanged: str = "0"
    skipped: str = "0"
    has_skipped: bool = False
    outcome: str = ""
    outcome_words: str = ""
    repeated: str = ""
    has_repeated: bool = False


def _outcome_fields(snapshot: ImportSnapshot) -> dict[str, Any]:
    """The outcome and repeated-row fields a card and a history line share."""
    outcome = Outcome(snapshot.outcome) if snapshot.outcome else None
    return {
        "outcome": outcome.value if outcome else "",
        "outcome_words": outcome.words if outcome else "",
        "repeated": repeated_words(snapshot.repeated),
        "has_repeated": snapshot.repeated > 0,
    }


def repeated_words(repeated: int) -> str:
    if not repeated:
        return ""
    return f"{_count(repeated)} repeated in the file: the last one was kept"


def _count(n: int | None) -> str:
    return f"{n or 0:,}"


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return ""


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 0.5:
        return "< 1 s"
    seconds = round(seconds)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def _job_duration(job: ImportJob) -> str:
    """From the first byte of the upload (the job row's creation) to the job's end."""
    if job.created_at is None or job.finished_at is None:
        return "—"
    return _duration((job.finished_at - job.created_at).total_seconds())


def _options_words(snapshot: ImportSnapshot) -> str:
    words = []
    if snapshot.mode == "create_only":
        words.append("create only")
    elif snapshot.mode == "update_only":
        words.append("update only")
    if snapshot.missing != "leave":
        words.append(f"{snapshot.missing} products missing from the file")
    if snapshot.dry_run:
        words.append("preview first")
    return ", ".join(words)


def _other_counts(snapshot: ImportSnapshot) -> str:
    parts = []
    if snapshot.skipped_existing:
        parts.append(f"{_count(snapshot.skipped_existing)} existing SKUs skipped")
    if snapshot.skipped_unknown:
        parts.append(f"{_count(snapshot.skipped_unknown)} unknown SKUs skipped")
    if snapshot.deactivated:
        parts.append(f"{_count(snapshot.deactivated)} missing from the file deactivated")
    if snapshot.deleted:
        parts.append(f"{_count(snapshot.deleted)} missing from the file deleted")
    return "; ".join(parts)


def _preview_fields(snapshot: ImportSnapshot) -> dict[str, Any]:
    counts = snapshot.preview_counts or {}
    waiting = snapshot.stage == "previewed" and snapshot.status == JobStatus.pending
    other = []
    if counts.get("skipped_existing"):
        other.append(f"{_count(counts['skipped_existing'])} existing SKUs would be skipped")
    if counts.get("skipped_unknown"):
        other.append(f"{_count(counts['skipped_unknown'])} unknown SKUs would be skipped")
    if snapshot.missing != "leave":
        verb = "deleted" if snapshot.missing == "delete" else "deactivated"
        other.append(
            f"{_count(counts.get('missing'))} products missing from the file would be {verb}"
        )
    return {
        "previewed": waiting,
        "preview_new": _count(counts.get("new")),
        "preview_changed": _count(counts.get("changed")),
        "preview_unchanged": _count(counts.get("unchanged")),
        "preview_repeated": _count(counts.get("repeated")),
        "preview_bad": _count(counts.get("bad")),
        "preview_other": "; ".join(other),
        "preview_until": shown_time(snapshot.preview_until) if snapshot.preview_until else "",
    }


def change_lines(job_id: int) -> list[str]:
    """A previewed import's sample of changes, one line per product: field before → after."""
    lines = []
    for change in preview.preview_report(job_id).changes:
        parts = [
            f"{field} {getattr(change.before, field)!s} → {getattr(change.after, field)!s}"
            for field in change.fields
        ]
        lines.append(f"{change.sku}: " + "; ".join(parts))
    return lines


def card_of(
    snapshot: ImportSnapshot,
    filename: str,
    extra_columns: str = "",
    changes: list[str] | None = None,
) -> JobCard:
    running = snapshot.status == JobStatus.processing
    return JobCard(
        job_id=snapshot.job_id,
        filename=filename,
        status=snapshot.status,
        stage=snapshot.stage,
        percent=snapshot.percent,
        rows=f"{_count(snapshot.processed_rows)} / {_count(snapshot.total_rows)} rows",
        created=_count(snapshot.created),
        updated=_count(snapshot.updated),
        unchanged=_count(snapshot.unchanged),
        skipped=_count(snapshot.skipped),
        has_skipped=snapshot.skipped > 0,
        speed=_speed(snapshot, running),
        eta=_duration(snapshot.eta_seconds if running else snapshot.duration_seconds),
        error=snapshot.error or "",
        finished=snapshot.is_terminal,
        extra_columns=extra_columns,
        waiting=waiting_words(snapshot),
        options=_options_words(snapshot),
        other_counts=_other_counts(snapshot),
        changes=list(changes or []),
        **_preview_fields(snapshot),
        **_outcome_fields(snapshot),
    )


def _speed(snapshot: ImportSnapshot, running: bool) -> str:
    if running:
        return f"{snapshot.rows_per_second:,.0f} rows/s"
    if snapshot.average_rows_per_second is not None:
        return f"{snapshot.average_rows_per_second:,.0f} rows/s"
    return "—"


def waiting_words(snapshot: ImportSnapshot) -> str:
    """What the card says while no worker holds the job."""
    if not snapshot.waiting_for_worker:
        return ""
    if snapshot.status == JobStatus.pending:
        return (
            "Queued: imports run one at a time, in the order their uploads ended. This one "
            "starts when the imports before it have ended and a worker is free…"
        )
    return (
        "Waiting for a worker: the worker running this import stopped. Another one takes it "
        "up again where it left off, without applying any row twice."
    )


def new_card(job: ImportJob) -> JobCard:
    return card_of(import_snapshot(job), job.filename, ", ".join(job.extra_columns))


def row_of(job: ImportJob) -> JobRow:
    return JobRow(
        job_id=int(job.id or 0),
        filename=job.filename,
        status=job.status,
        started=shown_time(job.created_at),
        duration=_job_duration(job),
        size=_size(job.file_size),
        rows=_count(job.total_rows),
        created=_count(job.created),
        updated=_count(job.updated),
        unchanged=_count(job.unchanged),
        skipped=_count(job.skipped),
        has_skipped=job.skipped > 0,
        **_outcome_fields(import_snapshot(job)),
    )


def _rejection_message(name: str, codes: str) -> list[str]:
    """Why the drop zone refused one file, in words (react-dropzone's error codes)."""
    messages = []
    for code in codes.split(","):
        if code == "file-too-large":
            messages.append(
                f"{name}: the file is larger than the {settings.max_upload_mb} MB limit"
            )
        elif code == "file-invalid-type":
            messages.append(f"{name}: not a file to import (.csv, .tsv, .txt, .gz, .xlsx or .zip)")
        else:
            messages.append(f"{name}: the file was not accepted ({code})")
    return messages


def rejection_messages(rejections: list[str]) -> list[str]:
    """One message per refused file; each item is "name:code,code"."""
    messages: list[str] = []
    for rejection in rejections:
        name, _, codes = rejection.rpartition(":")
        messages.extend(_rejection_message(name or "the file", codes))
    return list(dict.fromkeys(messages)) or ["the file was not accepted"]


def ending_toast(snapshot: ImportSnapshot, filename: str) -> rx.event.EventSpec:
    """The toast that tells how a job ended."""
    if snapshot.status == JobStatus.completed:
        counts = (
            f"{_count(snapshot.created)} created, {_count(snapshot.updated)} updated, "
            f"{_count(snapshot.unchanged)} unchanged, {_count(snapshot.skipped)} skipped"
        )
        if snapshot.repeated:
            counts += f"; {repeated_words(snapshot.repeated)}"
        if snapshot.outcome == Outcome.nothing_applied:
            return rx.toast.error(f"{filename}: nothing was imported", description=counts)
        if snapshot.outcome == Outcome.applied_with_skipped:
            return rx.toast.warning(
                f"{filename} imported with {_count(snapshot.skipped)} skipped rows "
                "(see the error report)",
                description=counts,
            )
        return rx.toast.success(f"{filename} imported", description=counts)
    if snapshot.status == JobStatus.failed:
        return rx.toast.error(
            f"{filename}: the import failed", description=snapshot.error or "no reason given"
        )
    return rx.toast.info(f"{filename}: the import was cancelled")


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
    # and whether the next upload uses the choice.
    mapping_file: str = ""
    mapping_headers: list[str] = []
    mapping_choice: dict[str, str] = {}
    mapping_ready: bool = False
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
        """Read the history and follow every job that is still running."""
        try:
            found = await asyncio.to_thread(
                jobs.list_jobs, page=self.history_page, page_size=HISTORY_PAGE_SIZE
            )
            running = await asyncio.to_thread(jobs.running_jobs)
        except Exception as exc:  # the page still renders; the reason is shown
            log.exception("could not read the import history")
            self.upload_errors = [f"could not read the import history: {exc}"]
            return
        self._set_history(found)
        for job in reversed(running):
            self._show(new_card(job))
        return [ImportState.watch_job(int(job.id or 0)) for job in running]

    def _set_history(self, found: jobs.JobPage) -> None:
        self.history = [row_of(job) for job in found.items]
        self.history_total = found.total
        self.history_page = found.page
        self.history_page_count = found.page_count

    async def _read_history(self, page: int) -> jobs.JobPage:
        found = await asyncio.to_thread(jobs.list_jobs, page=page, page_size=HISTORY_PAGE_SIZE)
        if found.items or page == 1:
            return found
        # The page is past the end (the history shrank): show the last one instead.
        return await asyncio.to_thread(
            jobs.list_jobs, page=found.page_count, page_size=HISTORY_PAGE_SIZE
        )

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

    def _update(self, snapshot: ImportSnapshot, changes: list[str] | None = None) -> None:
        """Redraw the job's card where it stands (a dismissed card stays dismissed), and
        its line in the history."""
        for index, card in enumerate(self.cards):
            if card.job_id == snapshot.job_id:
                self.cards[index] = card_of(snapshot, card.filename, card.extra_columns, changes)
                break
        for index, row in enumerate(self.history):
            if row.job_id == snapshot.job_id:
                self.history[index] = dataclasses.replace(
                    row,
                    status=snapshot.status,
                    created=_count(snapshot.created),
                    updated=_count(snapshot.updated),
                    unchanged=_count(snapshot.unchanged),
                    skipped=_count(snapshot.skipped),
                    has_skipped=snapshot.skipped > 0,
                    **_outcome_fields(snapshot),
                )
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
                async with self:
                    mapping = self._chosen_mapping()
                job, problem, stalled = await self._receive(
                    filename, data, mapping, options, choices[3]
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
        mapping: dict[str, str | None] | None,
        options: ImportOptions,
        dry_run: bool,
    ) -> tuple[ImportJob | None, str | HeaderMismatch, bool]:
        """Import one file of the upload: its job, or why it was refused (and whether the
        upload stalled, which ends it)."""
        try:
            job = await jobs.start_import(
                filename, data, mapping=mapping, options=options, dry_run=dry_run
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
        self.mapping_ready = False

    def _chosen_mapping(self) -> dict[str, str | None] | None:
        if not self.mapping_ready:
            return None
        return {f: (None if h == NO_COLUMN else h) for f, h in self.mapping_choice.items()}

    @rx.var
    def mapping_complete(self) -> bool:
        """Whether every required field has a column."""
        return all(self.mapping_choice.get(f, NO_COLUMN) != NO_COLUMN for f in REQUIRED_FIELDS)

    @rx.event
    @requires(Role.editor)
    def choose_column(self, field_name: str, header: str):
        self.mapping_choice = {**self.mapping_choice, field_name: header}
        self.mapping_ready = False

    @rx.event
    @requires(Role.editor)
    def use_mapping(self):
        """Import the next dropped file with the chosen columns."""
        self.mapping_ready = self.mapping_complete

    @rx.event
    @requires(Role.editor)
    def forget_mapping(self):
        self.mapping_file = ""
        self.mapping_headers = []
        self.mapping_choice = {}
        self.mapping_ready = False

    @rx.event
    @requires(Role.editor)
    def reattach(self):
        """Follow the running jobs again: watchers started by a cancelled upload were
        cancelled with it, although their jobs run on."""
        return [ImportState.watch_job(c.job_id) for c in self.cards if not c.finished]

    # --- following jobs -----------------------------------------------------------

    @rx.event(background=True)
    @requires(Role.editor)
    async def watch_job(self, job_id: int):
        """Follow a job: push its progress into this tab until the watch ends."""
        token = self.router.session.client_token
        key = (token, job_id)
        still_mine = _WATCHERS.claim(key)  # a newer watcher of the same tab and job takes over
        log.debug("watching import %s for tab %s (%s watchers)", job_id, token, len(_WATCHERS))
        watch = JobWatch(IMPORTS.follow(job_id), token, still_mine)
        try:
            async with watch:
                async for snapshot in watch:
                    async for event in self._show_progress(job_id, snapshot):
                        yield event
        except Exception:
            watch.reason = "error"
            log.exception("stopped following import %s", job_id)
        finally:
            _WATCHERS.release(key, still_mine)
            log.debug(
                "stopped watching import %s for tab %s: %s (%s watchers)",
                job_id,
                token,
                watch.reason,
                len(_WATCHERS),
            )

    async def _show_progress(
        self, job_id: int, snapshot: ImportSnapshot
    ) -> AsyncIterator[rx.event.EventSpec]:
        """Copy one update into the state; at the job's end, its toast and the history."""
        changes = None
        if snapshot.stage == "previewed" and snapshot.status == JobStatus.pending:
            changes = await asyncio.to_thread(change_lines, job_id)
        async with self:
            self._update(snapshot, changes)
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
