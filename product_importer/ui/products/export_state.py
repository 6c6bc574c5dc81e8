"""The Products page's export: an export job of exactly what the grid's filters show, its
live progress (ui/job_watch.py, like the import and delete-all cards), then a link to its
file. The browser downloads the file through that link, a plain GET with the session
cookie (`GET /api/products/exports/{id}/download`), never through the websocket. A reload
shows the tab's user's running (or last finished) export again."""

from __future__ import annotations

import asyncio

import reflex as rx

from product_importer.access import Role
from product_importer.models import JobStatus
from product_importer.products import export_jobs
from product_importer.products.export_jobs import (
    EXPORTS,
    ExportFormat,
    ExportSnapshot,
    Requester,
)
from product_importer.ui.access import principal_of, requires
from product_importer.ui.job_watch import Watchers
from product_importer.ui.products.state import ProductsState

# The watcher that owns each (client token, export id) in this backend process.
_WATCHERS = Watchers()


def _size(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1e6:.1f} MB"
    return f"{max(1, size // 1000) if size else 0} kB"


class ProductExportState(ProductsState):
    """The export card of one Products tab."""

    export_format: str = "csv"  # of the next export: "csv" or "xlsx"
    export_job_id: int = 0
    export_status: str = ""
    export_total: int = 0
    export_written: int = 0
    export_percent: float = 0.0
    export_message: str = ""
    export_file_name: str = ""
    # The export this tab's user dismissed: not shown again when the page loads anew
    # (every change of filter, sort or page does).
    export_dismissed_id: int = 0

    @rx.var
    def export_running(self) -> bool:
        return self.export_status in (JobStatus.pending, JobStatus.processing)

    @rx.var
    def export_download_href(self) -> str:
        if self.export_status != JobStatus.completed:
            return ""
        return f"/api/products/exports/{self.export_job_id}/download"

    async def _requester(self) -> Requester | None:
        principal = await principal_of(self)
        if principal is None:
            return None
        return Requester(principal.owner_key, principal.name, principal.may(Role.admin))

    def _show_export(self, snapshot: ExportSnapshot, file_name: str | None = None) -> None:
        self.export_job_id = snapshot.job_id
        self.export_status = snapshot.status
        self.export_total = snapshot.total
        self.export_written = snapshot.written
        self.export_percent = snapshot.percent
        if file_name is not None:
            self.export_file_name = file_name
        if snapshot.status == JobStatus.completed:
            self.export_message = (
                f"{snapshot.written:,} products exported ({_size(snapshot.size_bytes)})."
            )
        elif snapshot.status == JobStatus.failed:
            self.export_message = f"The export failed: {snapshot.error}"
        elif snapshot.status == JobStatus.cancelled:
            self.export_message = "The export was cancelled."
        elif snapshot.waiting_for_worker and snapshot.status == JobStatus.processing:
            self.export_message = (
                "Waiting for a worker: the worker writing the file stopped. Another one "
                "writes it again from the start."
            )
        elif snapshot.status == JobStatus.processing and snapshot.total:
            self.export_message = f"Writing {snapshot.written:,} of {snapshot.total:,} products…"
        elif snapshot.status == JobStatus.processing:
            self.export_message = "Counting the products to export…"
        else:
            self.export_message = "Waiting for a worker to start the export…"

    @rx.event
    @requires(Role.editor, page_load=True)
    async def load_export(self):
        """Follow the export the card still shows unfinished (re-attaching, ui/job_watch.py:
        it may have ended, even failed or been cancelled, while the tab was away); else
        show this user's running (or last finished) export again, and follow it."""
        requester = await self._requester()
        if requester is None:
            return
        if self.export_running and self.export_job_id:
            return ProductExportState.watch_export(self.export_job_id)
        job = await asyncio.to_thread(export_jobs.latest_export, requester)
        if job is None or job.id is None or job.id == self.export_dismissed_id:
            return
        self._show_export(export_jobs.export_snapshot(job), export_jobs.file_name(job))
        if not JobStatus(job.status).is_terminal:
            return ProductExportState.watch_export(job.id)

    @rx.event
    @requires(Role.editor)
    def set_export_format(self, value: str):
        self.export_format = value if value in ExportFormat.__members__ else "csv"

    @rx.event
    @requires(Role.editor)
    async def start_export(self):
        """Export exactly what the grid's filters show (everything without filters)."""
        requester = await self._requester()
        if requester is None:
            return
        job = await asyncio.to_thread(
            export_jobs.request_export,
            self._filters(),
            requester,
            ExportFormat(self.export_format),
        )
        self._show_export(export_jobs.export_snapshot(job), export_jobs.file_name(job))
        if JobStatus(job.status).is_terminal:
            return rx.toast.error(self.export_message)
        return ProductExportState.watch_export(int(job.id or 0))

    @rx.event
    @requires(Role.editor)
    async def cancel_export(self):
        requester = await self._requester()
        if requester is None or not self.export_running:
            return
        try:
            job = await asyncio.to_thread(export_jobs.cancel_export, self.export_job_id, requester)
        except (export_jobs.ExportConflict, LookupError) as exc:
            return rx.toast.error(str(exc))
        self._show_export(export_jobs.export_snapshot(job))

    @rx.event
    @requires(Role.editor)
    def dismiss_export(self):
        self.export_dismissed_id = self.export_job_id
        self.export_status = self.export_message = ""
        self.export_job_id = 0

    @rx.event(background=True)
    @requires(Role.editor)
    async def watch_export(self, job_id: int):
        """Push the export's progress into this tab until the watch ends."""
        token = self.router.session.client_token
        async with _WATCHERS.watching("export", job_id, token, EXPORTS.follow(job_id)) as watch:
            async for snapshot in watch:
                async with self:
                    if self.export_job_id != job_id:
                        continue  # the tab dismissed it, or started another
                    # Another watcher of this tab (e.g. in the web process of its old
                    # socket) may have shown the end already: one toast, not two.
                    seen = self.export_status == snapshot.status
                    self._show_export(snapshot)
                    message = self.export_message
                if seen:
                    continue
                if snapshot.status == JobStatus.completed:
                    yield rx.toast.success(message)
                elif snapshot.status == JobStatus.failed:
                    yield rx.toast.error(message)
