"""One tab following one job: the one browser watcher every kind of job's page uses.

A page's background event reads a job's updates (`JobKind.follow`) through `JobWatch`,
which decides what reaches the tab and when the watch ends:
- at most one update per PUSH_INTERVAL_S, never losing the latest: one that comes too soon
  is pushed when its turn comes (unless a newer one replaced it), a terminal one at once;
- it ends after the terminal update, when the job's updates end, when the tab has been
  gone for TAB_GONE_AFTER_S (`live_tabs.tab_connected`, asked every WATCH_TICK_S; a tab
  that reconnects within that time is followed on), when a newer watcher of the same tab
  and job took over, or after WATCH_IDLE_TIMEOUT_S without news.
`reason` says which, for the log. `Watchers` keeps, per backend process, which watcher
owns each (tab, job): a reload keeps its client token and starts a new watcher, and the
newest one owns the job. `Watchers.watching` is what a page's background event uses: the
claim, the watch, its end logged, an error of the page's own handling logged and ending
the watch, the claim released.

Re-attaching: after its tab (re)connects, to the same web process or to another, a card
must come to show its job's true state. The tab's state may hold an old update: an update
is pushed to whichever socket the tab has at that moment (none while it reconnects, and the
reconnect's full state may have been read just before the update was written), and a
watcher that gave up on a gone tab writes nothing more. Reflex 0.10.1 re-runs the page's
on_load on every websocket (re)connect (the frontend's `hydrate_and_load`, sent once the
socket is linked to the tab), so each page's on_load starts a new watcher for every job its
cards show unfinished. A watcher's first update is the job's current state
(`JobKind.follow` reads PostgreSQL and the progress hash): a job that ended unseen shows
its end and that watch stops; one still running is followed on, from the tab's new
process. One rule for every page, with Reflex's own reconnect event and no script of ours;
the old watcher cannot mend a lost push, as it cannot tell it was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Generic, Protocol, TypeVar

from product_importer.ui.live_tabs import tab_connected

# At most this many progress updates per second and job reach the browser.
PUSH_INTERVAL_S = 0.25
# How often a watcher asks whether its tab is still there and still wants it.
WATCH_TICK_S = 1.0
# A tab gone this long is closed, not reconnecting (a reload re-attaches on its own).
TAB_GONE_AFTER_S = 2.0
# A watcher gives up on a job that shows no news for this long (e.g. no worker runs).
WATCH_IDLE_TIMEOUT_S = 30 * 60


class Snapshot(Protocol):
    @property
    def is_terminal(self) -> bool: ...


S = TypeVar("S", bound=Snapshot)
Key = tuple[str, int]

log = logging.getLogger(__name__)


class Watchers:
    """Which watcher owns each (client token, job id) in this backend process."""

    def __init__(self) -> None:
        self._owners: dict[Key, object] = {}

    def claim(self, key: Key) -> Callable[[], bool]:
        """Own `key` (a newer watcher takes over from an older one); answers the check
        "is it still mine", which `release` ends."""
        owner = object()
        self._owners[key] = owner
        return lambda: self._owners.get(key) is owner

    def release(self, key: Key, still_mine: Callable[[], bool]) -> None:
        if still_mine():
            del self._owners[key]

    def __len__(self) -> int:
        return len(self._owners)

    @contextlib.asynccontextmanager
    async def watching(
        self, what: str, job_id: int, token: str, updates: AsyncIterator[S]
    ) -> AsyncIterator[JobWatch[S]]:
        """Tab `token`'s watch of job `job_id` (a `what`: "import", "export"...), owned by
        it until a newer watcher of the same tab and job takes over. An exception of the
        caller's own handling of an update ends the watch and is logged, not raised."""
        key = (token, job_id)
        still_mine = self.claim(key)
        watch = JobWatch(updates, token, still_mine)
        log.debug("watching %s %s for tab %s (%s watchers)", what, job_id, token, len(self))
        try:
            async with watch:
                yield watch
        except Exception:
            watch.reason = "error"
            log.exception("stopped following %s %s", what, job_id)
        finally:
            self.release(key, still_mine)
            log.debug(
                "stopped watching %s %s for tab %s: %s (%s watchers)",
                what,
                job_id,
                token,
                watch.reason,
                len(self),
            )


