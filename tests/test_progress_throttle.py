"""The Products page's progress pushes: throttled, but the latest snapshot is never lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from product_importer.products.bulk_delete import BulkDeleteSnapshot
from product_importer.ui.products_state import throttled


def snap(status: str, deleted: int = 0) -> BulkDeleteSnapshot:
    return BulkDeleteSnapshot(
        job_id=1, status=status, total=100, deleted=deleted, percent=float(deleted)
    )


async def feed(steps: list[tuple[float, BulkDeleteSnapshot]]) -> AsyncIterator[BulkDeleteSnapshot]:
    for delay, snapshot in steps:
        await asyncio.sleep(delay)
        yield snapshot


def pushed(steps, interval=0.2, idle=5.0) -> list[tuple[str, int]]:
    async def run():
        return [(s.status, s.deleted) async for s in throttled(feed(steps), interval, idle)]

    return asyncio.run(run())


def test_an_update_that_comes_too_soon_is_sent_when_the_interval_is_over() -> None:
    # "processing" right after "pending", then a long quiet: it must still be shown.
    steps = [(0, snap("pending")), (0.01, snap("processing")), (0.6, snap("completed", 100))]
    assert pushed(steps) == [("pending", 0), ("processing", 0), ("completed", 100)]


def test_a_burst_is_thinned_to_its_latest_and_the_terminal_goes_at_once() -> None:
    steps = [(0, snap("processing", 0))]
    steps += [(0.001, snap("processing", n)) for n in range(1, 50)]
    steps += [(0.001, snap("completed", 100))]
    result = pushed(steps, interval=10.0)
    assert result == [("processing", 0), ("completed", 100)]


def test_a_quiet_feed_ends_after_the_idle_timeout() -> None:
    steps = [(0, snap("processing")), (5, snap("completed", 100))]
    assert pushed(steps, idle=0.3) == [("processing", 0)]
