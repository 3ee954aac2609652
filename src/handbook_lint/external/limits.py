"""Per-host limits: at most `per_host` requests in flight to one host, with an
optional minimum delay between request starts."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator


class _HostLimiter:
    """At most `per_host` requests in flight per host, starts `min_delay` apart, and
    a host-wide pause after the host asked us to slow down."""

    def __init__(self, per_host: int, min_delay: float, stop: threading.Event) -> None:
        self._per_host = per_host
        self._min_delay = min_delay
        self._stop = stop
        self._lock = threading.Lock()
        self._sems: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    def _semaphore(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            sem = self._sems.get(host)
            if sem is None:
                sem = self._sems[host] = threading.BoundedSemaphore(self._per_host)
            return sem

    @contextlib.contextmanager
    def slot(self, host: str) -> Iterator[None]:
        sem = self._semaphore(host)
        sem.acquire()
        try:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start.get(host, 0.0))
                self._next_start[host] = start + self._min_delay
            if start > now:
                self._stop.wait(start - now)
            yield
        finally:
            sem.release()

    def hold_off(self, host: str, seconds: float) -> None:
        with self._lock:
            until = time.monotonic() + seconds
            self._next_start[host] = max(self._next_start.get(host, 0.0), until)
