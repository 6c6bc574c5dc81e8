"""A real HTTP server that receives webhooks in the tests (and the benchmark): it records
every request and answers what a test scripts per path (status, headers, a delay)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support import wait_until


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    sleep_s: float = 0.0


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: str
    at: float  # time.time() when the request was read

    @property
    def json(self) -> dict:
        import json

        return json.loads(self.body)


class Receiver:
    """Listens on 127.0.0.1; `url(path)` is where to point a webhook."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._replies: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle's algorithm and
            # the client's delayed ACK hold every keep-alive answer back 40 ms.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode()
                reply = receiver._take(self.path, self.headers, body)
                if reply.sleep_s:
                    time.sleep(reply.sleep_s)
                data = reply.body.encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _take(self, path: str, headers, body: str) -> Reply:
        with self._lock:
            self.received.append(
                Received(path, {k.lower(): v for k, v in headers.items()}, body, time.time())
            )
            queue = self._replies.get(path)
            return queue.popleft() if queue else Reply()

    def script(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to `path` with these replies, then 200."""
        with self._lock:
            self._replies[path].extend(replies)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requests(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if path is None or r.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 60) -> list[Received]:
        wait_until(
            lambda: len(self.requests(path)) >= count,
            timeout=timeout,
            what=f"{count} webhook requests to {path or 'the receiver'}",
        )
        return self.requests(path)

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def verifies(request: Received, secret: str) -> bool:
    """Whether the request carries a Standard Webhooks signature made with `secret`,
    checked by hand as any receiver would (not with the app's own code)."""
    import base64
    import hashlib
    import hmac

    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}."
    digest = hmac.new(key, (signed + request.body).encode(), hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    return any(
        hmac.compare_digest(expected, s) for s in request.headers["webhook-signature"].split()
    )
