"""Every page shows a moment one way: UTC, labelled, to the second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from product_importer.ui.times import shown_time


def test_a_moment_in_any_zone_is_shown_in_utc_and_says_so() -> None:
    berlin = timezone(timedelta(hours=1))
    assert shown_time(datetime(2026, 12, 3, 11, 4, 5, tzinfo=berlin)) == "2026-12-03 10:04:05 UTC"
    assert shown_time(datetime(2026, 12, 3, 10, 4, 5, tzinfo=UTC)) == "2026-12-03 10:04:05 UTC"
    assert shown_time(datetime(2026, 12, 3, 10, 4, 5)) == "2026-12-03 10:04:05 UTC"


def test_no_moment_shows_what_the_page_says_instead() -> None:
    assert shown_time(None) == ""
    assert shown_time(None, missing="never") == "never"
