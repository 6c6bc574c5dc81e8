"""The one way a page shows a moment: in UTC, labelled so, to the second."""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "%Y-%m-%d %H:%M:%S UTC"


def shown_time(moment: datetime | None, missing: str = "") -> str:
    """'2026-12-03 10:04:05 UTC' (a naive moment is taken as UTC), or `missing`."""
    if moment is None:
        return missing
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(FORMAT)
