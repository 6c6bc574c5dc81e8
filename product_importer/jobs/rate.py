"""Rows per second and time remaining of a running job."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class RateClock:
    """Measures a job's speed over this run of it (a resumed job starts a new clock)."""

    start_rows: int
    started: float = field(default_factory=time.monotonic)

    def rate(self, done: int) -> float:
        """Rows per second since the clock started."""
        elapsed = time.monotonic() - self.started
        moved = done - self.start_rows
        return moved / elapsed if elapsed > 0 and moved > 0 else 0.0

    def eta(self, done: int, total: int) -> float | None:
        """Seconds left at the current rate; None while there is no rate."""
        rate = self.rate(done)
        return max(0, total - done) / rate if rate else None
