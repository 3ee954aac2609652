"""A progress line on a terminal, for runs longer than about a second."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


def _delay() -> float:
    """Seconds before the line appears (short runs show nothing); tests set it
    to 0. Read when a run starts, not at import (a server's runs: server.py)."""
    return float(os.environ.get("HANDBOOK_LINT_PROGRESS_DELAY", "1.0"))


class Progress:
    def __init__(self, label: str, enabled: bool, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.start = time.monotonic()
        self.delay = _delay()
        self.shown = False
        self._last = 0.0

    def update(self, done: int, total: int, extra: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.delay or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        tail = f" {extra}" if extra else ""
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total}{tail}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 79 + "\r")
            self.stream.flush()
