"""The external-link cache: results carried across runs in SQLite (good ones
for `ok_ttl`, failures for `fail_ttl`), written in batches."""

from __future__ import annotations

import contextlib
import sqlite3
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from handbook_lint.cache.sqlite import connect, move_aside
from handbook_lint.external.failures import _Outcome
from handbook_lint.external.results import _BAD, _GOOD, ExternalCacheWarning
from handbook_lint.external.settings import (
    ExternalSettings,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    url TEXT NOT NULL,
    profile TEXT NOT NULL,
    status TEXT NOT NULL,
    code INTEGER,
    detail TEXT NOT NULL,
    new_url TEXT,
    checked_at REAL NOT NULL,
    PRIMARY KEY (url, profile)
)
"""


_Row = tuple[str, str, int | None, str, str | None, float]


class _Cache:
    """URL -> last verdict, in SQLite (WAL, busy timeout, short transactions)."""

    def __init__(self, path: Path, profile: str, warn: Callable[[str], None] | None) -> None:
        self.path = path
        self.profile = profile  # the settings a verdict depends on (see _profile)
        self.warn = warn
        self.conn: sqlite3.Connection | None = None
        self._recovered = False
        self._open()

    def _warn(self, message: str) -> None:
        if self.warn is not None:
            self.warn(message)
        else:
            warnings.warn(message, ExternalCacheWarning, stacklevel=4)

    def _connect(self) -> sqlite3.Connection:
        conn = connect(self.path)
        try:
            conn.execute(_SCHEMA)
            conn.execute("SELECT url, profile FROM verdicts LIMIT 1").fetchall()
        except BaseException:
            conn.close()
            raise
        return conn

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = self._connect()
        except sqlite3.OperationalError as exc:  # locked, unwritable, ...: leave it be
            self._warn(f"link cache {self.path} not used: {exc}")
        except sqlite3.DatabaseError as exc:  # not a database, or damaged
            self._replace(exc)
        except OSError as exc:
            self._warn(f"link cache {self.path} not used: {exc}")

    def _replace(self, exc: sqlite3.Error) -> None:
        """Move a damaged cache aside and start a new one (once per run)."""
        self.close()
        if self._recovered:
            self._warn(f"link cache {self.path} not used: {exc}")
            return
        self._recovered = True
        try:
            aside = move_aside(self.path)
            self.conn = self._connect()
        except (OSError, sqlite3.Error) as exc2:
            self._warn(
                f"link cache {self.path} is damaged ({exc}) and could not be replaced: {exc2}"
            )
            return
        self._warn(
            f"link cache {self.path} was damaged ({exc}); moved it to {aside.name} "
            "and started a new one"
        )

    def _failed(self, exc: sqlite3.Error, what: str) -> None:
        if isinstance(exc, sqlite3.OperationalError):
            self._warn(f"link cache {self.path}: could not {what}: {exc}")
        else:
            self._replace(exc)

    def lookup(self, urls: list[str], settings: ExternalSettings) -> dict[str, _Outcome]:
        found: dict[str, _Outcome] = {}
        if self.conn is None or not urls:
            return found
        now = time.time()
        try:
            for start in range(0, len(urls), 500):
                chunk = urls[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self.conn.execute(
                    "SELECT url, status, code, detail, new_url, checked_at "
                    f"FROM verdicts WHERE profile = ? AND url IN ({marks})",
                    [self.profile, *chunk],
                ).fetchall()
                for url, status, code, detail, new_url, checked_at in rows:
                    ttl = (
                        settings.ok_ttl
                        if status in _GOOD
                        else settings.fail_ttl
                        if status in _BAD
                        else 0.0
                    )
                    age = now - float(checked_at)
                    if 0 <= age < ttl:
                        found[url] = _Outcome(
                            str(status),
                            int(code) if code is not None else None,
                            str(detail),
                            str(new_url) if new_url is not None else None,
                        )
        except sqlite3.Error as exc:
            self._failed(exc, "read it")
        return found

    def store(self, rows: list[_Row]) -> None:
        if self.conn is None or not rows:
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.executemany(
                    "INSERT OR REPLACE INTO verdicts "
                    "(url, status, code, detail, new_url, checked_at, profile) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(*row, self.profile) for row in rows],
                )
                self.conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            self._failed(exc, f"save {len(rows)} results")

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self.conn.close()
            self.conn = None
