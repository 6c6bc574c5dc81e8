"""`make run` starts the worker again when it ends (with a growing back-off), and stops
everything when the web app ends: real child processes, no mocks."""

from __future__ import annotations

import sys
import time

from product_importer import launcher
from product_importer.launcher import Child

QUITS = [sys.executable, "-c", "raise SystemExit(3)"]


def wait_for(child: Child, starts: int, timeout: float = 30.0) -> list[float]:
    """Poll the child as the launcher does until it has been started `starts` times;
    return when each start happened."""
    seen = [child.started_at]
    deadline = time.monotonic() + timeout
    while child.starts < starts:
        assert time.monotonic() < deadline, f"only {child.starts} starts in {timeout} s"
        assert child.ended() is None, "a supervised child is never reported ended"
        if child.started_at != seen[-1]:
            seen.append(child.started_at)
        time.sleep(0.02)
    return seen


def test_a_worker_that_keeps_ending_is_started_again_with_a_growing_back_off() -> None:
    child = Child.start("worker", QUITS, {}, term_group=False, restart=True)
    starts = wait_for(child, 3)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # 1 s, then 2 s after the second quick exit (each plus the time the child took to end).
    assert len(gaps) == 2
    assert gaps[0] >= launcher.RESTART_FIRST_S
    assert gaps[1] >= 2 * launcher.RESTART_FIRST_S
    assert child.delay_s == 2 * launcher.RESTART_FIRST_S
    launcher.stop_children([child])


def test_a_worker_that_ran_long_enough_starts_again_after_the_first_delay(monkeypatch) -> None:
    monkeypatch.setattr(launcher, "RESTART_RESET_S", 0.0)  # every run counts as a long one
    child = Child.start("worker", QUITS, {}, term_group=False, restart=True)
    starts = wait_for(child, 3)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert all(gap >= launcher.RESTART_FIRST_S for gap in gaps)
    assert child.delay_s == launcher.RESTART_FIRST_S  # it did not grow
    launcher.stop_children([child])


def test_a_child_not_supervised_reports_its_exit_code() -> None:
    child = Child.start("web app", QUITS, {})
    deadline = time.monotonic() + 30
    while (code := child.ended()) is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert code == 3 and child.starts == 1
