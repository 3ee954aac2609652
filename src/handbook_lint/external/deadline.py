"""A deadline for each request, and the end of the pass's time budget.

requests' read timeout bounds each wait for bytes, so a server that sends one
byte a second never times out. Here each request gets a `Watch`: the sockets it
uses are attached to it (by the connection classes in external/policy.py), and
one watchdog thread shuts them down when the request's deadline passes, or at
once when the pass runs out of time. The blocked read then ends, and the
checker tells why from the watch.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator

# The watch of the request this thread is making (None between requests): the
# connection classes attach their sockets to it.
_current = threading.local()

DEADLINE = "deadline"
BUDGET = "budget"


class Watch:
    """One request's sockets, and whether (and why) they were cut off."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired: str | None = None  # DEADLINE or BUDGET once cut off
        self._socks: list[socket.socket] = []  # our copies
        self._fds: set[int] = set()  # the connections' own descriptors, attached
        self._done = False
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        try:
            fd = sock.fileno()
            if fd in self._fds:  # (a new TLS connection comes by twice: raw, then wrapped)
                return
            # A handle of its own on the connection: TLS wraps (and detaches)
            # the socket given here, and shutting down the copy ends the
            # handshake and every read of the wrapped one.
            copy = socket.socket(fileno=os.dup(fd))
        except OSError:
            return
        with self._lock:
            if self._done:
                copy.close()
                return
            self._fds.add(fd)
            self._socks.append(copy)
            if self.expired is not None:
                _shut(copy)

    def expire(self, why: str) -> None:
        with self._lock:
            if self._done or self.expired is not None:
                return
            self.expired = why
            for sock in self._socks:
                _shut(sock)

    def finish(self) -> None:
        """The request is over: its sockets are the pool's again, never touched."""
        with self._lock:
            self._done = True
            for sock in self._socks:
                sock.close()  # (the copy only: the connection stays open)
            self._socks.clear()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def attach(sock: socket.socket | None) -> None:
    """Called by a connection for each socket it connects or reuses."""
    watch: Watch | None = getattr(_current, "watch", None)
    if watch is not None:
        watch.attach(sock)


class Watchdog:
    """Expires watches at their deadlines (one thread, started on first use)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._live: set[Watch] = set()
        self._count = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._out_of_time = False

    @contextlib.contextmanager
    def watching(self, seconds: float) -> Iterator[Watch]:
        """A watch for one request made on this thread, expiring in `seconds`."""
        watch = Watch(time.monotonic() + seconds)
        with self._cond:
            if self._out_of_time:
                watch.expired = BUDGET
            self._live.add(watch)
            heapq.heappush(self._heap, (watch.deadline, next(self._count), watch))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="handbook-lint-deadlines", daemon=True
                )
                self._thread.start()
            self._cond.notify()
        _current.watch = watch
        try:
            yield watch
        finally:
            _current.watch = None
            watch.finish()
            with self._cond:
                self._live.discard(watch)

    def expire_all(self) -> None:
        """The pass is out of time: cut every request off, now and from now on."""
        with self._cond:
            self._out_of_time = True
            live = list(self._live)
        for watch in live:
            watch.expire(BUDGET)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _loop(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    _, _, watch = heapq.heappop(self._heap)
                    if watch in self._live:
                        watch.expire(DEADLINE)
                while self._heap and self._heap[0][2] not in self._live:
                    heapq.heappop(self._heap)  # finished in time
                wait = self._heap[0][0] - now if self._heap else None
                self._cond.wait(wait)
