"""State of the Import page: the browser upload, live progress of jobs, recent imports.

The upload streams chunk by chunk into `jobs.start_import` (the same function as
`POST /api/imports`), so a file is never held whole in memory. Progress comes from
`progress.follow` in a background task per job and tab, which writes into the state in
short `async with self:` blocks; Reflex sends the deltas over its websocket.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from product_importer.catalog_guard import CatalogBusy
from product_importer.csvfile import HeaderProblem
from product_importer.imports import jobs, progress
from product_importer.imports.intake import UploadTooLarge
from product_importer.imports.progress import ProgressSnapshot
from product_importer.models import ImportJob, JobStatus
from product_importer.settings import settings

log = logging.getLogger(__name__)

UPLOAD_ID = "csv_upload"
RECENT_PAGE_SIZE = 10
# At most this many progress updates per second and job reach the browser.
PUSH_INTERVAL_S = 0.25
# A watcher gives up on a job that shows no news for this long (e.g. no worker runs).
WATCH_IDLE_TIMEOUT_S = 30 * 60
# Finished cards kept on the page next to the running ones.
FINISHED_CARDS_KEPT = 3

# Jobs watched right now in this backend process, by (client token, job id): a reload
# keeps its token and must not start a second watcher for the same job.
_WATCHERS: set[tuple[str, int]] = set()


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
    speed: str = ""
    eta: str = ""
    error: str = ""
    finished: bool = False
    extra_columns: str = ""


@dataclasses.dataclass
class JobRow:
    """One line of the recent-imports table."""

    job_id: int = 0
    filename: str = ""
    status: str = ""
    started: str = ""
    size: str = ""
    rows: str = ""
    created: str = "0"
    updated: str = "0"
    unchanged: str = "0"
    skipped: str = "0"
    has_skipped: bool = False


def _count(n: int | None) -> str:
    return f"{n or 0:,}"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return ""


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def card_of(snapshot: ProgressSnapshot, filename: str, extra_columns: str = "") -> JobCard:
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
        speed=f"{snapshot.rows_per_second:,.0f} rows/s" if running else "—",
        eta=_duration(snapshot.eta_seconds) if running else "—",
        error=snapshot.error or "",
        finished=snapshot.is_terminal,
        extra_columns=extra_columns,
    )


def new_card(job: ImportJob) -> JobCard:
    return card_of(ProgressSnapshot.of_job(job), job.filename, ", ".join(job.extra_columns))


def row_of(job: ImportJob) -> JobRow:
    return JobRow(
        job_id=int(job.id or 0),
        filename=job.filename,
        status=job.status,
        started=job.created_at.strftime("%Y-%m-%d %H:%M UTC") if job.created_at else "",
        size=_size(job.file_size),
        rows=_count(job.total_rows),
        created=_count(job.created),
        updated=_count(job.updated),
        unchanged=_count(job.unchanged),
        skipped=_count(job.skipped),
        has_skipped=job.skipped > 0,
    )


def _rejection_message(rejections: list[str]) -> str:
    """Why the drop zone refused files, in words; each item is "name:code,code" with
    react-dropzone's error codes."""
    messages = []
    for rejection in rejections:
        name, _, codes = rejection.rpartition(":")
        name = name or "the file"
        for code in codes.split(","):
            if code == "file-too-large":
                messages.append(
                    f"{name}: the file is larger than the {settings.max_upload_mb} MB limit"
                )
            elif code == "too-many-files":
                messages.append("drop one file at a time")
            elif code == "file-invalid-type":
                messages.append(f"{name}: not a CSV file (.csv, .tsv or .txt)")
            else:
                messages.append(f"{name}: the file was not accepted ({code})")
    return "; ".join(dict.fromkeys(messages)) or "the file was not accepted"


