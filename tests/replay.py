"""A loopback HTTP server that replays real recorded API responses, and can misbehave on purpose.

The harvesters' real clients (musicbrainzngs, internetarchive) are pointed at it, so their
HTTP code runs unchanged. Every request is logged (time, path, query, user agent) so tests can
check rate limits and etiquette. Faults are either scripted for one path (`fail_next`) or drawn
at a seeded rate (`FaultPlan`): 429/503 with Retry-After, connection resets, truncated bodies,
invalid bodies, and slow answers. It binds 127.0.0.1 only and stops with its context manager.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FAULTS = ("429", "503", "reset", "truncate", "short", "invalid", "slow")


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
    slow_seconds: float = 0.5
    _random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def draw(self) -> str | None:
        return self._random.choice(self.kinds) if self._random.random() < self.rate else None


class ReplayServer:
    """`with ReplayServer() as server: server.route('/ws/2/recording/ID', file)`; `server.url`."""

    def __init__(self, faults: FaultPlan | None = None) -> None:
        self.routes: dict[str, list[tuple[dict[str, str | None], bytes, str]]] = {}
        self.faults = faults or FaultPlan()
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
        recorded: Path,
        query: dict[str, str | None] | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Answer GET `path` with a recorded response; with `query`, only when those parameters
        have those values (None: the parameter is absent; others are free). The first
        matching route answers."""
        self.routes.setdefault(path, []).append((query or {}, recorded.read_bytes(), content_type))

    def _match(self, path: str, query: dict[str, list[str]]) -> tuple[bytes, str] | None:
        for wanted, body, content_type in self.routes.get(path, []):
            if all(query.get(k) == (None if v is None else [v]) for k, v in wanted.items()):
                return body, content_type
        return None

    def fail_next(self, path: str, *faults: str) -> None:
        """The next requests to `path` get these faults, in order, before normal answers."""
        self.scripted.setdefault(path, deque()).extend(faults)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self, path: str) -> str | None:
        with self._lock:
            queue = self.scripted.get(path)
            if queue:
                return queue.popleft()
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
                route = server._match(parts.path, query)
                fault = self._fault(parts.path) if route else None
                with server._lock:
                    server.log.append(
                        Logged(
                            time.monotonic(),
                            parts.path,
                            query,
                            self.headers.get("User-Agent", ""),
                            fault or ("ok" if route else "404"),
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
                    self.connection.close()
                elif fault == "truncate":
                    self._send(200, body, content_type, cut=len(body) // 2)
                elif fault == "short":  # cut, but with a matching length: HTTP-valid
                    self._send(200, body[: len(body) // 2], content_type)
                elif fault == "invalid":
                    self._send(200, b"<html>502 Bad Gateway</html>", content_type)
                else:
                    if fault == "slow":
                        time.sleep(server.faults.slow_seconds)
                    self._send(200, body, content_type)

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