async def _next(updates: AsyncIterator[S]) -> S | None:
    return await anext(updates, None)


class JobWatch(Generic[S]):
    """The updates of one job that reach one tab (see the module's docstring). Iterate it
    once; `aclose()` (or leaving an `async with`) closes the job's subscription."""

    def __init__(
        self,
        updates: AsyncIterator[S],
        token: str,
        still_mine: Callable[[], bool] = lambda: True,
        *,
        interval_s: float = PUSH_INTERVAL_S,
        idle_timeout_s: float = WATCH_IDLE_TIMEOUT_S,
        tick_s: float = WATCH_TICK_S,
        gone_after_s: float = TAB_GONE_AFTER_S,
    ) -> None:
        self._updates = updates
        self._token = token
        self._still_mine = still_mine
        self._interval_s = interval_s
        self._idle_timeout_s = idle_timeout_s
        self._tick_s = tick_s
        self._gone_after_s = gone_after_s
        # Why the watch ended: "job ended", "tab gone", "replaced by a newer watcher",
        # "no news"; "cancelled" until then.
        self.reason = "cancelled"
        self._running: AsyncGenerator[S, None] | None = None

    async def __aenter__(self) -> JobWatch[S]:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """End the iteration first (its pending read is cancelled), then the subscription:
        also when the caller left the loop early, with an exception."""
        if self._running is not None:
            await self._running.aclose()
        await self._updates.aclose()  # type: ignore[attr-defined]

    async def _why_stop(self) -> str:
        if not self._still_mine():
            return "replaced by a newer watcher"
        if not await tab_connected(self._token):
            return "tab gone"
        return ""

    def __aiter__(self) -> AsyncIterator[S]:
        self._running = self._iterate()
        return self._running

    async def _iterate(self) -> AsyncGenerator[S, None]:
        # The next update is awaited across ticks, never cancelled until the end:
        # cancelling would close the subscription.
        next_update = asyncio.ensure_future(_next(self._updates))
        last_news = last_check = time.monotonic()
        last_push = float("-inf")  # the first update goes at once
        gone_since: float | None = None
        held: S | None = None  # came too soon after the last push: pushed on its turn
        try:
            while True:
                timeout = self._interval_s if held is not None else self._tick_s
                await asyncio.wait({next_update}, timeout=timeout)
                now = time.monotonic()
                if now - last_check >= self._tick_s:
                    last_check = now
                    reason = await self._why_stop()
                    if reason == "tab gone":
                        gone_since = gone_since or now
                        if now - gone_since < self._gone_after_s:
                            reason = ""  # maybe reconnecting: look again next tick
                    else:
                        gone_since = None
                    if reason:
                        self.reason = reason
                        return
                if next_update.done():
                    snapshot = next_update.result()
                    if snapshot is None:
                        if held is not None:
                            yield held
                        self.reason = "job ended"
                        return
                    next_update = asyncio.ensure_future(_next(self._updates))
                    last_news = now
                elif held is not None:
                    snapshot = held
                elif now - last_news > self._idle_timeout_s:
                    self.reason = "no news"
                    return
                else:
                    continue
                if not snapshot.is_terminal and now - last_push < self._interval_s:
                    held = snapshot
                    continue
                held, last_push = None, now
                yield snapshot
                if snapshot.is_terminal:
                    self.reason = "job ended"
                    return
        finally:
            next_update.cancel()
            # Let the cancelled read finish (its own cleanup) before the caller closes
            # the subscription.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await next_update