class ImportState(rx.State):
    """The Import page of one browser tab."""

    uploading: bool = False
    upload_filename: str = ""
    upload_percent: int = 0
    upload_error: str = ""
    cards: list[JobCard] = []
    recent: list[JobRow] = []
    recent_total: int = 0

    # --- page load: history and re-attaching to running jobs -----------------------

    @rx.event
    async def load_page(self):
        """Read the history and follow every job that is still running."""
        try:
            rows, self.recent_total = await asyncio.to_thread(
                jobs.list_jobs, page=1, page_size=RECENT_PAGE_SIZE
            )
        except Exception as exc:  # the page still renders; the reason is shown
            log.exception("could not read the import history")
            self.upload_error = f"could not read the import history: {exc}"
            return
        self.recent = [row_of(job) for job in rows]
        running = [job for job in rows if job.status in (JobStatus.pending, JobStatus.processing)]
        for job in reversed(running):
            self._show(new_card(job))
        return [ImportState.watch_job(int(job.id or 0)) for job in running]

    async def _refresh_recent(self) -> None:
        rows, total = await asyncio.to_thread(jobs.list_jobs, page=1, page_size=RECENT_PAGE_SIZE)
        async with self:
            self.recent = [row_of(job) for job in rows]
            self.recent_total = total

    def _show(self, card: JobCard) -> None:
        """Put a card first, replacing the job's old card, and drop old finished ones."""
        others = [c for c in self.cards if c.job_id != card.job_id]
        running = [c for c in others if not c.finished]
        finished = [c for c in others if c.finished][: FINISHED_CARDS_KEPT - 1]
        self.cards = [card, *running, *finished]

    def _update(self, snapshot: ProgressSnapshot) -> None:
        """Redraw the job's card where it stands (a dismissed card stays dismissed), and
        its line in the recent imports."""
        for index, card in enumerate(self.cards):
            if card.job_id == snapshot.job_id:
                self.cards[index] = card_of(snapshot, card.filename, card.extra_columns)
                break
        for index, row in enumerate(self.recent):
            if row.job_id == snapshot.job_id:
                self.recent[index] = dataclasses.replace(
                    row,
                    status=snapshot.status,
                    created=_count(snapshot.created),
                    updated=_count(snapshot.updated),
                    unchanged=_count(snapshot.unchanged),
                    skipped=_count(snapshot.skipped),
                    has_skipped=snapshot.skipped > 0,
                )
                break

    # --- the upload ---------------------------------------------------------------

    @rx.event
    def upload_progressed(self, event: dict[str, Any]):
        self.upload_percent = int(100 * float(event.get("progress") or 0))

    @rx.event
    def files_rejected(self, rejections: list[str]):
        self.upload_error = _rejection_message(rejections)

    @rx.event(background=True)
    async def upload(self, chunks: rx.UploadChunkIterator):
        """Stream the dropped file into a new import job, then follow the job."""
        source = aiter(chunks)
        try:
            first = await anext(source)
        except StopAsyncIteration:
            return
        async with self:
            self.uploading = True
            self.upload_filename = first.filename
            self.upload_percent = 0
            self.upload_error = ""

        async def file_bytes() -> AsyncIterator[bytes]:
            yield first.data
            async for chunk in source:
                # One file per upload: bytes of any other file are read and dropped.
                if chunk.filename == first.filename:
                    yield chunk.data

        try:
            job = await jobs.start_import(first.filename, file_bytes())
        except (HeaderProblem, UploadTooLarge, CatalogBusy) as exc:
            async with self:
                self.uploading = False
                self.upload_error = f"{first.filename}: {exc}"
            # Stop sending the rest of a file that can never be imported.
            yield rx.cancel_upload(UPLOAD_ID)
            return
        except asyncio.CancelledError:  # the browser went away or cancelled the upload
            async with self:
                self.uploading = False
            raise
        except Exception as exc:
            log.exception("upload of %s failed", first.filename)
            async with self:
                self.uploading = False
                self.upload_error = f"{first.filename}: the upload failed ({exc})"
            yield rx.cancel_upload(UPLOAD_ID)
            return

        async with self:
            self.uploading = False
            self.upload_percent = 100
            self._show(new_card(job))
        await self._refresh_recent()
        await self._follow(int(job.id or 0))

    # --- following jobs -----------------------------------------------------------

    @rx.event(background=True)
    async def watch_job(self, job_id: int):
        """Follow a job that was already running when the page loaded."""
        await self._follow(job_id)

    async def _follow(self, job_id: int) -> None:
        key = (self.router.session.client_token, job_id)
        if key in _WATCHERS:
            return
        _WATCHERS.add(key)
        try:
            await self._push_progress(job_id)
        finally:
            _WATCHERS.discard(key)

    async def _push_progress(self, job_id: int) -> None:
        updates = progress.follow(job_id, lambda: asyncio.to_thread(jobs.snapshot, job_id))
        last_push = 0.0
        try:
            while True:
                try:
                    snapshot = await asyncio.wait_for(anext(updates), WATCH_IDLE_TIMEOUT_S)
                except (StopAsyncIteration, TimeoutError):
                    return
                now = time.monotonic()
                if not snapshot.is_terminal and now - last_push < PUSH_INTERVAL_S:
                    continue
                last_push = now
                async with self:
                    self._update(snapshot)
                if snapshot.is_terminal:
                    await self._refresh_recent()
                    return
        except Exception:
            log.exception("stopped following import %s", job_id)
        finally:
            await updates.aclose()

    # --- buttons ------------------------------------------------------------------

    @rx.event
    async def cancel_job(self, job_id: int):
        try:
            await asyncio.to_thread(jobs.cancel_job, job_id)
        except (jobs.JobNotFound, jobs.JobAlreadyFinished) as exc:
            return rx.toast.info(str(exc))

    @rx.event
    def dismiss(self, job_id: int):
        self.cards = [c for c in self.cards if c.job_id != job_id]

    @rx.event
    def clear_error(self):
        self.upload_error = ""
