"""A round-robin reverse proxy for the tests: one address in front of several web processes.

Each HTTP request goes to the next backend in turn, a turn per method and first path
segment, so that two sign-ins or two uploads in a row reach two processes (the proxy asks
for `Connection: close`, so a browser's keep-alive connection cannot pin its requests to
one process). A websocket
(an `Upgrade` request) stays on the backend it was sent to, as behind any load balancer,
and the proxy can cut every open websocket, which makes the browser reconnect: through
the proxy, to the next backend. It records which backend served what.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field

HEAD_LIMIT = 64 * 1024


@dataclass
class Served:
    backend: int
    method: str
    path: str
    websocket: bool


@dataclass
class Balancer:
    backends: list[tuple[str, int]]
    port: int = 0
    served: list[Served] = field(default_factory=list)
    _turns: dict[str, int] = field(default_factory=dict)
    # Each open websocket: the browser's side and the backend's side.
    _sockets: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = field(default_factory=set)
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.Server | None = None
    _thread: threading.Thread | None = None

    # --- the test's side (any thread) ---------------------------------------------

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", self.port, limit=HEAD_LIMIT)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="balancer", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the balancer did not start")

    def stop(self) -> None:
        if self._loop is None:
            return

        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for pair in list(self._sockets):
                for writer in pair:
                    writer.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def cut_websockets(self) -> int:
        """Close every open websocket (both sides); answer how many were open."""
        assert self._loop is not None

        async def cut() -> int:
            open_now = list(self._sockets)
            for pair in open_now:
                for writer in pair:
                    writer.close()
            return len(open_now)

        return asyncio.run_coroutine_threadsafe(cut(), self._loop).result(10)

    def pin_next(self, method: str, path: str, backend: int) -> None:
        """Send the next request like this one (same method, same first path segment) to
        `backend`; the turns go on from there."""
        assert self._loop is not None

        async def pin() -> None:
            self._turns[_key(method, path, False)] = backend - 1

        asyncio.run_coroutine_threadsafe(pin(), self._loop).result(10)

    def backends_of(self, *, path_prefix: str = "", method: str = "", websocket: bool = False):
        return {
            s.backend
            for s in list(self.served)
            if s.path.startswith(path_prefix)
            and (not method or s.method == method)
            and s.websocket == websocket
        }

    # --- the proxy ----------------------------------------------------------------

    def _next(self, method: str, path: str, websocket: bool) -> int:
        key = _key(method, path, websocket)
        turn = self._turns.get(key, -1) + 1
        self._turns[key] = turn
        return turn % len(self.backends)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_writer: asyncio.StreamWriter | None = None
        pair = None
        try:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            method, path = (lines[0].split(" ") + ["", ""])[:2]
            headers = [line for line in lines[1:] if line]
            websocket = any(
                h.lower().startswith("upgrade:") and "websocket" in h.lower() for h in headers
            )
            if not websocket:
                headers = [h for h in headers if not h.lower().startswith("connection:")]
                headers.append("Connection: close")
            backend = self._next(method, path, websocket)
            self.served.append(Served(backend, method, path, websocket))
            host, port = self.backends[backend]
            up_reader, upstream_writer = await asyncio.open_connection(host, port)
            new_head = "\r\n".join([lines[0], *headers]) + "\r\n\r\n"
            upstream_writer.write(new_head.encode("latin-1"))
            if websocket:
                pair = (writer, upstream_writer)
                self._sockets.add(pair)
            await asyncio.gather(
                _pipe(reader, upstream_writer, close=False),
                _pipe(up_reader, writer, close=True),
                return_exceptions=True,
            )
        except OSError:
            pass
        finally:
            if pair is not None:
                self._sockets.discard(pair)
            for w in (writer, upstream_writer):
                if w is not None:
                    w.close()


def _key(method: str, path: str, websocket: bool) -> str:
    return "websocket" if websocket else f"{method} {path.split('?')[0].split('/')[1:2]}"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, close: bool) -> None:
    """Copy until the reader ends; then pass the end on (the backend's answer ending closes
    the browser's side, which ends the other pipe)."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            if close:
                writer.close()
            elif writer.can_write_eof():
                writer.write_eof()
