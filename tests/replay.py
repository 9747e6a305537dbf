"""A loopback HTTP server that replays real recorded API responses, and can misbehave on purpose.

The harvesters' real clients (musicbrainzngs, internetarchive) are pointed at it, so their
HTTP code runs unchanged. Every request is logged (time, path, query, user agent) so tests can
check rate limits and etiquette. Faults are either scripted for one path (`fail_next`) or drawn
at a seeded rate (`FaultPlan`): 429/503 with Retry-After, connection resets, timeouts (no answer
for longer than the client waits), truncated bodies, invalid bodies (neither JSON nor XML), and
slow answers. A request budget stops a client that would loop forever. It binds 127.0.0.1 only
and stops with its context manager.
"""

from __future__ import annotations

import random
import select
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FAULTS = ("429", "503", "reset", "timeout", "truncate", "short", "invalid", "slow")

# What a proxy in front of a JSON or XML service sends when its backend is down: an HTML page
# whose last tag is left open, so that neither a JSON nor an XML parser accepts it.
INVALID_BODY = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway"


@dataclass
class Logged:
    at: float
    path: str
    query: dict[str, list[str]]
    user_agent: str
    answered: str  # 'ok', a fault name, or '404'
    method: str = "GET"


@dataclass
class FaultPlan:
    """Inject faults at `rate` (0..1), chosen among `kinds`, reproducibly from `seed`."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULTS
    seed: int = 0
    retry_after: int = 1
    slow_seconds: float = 0.5  # 'slow': the answer comes, late (keep it under the client's timeout)
    hold_seconds: float = 30.0  # 'timeout': silent until the client gives up, or this long
    _random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def draw(self) -> str | None:
        return self._random.choice(self.kinds) if self._random.random() < self.rate else None


class ReplayServer:
    """`with ReplayServer() as server: server.route('/ws/2/recording/ID', file)`; `server.url`.

    With `budget`, requests beyond that many are answered 404 (logged 'over budget'), so that a
    client stuck in a loop fails fast instead of hanging a test.
    """

    def __init__(self, faults: FaultPlan | None = None, budget: int | None = None) -> None:
        self.routes: dict[str, list[tuple[dict[str, str | None], bytes, str]]] = {}
        self.faults = faults or FaultPlan()
        self.budget = budget
        self.scripted: dict[str, deque[str]] = {}
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def route(
        self,
        path: str,
        recorded: Path | bytes,
        query: dict[str, str | None] | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Answer GET `path` with a recorded response (a file, or its bytes); with `query`, only
        when those parameters have those values (None: the parameter is absent; others are
        free). The first matching route answers."""
        body = recorded if isinstance(recorded, bytes) else recorded.read_bytes()
        self.routes.setdefault(path, []).append((query or {}, body, content_type))

    def _match(self, path: str, query: dict[str, list[str]]) -> tuple[bytes, str] | None:
        for wanted, body, content_type in self.routes.get(path, []):
            if all(query.get(k) == (None if v is None else [v]) for k, v in wanted.items()):
                return body, content_type
        return None

    def fail_next(self, path: str, *faults: str) -> None:
        """The next requests to `path` get these faults, in order ('ok': a normal answer,
        not a drawn one), before answers as the fault plan draws them."""
        self.scripted.setdefault(path, deque()).extend(faults)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answered(self) -> dict[str, int]:
        """How many requests got each answer ('ok', a fault, '404', 'over budget')."""
        with self._lock:
            counts: dict[str, int] = {}
            for request in self.log:
                counts[request.answered] = counts.get(request.answered, 0) + 1
            return counts

    def _next_fault(self, path: str) -> str | None:
        with self._lock:
            queue = self.scripted.get(path)
            if queue:
                fault = queue.popleft()
                return None if fault == "ok" else fault
            return self.faults.draw()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet test output
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes; without this, Nagle's algorithm and
                # the client's delayed ACK add 40 ms to some answers.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:  # the IA scrape API is a POST with a query string
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                with server._lock:
                    over = server.budget is not None and len(server.log) >= server.budget
                route = None if over else server._match(parts.path, query)
                fault = self._fault(parts.path) if route else None
                answered = "over budget" if over else fault or ("ok" if route else "404")
                with server._lock:
                    server.log.append(
                        Logged(
                            time.monotonic(),
                            parts.path,
                            query,
                            self.headers.get("User-Agent", ""),
                            answered,
                            self.command,
                        )
                    )
                if route is None:
                    self._send(404, b'{"error": "Not Found"}', "application/json")
                    return
                body, content_type = route
                if fault in ("429", "503"):
                    self._send(int(fault), b"", "text/plain", retry_after=True)
                elif fault == "reset":
                    # A reset (RST), at once: with linger 0, and closed for real now (the
                    # handler's reader holds the socket open, and on a kept-alive connection
                    # the client would wait for its timeout instead).
                    linger = struct.pack("ii", 1, 0)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    self.close_connection = True
                    self.connection.close()
                    self.rfile.close()
                elif fault == "timeout":
                    self._hold(server.faults.hold_seconds)
                elif fault == "truncate":
                    self._send(200, body, content_type, cut=len(body) // 2)
                elif fault == "short":  # cut, but with a matching length: HTTP-valid
                    self._send(200, body[: len(body) // 2], content_type)
                elif fault == "invalid":
                    self._send(200, INVALID_BODY, content_type)
                else:
                    if fault == "slow":
                        time.sleep(server.faults.slow_seconds)
                    self._send(200, body, content_type)

            def _hold(self, seconds: float) -> None:
                """Say nothing until the client gives up (closes the connection), or for
                `seconds`: a client without a timeout of its own waits all of that."""
                deadline = time.monotonic() + seconds
                while (left := deadline - time.monotonic()) > 0:
                    if select.select([self.connection], [], [], left)[0]:
                        break  # the client closed its end (or, unasked, spoke again)
                self.close_connection = True

            def _fault(self, path: str) -> str | None:
                return server._next_fault(path)

            def _send(
                self,
                status: int,
                body: bytes,
                content_type: str,
                retry_after: bool = False,
                cut: int | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if retry_after:
                    self.send_header("Retry-After", str(server.faults.retry_after))
                self.end_headers()
                self.wfile.write(body if cut is None else body[:cut])
                if cut is not None:
                    self.close_connection = True

        return Handler
