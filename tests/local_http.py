"""A local HTTP server for the external-link tests, and offline DNS.

`Server` answers on 127.0.0.1 (or another loopback address) by path, and records
what it saw: requests per path, headers, concurrent requests per Host, bytes sent.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

BIG = 50 * 1024 * 1024


class Server:
    """A test HTTP server with routes by path and a record of what it saw."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()  # path (without query) -> requests
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path, headers)
        self.in_flight: Counter[str] = Counter()  # Host header -> now
        self.max_in_flight: Counter[str] = Counter()  # Host header -> max seen
        self.starts: list[float] = []
        self.big_sent = 0
        self.big_done = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                server.handle(self, "HEAD")

            def do_GET(self) -> None:
                server.handle(self, "GET")

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host = host
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        path = parts.path
        host = h.headers.get("Host", "")
        with self.lock:
            self.hits[path] += 1
            count = self.hits[path]
            self.requests.append((method, path, dict(h.headers.items())))
            self.in_flight[host] += 1
            self.max_in_flight[host] = max(self.max_in_flight[host], self.in_flight[host])
            self.starts.append(time.monotonic())
        left = False

        def leave() -> None:
            # Called just before the answer goes out: once the client has it, it
            # may start its next request before this thread gets to run again.
            nonlocal left
            with self.lock:
                if not left:
                    left = True
                    self.in_flight[host] -= 1

        h.leave = leave  # type: ignore[attr-defined]
        try:
            self.route(h, method, path, parse_qs(parts.query), count)
        finally:
            leave()

    @staticmethod
    def reply(
        h: BaseHTTPRequestHandler,
        code: int,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        method: str = "GET",
    ) -> None:
        getattr(h, "leave", lambda: None)()
        h.send_response(code)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if method == "GET" and body:
            h.wfile.write(body)

    def route(
        self,
        h: BaseHTTPRequestHandler,
        method: str,
        path: str,
        query: dict[str, list[str]],
        count: int,
    ) -> None:
        reply = self.reply
        if path.startswith(("/ok", "/page")):
            reply(h, 200, body=b"hello", method=method)
        elif path == "/chain1":
            reply(h, 301, {"Location": "/chain2"})
        elif path == "/chain2":
            reply(h, 301, {"Location": self.url("/ok/final")})
        elif path == "/perm308":
            reply(h, 308, {"Location": "/ok/308"})
        elif path == "/temp":
            reply(h, 302, {"Location": "/ok/after-302"})
        elif path == "/mixed":  # 301 then 302: not a clean permanent redirect
            reply(h, 301, {"Location": "/temp"})
        elif path == "/to":  # redirect to ?url=
            reply(h, 302, {"Location": query["url"][0]})
        elif path == "/404":
            reply(h, 404)
        elif path == "/410":
            reply(h, 410)
        elif path == "/403":
            reply(h, 403)
        elif path == "/head405":
            reply(h, 405 if method == "HEAD" else 200, method=method)
        elif path == "/429once":
            if count == 1:
                reply(h, 429, {"Retry-After": "1"})
            else:
                reply(h, 200)
        elif path == "/429long":
            reply(h, 429, {"Retry-After": "3600"})
        elif path == "/429always":
            reply(h, 429)
        elif path == "/503":
            reply(h, 503)
        elif path == "/slow":
            time.sleep(1.0)
            reply(h, 200)
        elif path == "/headslow":  # HEAD answers after a second, GET at once
            if method == "HEAD":
                time.sleep(1.0)
            reply(h, 200, method=method)
        elif path == "/drip":  # the head of the answer, a byte every 0.1 s (?every=), forever
            getattr(h, "leave", lambda: None)()
            every = float(query.get("every", ["0.1"])[0])
            try:
                for byte in itertools.cycle(b"HTTP/1.1 200 OK\r\nX-Drip: " + b"d" * 60):
                    h.wfile.write(bytes([byte]))
                    h.wfile.flush()
                    time.sleep(every)
            except OSError:  # the client hung up
                h.close_connection = True
        elif path.startswith("/sleep"):
            time.sleep(0.2)
            reply(h, 200)
        elif path == "/big":
            if method == "HEAD":
                reply(h, 405)
                return
            getattr(h, "leave", lambda: None)()
            h.send_response(200)
            h.send_header("Content-Length", str(BIG))
            h.end_headers()
            chunk = b"x" * 65536
            try:
                while self.big_sent < BIG:
                    h.wfile.write(chunk)
                    self.big_sent += len(chunk)
            except OSError:
                pass
            finally:
                self.big_done.set()
                h.close_connection = True
        elif path == "/loop1":
            reply(h, 301, {"Location": "/loop2"})
        elif path == "/loop2":
            reply(h, 301, {"Location": "/loop1"})
        elif path.startswith("/hop/"):
            n = int(path.rsplit("/", 1)[1])
            reply(h, 301, {"Location": f"/hop/{n + 1}"})
        else:
            reply(h, 500)


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture
def server_b() -> Iterator[Server]:
    """A second host: 127.0.0.2 when it is routed to loopback (Linux), else localhost."""
    try:
        s = Server("127.0.0.2")
    except OSError:
        s = Server("localhost")
    yield s
    s.close()


class Silent:
    """A host that accepts connections and never says a word."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    s = Silent()
    yield s
    s.close()


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names under .invalid fail to resolve at once, without asking a DNS server."""
    real = socket.getaddrinfo

    def fake(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.rstrip(".").endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
