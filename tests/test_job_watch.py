"""The one browser watcher (ui/job_watch.py): throttled, never losing the latest update,
ending at the job's end, when its tab is gone, when a newer watcher takes over, or
after a quiet spell."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from product_importer.products.bulk_delete import BulkDeleteSnapshot
from product_importer.ui import job_watch
from product_importer.ui.job_watch import JobWatch, Watchers


def snap(status: str, deleted: int = 0) -> BulkDeleteSnapshot:
    return BulkDeleteSnapshot(
        job_id=1, status=status, total=100, deleted=deleted, percent=float(deleted)
    )


async def feed(steps: list[tuple[float, BulkDeleteSnapshot]]) -> AsyncIterator[BulkDeleteSnapshot]:
    for delay, snapshot in steps:
        await asyncio.sleep(delay)
        yield snapshot


def pushed(steps, interval=0.2, idle=5.0, **options) -> list[tuple[str, int]]:
    async def run():
        watch = JobWatch(
            feed(steps), "tab", interval_s=interval, idle_timeout_s=idle, tick_s=0.1, **options
        )
        async with watch:
            return [(s.status, s.deleted) async for s in watch]

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


def test_the_watch_ends_with_the_terminal_update_and_says_why() -> None:
    async def run():
        steps = [(0, snap("processing", 5)), (0.05, snap("completed", 100))]
        steps += [(0, snap("processing", 7))]  # never read
        watch = JobWatch(feed(steps), "tab", interval_s=0.01, tick_s=0.1)
        async with watch:
            seen = [s.deleted async for s in watch]
        return seen, watch.reason

    assert asyncio.run(run()) == ([5, 100], "job ended")


def test_a_tab_gone_for_long_enough_ends_the_watch_and_a_short_absence_does_not(
    monkeypatch,
) -> None:
    present = {"now": True}

    async def connected(token: str) -> bool:
        return present["now"]

    monkeypatch.setattr(job_watch, "tab_connected", connected)

    async def run(gone_for: float):
        async def steps():
            yield snap("processing", 1)
            present["now"] = False
            await asyncio.sleep(gone_for)
            present["now"] = True
            yield snap("processing", 2)
            await asyncio.sleep(0.3)
            yield snap("completed", 100)

        watch = JobWatch(steps(), "tab", interval_s=0.01, tick_s=0.05, gone_after_s=0.5)
        async with watch:
            seen = [s.deleted async for s in watch]
        return seen, watch.reason

    # Back within the bound (a reconnect): followed to the end.
    assert asyncio.run(run(0.2)) == ([1, 2, 100], "job ended")
    # Away past it: the watch stops.
    assert asyncio.run(run(1.5)) == ([1], "tab gone")


def test_a_newer_watcher_of_the_same_tab_and_job_takes_over() -> None:
    watchers = Watchers()
    first = watchers.claim(("tab", 1))
    second = watchers.claim(("tab", 1))
    assert not first() and second() and len(watchers) == 1
    watchers.release(("tab", 1), first)  # the old one leaving keeps the new one's claim
    assert second() and len(watchers) == 1

    async def run():
        async def slow():
            yield snap("processing", 1)
            await asyncio.sleep(5)
            yield snap("completed", 100)

        watch = JobWatch(slow(), "tab", first, interval_s=0.01, tick_s=0.05)
        async with watch:
            seen = [s.deleted async for s in watch]
        return seen, watch.reason

    assert asyncio.run(run()) == ([1], "replaced by a newer watcher")
    watchers.release(("tab", 1), second)
    assert len(watchers) == 0


def test_leaving_the_loop_with_an_exception_closes_the_pending_read_and_the_subscription() -> None:
    closed = []

    async def updates():
        try:
            yield snap("processing", 1)
            await asyncio.sleep(30)
            yield snap("completed", 100)
        finally:
            closed.append(True)

    async def run():
        watch = JobWatch(updates(), "tab", interval_s=0.01, tick_s=0.05)
        try:
            async with watch:
                async for _ in watch:
                    raise ValueError("the page's handler failed")
        except ValueError:
            pass
        # Closed by the time the watch is left, not later by the loop's shutdown.
        return watch.reason, list(closed), pending_reads()

    def pending_reads() -> int:
        current = asyncio.current_task()
        return sum(1 for task in asyncio.all_tasks() if task is not current and not task.done())

    assert asyncio.run(run()) == ("cancelled", [True], 0)


def test_watching_owns_the_job_for_the_tab_and_ends_on_an_error_of_the_handler(caplog) -> None:
    """What a page's background event uses: the claim held while it watches, an error of
    its own handling logged (not raised) with the subscription closed, the claim released."""
    watchers = Watchers()
    closed = []

    async def updates():
        try:
            yield snap("processing", 1)
            await asyncio.sleep(30)
        finally:
            closed.append(True)

    async def run():
        async with watchers.watching("import", 7, "tab-a", updates()) as watch:
            assert len(watchers) == 1
            async for _ in watch:
                raise ValueError("the page's handler failed")
        return watch.reason, list(closed), len(watchers)

    with caplog.at_level(logging.DEBUG, logger="product_importer.ui.job_watch"):
        assert asyncio.run(run()) == ("error", [True], 0)
    assert "stopped following import 7" in caplog.text
    assert "stopped watching import 7 for tab tab-a: error (0 watchers)" in caplog.text
