"""What an import's card and history line show: the job's snapshot turned into words
and numbers ready to draw, the ending toast, and the words for refused files. No state
here: the page's state (state.py) keeps these, the views (job_card.py, history.py) draw
them."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from product_importer.imports import preview
from product_importer.imports.kind import IMPORTS, ImportSnapshot, import_snapshot
from product_importer.imports.number_style import PriceStyle, price_style
from product_importer.imports.outcome import Outcome
from product_importer.imports.revert import revert_snapshot
from product_importer.models import ImportJob, ImportRevert, JobStatus
from product_importer.settings import settings
from product_importer.ui.imports.revert_words import can_revert, revert_counts, revert_words
from product_importer.ui.times import shown_time


@dataclasses.dataclass
class JobLine:
    """What an import's card and its history line both show."""

    job_id: int = 0
    filename: str = ""
    status: str = ""
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


@dataclasses.dataclass
class JobCard(JobLine):
    """One import as its progress card draws it."""

    stage: str = ""
    percent: float = 0.0
    # While running: the speed and time left; once ended: the average rate and duration.
    speed: str = ""
    eta: str = ""
    error: str = ""
    finished: bool = False
    extra_columns: str = ""
    # The saved mapping the file's columns were read with ("" and 0: none).
    mapping_name: str = ""
    mapping_id: int = 0
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
    # How the preview's prices were read (imports/number_style.py), the separator ("."
    # or ",", "" when none was shown), whether another can be chosen, and whether the
    # preview asks (prices read two ways).
    price_style: str = ""
    price_decimal: str = ""
    price_style_changeable: bool = False
    price_style_asks: bool = False


@dataclasses.dataclass
class JobRow(JobLine):
    """One line of the import history table."""

    started: str = ""
    duration: str = ""
    size: str = ""
    # Its revert (ui/imports/revert_words.py): the Revert button, and how one goes or went.
    can_revert: bool = False
    revert_words: str = ""
    revert_counts: str = ""


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


def preview_style(job_id: int) -> PriceStyle:
    """How a preview's prices were read (and whether another style can be chosen)."""
    return price_style(IMPORTS.get(job_id))


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
    mapping: tuple[str, int] = ("", 0),
    style: PriceStyle | None = None,
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
        mapping_name=mapping[0],
        mapping_id=mapping[1],
        waiting=waiting_words(snapshot),
        options=_options_words(snapshot),
        other_counts=_other_counts(snapshot),
        changes=list(changes or []),
        price_style=style.words if style else "",
        price_decimal=(style.decimal or "") if style else "",
        price_style_changeable=bool(style and style.can_change),
        price_style_asks=bool(style and style.ambiguous_rows and style.source != "chosen"),
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
    mapping = (job.saved_mapping_name or "", int(job.saved_mapping_id or 0))
    return card_of(import_snapshot(job), job.filename, ", ".join(job.extra_columns), None, mapping)


def row_of(job: ImportJob, revert: ImportRevert | None = None) -> JobRow:
    snapshot = None if revert is None else revert_snapshot(revert)
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
        can_revert=can_revert(job, revert),
        revert_words=revert_words(snapshot),
        revert_counts=revert_counts(snapshot),
        **_outcome_fields(import_snapshot(job)),
    )


def row_updated(row: JobRow, snapshot: ImportSnapshot) -> JobRow:
    """A history line with the job's newest status and counts."""
    return dataclasses.replace(
        row,
        status=snapshot.status,
        created=_count(snapshot.created),
        updated=_count(snapshot.updated),
        unchanged=_count(snapshot.unchanged),
        skipped=_count(snapshot.skipped),
        has_skipped=snapshot.skipped > 0,
        **_outcome_fields(snapshot),
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
