"""The SQLite cache of page facts and run results (`.handbook-lint-cache/`).

Keyed by each file's content hash, the tool version and the parts of the
config that change how a page is parsed, so an unchanged page is never parsed
again. WAL mode and short write transactions let two runs share the file (two
pre-commit hooks, an editor and a terminal) without corrupting it or waiting
long; a corrupt or foreign file, or one found damaged while in use (a bad page,
a lost table), is moved aside and rebuilt, and a location we cannot write to
means running without a cache. Everything stored is plain data
(marshal of tuples), never pickles: loading a cache someone else wrote runs no code.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

SCHEMA = "4"
DB_NAME = "facts.sqlite"
KEEP_RESULTS = 16
PRUNE_EACH_MAX = 200  # files written at once beyond which every row is looked at
TABLES = frozenset({"meta", "files", "facts", "results", "snapshots"})

Warn = Callable[[str], None]
BUSY_SECONDS = 5.0  # how long a write waits for another run's transaction


class _Connection(sqlite3.Connection):
    """A connection that knows the process that opened it (a forked worker must
    never close its parent's), and can be held weakly."""

    pid = 0


# The connections open in this process, closed by `close_all` before the
# process ends at once (one dropped earlier is closed as it is freed).
_OPENED: weakref.WeakSet[_Connection] = weakref.WeakSet()


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode with WAL and a busy timeout: the setup every
    cache file of ours shares, so runs at once neither corrupt nor block it."""
    db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, factory=_Connection)
    db.pid = os.getpid()
    _OPENED.add(db)
    try:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
        # Turning WAL on takes a lock the busy timeout does not wait for: two
        # processes opening a new file at once would see "database is locked".
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                db.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        db.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        db.close()
        raise
    return db


def close_all() -> None:
    """Close every connection this process opened. The last connection to a
    database folds its write-ahead log into it and deletes the log; left open,
    the next run would have to read the log back whole (64 MB after a cold run
    of the 4,500-page handbook) and fold it in itself."""
    pid = os.getpid()
    for db in list(_OPENED):
        if db.pid == pid:
            with contextlib.suppress(sqlite3.Error):
                db.close()


def move_aside(path: Path) -> Path:
    """Move a damaged database (and its -wal / -shm files) to `NAME.corrupt-TIME`."""
    aside = path.with_name(f"{path.name}.corrupt-{time.time_ns()}")
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", f"{aside}{suffix}")
    return aside


class Cache:
    def __init__(self, folder: Path, warn: Warn) -> None:
        self.path = folder / DB_NAME
        self.warn = warn
        self.db: sqlite3.Connection | None = None
        self._inode = 0  # of the file opened: another run may replace it
        try:
            folder.mkdir(parents=True, exist_ok=True)
            ignore = folder / ".gitignore"
            if not ignore.exists():
                # git (and so pre-commit) never sees the cache, configured or not.
                ignore.write_text("# Created by handbook-lint\n*\n", encoding="utf-8")
            self.db = self._open()
        except sqlite3.DatabaseError as exc:
            if not _corrupt(exc) or not self._replace(exc):
                self.disable(f"cannot use the cache at {self.path} ({exc}); running without it")
        except OSError as exc:
            self.disable(
                f"cannot create the cache folder {folder} ({exc.strerror or exc}); "
                "running without a cache"
            )

    def disable(self, message: str) -> None:
        self.warn(message)
        if self.db is not None:
            self.db.close()
        self.db = None

    def _open(self) -> sqlite3.Connection:
        db = connect(self.path)
        try:
            if self._version(db) != SCHEMA:
                self._create(db)
            self._inode = os.stat(self.path).st_ino
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _version(db: sqlite3.Connection) -> str | None:
        """The schema version, None for an empty file; a foreign database raises."""
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return None
        if "meta" not in tables:
            raise sqlite3.DatabaseError("not a handbook-lint cache")
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        version = str(row[0]) if row else None
        missing = sorted(TABLES - tables)
        if version == SCHEMA and missing:
            raise sqlite3.DatabaseError(f"not a handbook-lint cache: no table {missing[0]}")
        return version

    def _create(self, db: sqlite3.Connection) -> None:
        # Under the write lock, look again: another run may have just created it.
        db.execute("BEGIN IMMEDIATE")
        try:
            if self._version(db) == SCHEMA:
                db.execute("COMMIT")
                return
            for table in TABLES:
                db.execute(f"DROP TABLE IF EXISTS {table}")
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute(
                "CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, "
                "ino INTEGER, hash TEXT)"
            )
            db.execute(
                "CREATE TABLE facts (path TEXT, hash TEXT, key TEXT, summary BLOB, facts BLOB, "
                "PRIMARY KEY (path, hash, key))"
            )
            db.execute("CREATE TABLE results (key TEXT PRIMARY KEY, findings BLOB, used REAL)")
            # Every page's summary (but its anchors and links) in one blob, as the
            # last run that parsed saw the site: one read and one decode instead of
            # one per page; and the folders' listings (walk.py), under `folders`.
            db.execute("CREATE TABLE snapshots (key TEXT PRIMARY KEY, summaries BLOB)")
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA,))
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.DatabaseError):
                db.execute("ROLLBACK")
            raise

    def _replace(self, exc: Exception) -> bool:
        """Move a corrupt or foreign file aside and start a new cache."""
        try:
            aside = move_aside(self.path)
            self.db = self._open()
        except (OSError, sqlite3.DatabaseError):
            return False
        self.warn(
            f"the cache at {self.path} was unreadable ({exc}); moved it to {aside.name} "
            "and started a new one"
        )
        return True

    def _repair(self, exc: sqlite3.DatabaseError) -> bool:
        """The file turned out damaged while in use (a bad page, a lost table):
        move it aside and start a new one, so that the next run is warm again.
        True when there is a cache to go on with (empty: this run parses)."""
        if not _corrupt(exc) and "no such table" not in str(exc).lower():
            return False
        if self.db is not None:
            self.db.close()
            self.db = None
        try:
            # One run at a time looks and moves: two runs meeting the same damage
            # at once must not move aside the new file the first one started.
            with open(f"{self.path}.lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if os.stat(self.path).st_ino == self._inode:  # (else another run did it)
                    aside = move_aside(self.path)
                    self.warn(
                        f"the cache at {self.path} is damaged ({exc}); moved it to "
                        f"{aside.name} and started a new one"
                    )
                self.db = self._open()
        except (OSError, sqlite3.DatabaseError) as again:
            self.disable(f"cannot use the cache at {self.path} ({again}); running without it")
            return False
        return True

    # -- reads ----------------------------------------------------------------

    def _query(self, sql: str, args: Iterable[object] = ()) -> list[tuple[Any, ...]]:
        if self.db is None:
            return []
        try:
            return self.db.execute(sql, tuple(args)).fetchall()
        except sqlite3.DatabaseError as exc:
            if not self._repair(exc):
                self.disable(f"cache read failed ({exc}); running without it")
            return []

    def file_states(self) -> dict[str, tuple[int, int, int, str]]:
        """(size, mtime_ns, inode, hash) by path. Not checked here (a third of
        the time): a damaged row's values match no file's stat, or its hash is
        no string, and the file is hashed again (see FactStore._digest)."""
        rows = self._query("SELECT path, size, mtime_ns, ino, hash FROM files")
        return {r[0]: r[1:] for r in rows}

    def summaries(self, key: str) -> dict[tuple[str, str], bytes]:
        rows = self._query("SELECT path, hash, summary FROM facts WHERE key = ?", (key,))
        # (a damaged row is skipped: its file is parsed again)
        return {(str(r[0]), str(r[1])): bytes(r[2]) for r in rows if isinstance(r[2], bytes)}

    def summary(self, path: str, digest: str, key: str) -> bytes | None:
        return self._entry("summary", path, digest, key)

    def facts(self, path: str, digest: str, key: str) -> bytes | None:
        return self._entry("facts", path, digest, key)

    def has_facts(self, path: str, digest: str, key: str) -> bool:
        """Whether one file version's row is there (its blobs not read)."""
        sql = "SELECT 1 FROM facts WHERE path = ? AND hash = ? AND key = ?"
        return bool(self._query(sql, (path, digest, key)))

    def _entry(self, column: str, path: str, digest: str, key: str) -> bytes | None:
        """One blob (`summary` or `facts`) of one file version's row."""
        sql = f"SELECT {column} FROM facts WHERE path = ? AND hash = ? AND key = ?"
        return self._blob(sql, (path, digest, key))

    def snapshot(self, key: str) -> bytes | None:
        return self._blob("SELECT summaries FROM snapshots WHERE key = ?", (key,))

    def result(self, key: str) -> bytes | None:
        return self._blob("SELECT findings FROM results WHERE key = ?", (key,))

    def _blob(self, sql: str, args: tuple[str, ...]) -> bytes | None:
        """The first row's one column, when it is a blob (damage: None)."""
        rows = self._query(sql, args)
        return rows[0][0] if rows and isinstance(rows[0][0], bytes) else None

    # -- writes ---------------------------------------------------------------

    def write(
        self,
        files: list[tuple[str, int, int, int, str]],
        entries: list[tuple[str, str, str, bytes, bytes]],
        result: tuple[str, bytes] | None = None,
        snapshots: Iterable[tuple[str, bytes]] = (),
    ) -> None:
        """One short transaction: file states, new facts, a run result, snapshots
        (each a blob by its key)."""
        snapshots = list(snapshots)
        for retry in (False, True):
            if self.db is None or not (files or entries or result or snapshots):
                return
            try:
                self._write(self.db, files, entries, result, snapshots)
                return
            except sqlite3.DatabaseError as exc:
                if _readonly(exc):
                    self.disable(f"the cache at {self.path} is read-only; running without it")
                elif retry or not self._repair(exc):
                    self.warn(f"could not update the cache ({exc}); results are not affected")
                    return

    def _write(
        self,
        db: sqlite3.Connection,
        files: list[tuple[str, int, int, int, str]],
        entries: list[tuple[str, str, str, bytes, bytes]],
        result: tuple[str, bytes] | None,
        snapshots: list[tuple[str, bytes]],
    ) -> None:
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO snapshots VALUES (?, ?)", snapshots)
            db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", files)
            db.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?, ?)", entries)
            if files or entries:
                # Drop facts of file versions that are no longer on disk: those of
                # the files written now (a look at every row took 12 ms of a run
                # that parsed one page); all of them when many were written.
                paths = {row[0] for row in files} | {row[0] for row in entries}
                orphan = (
                    "NOT EXISTS (SELECT 1 FROM files "
                    "WHERE files.path = facts.path AND files.hash = facts.hash)"
                )
                if len(paths) > PRUNE_EACH_MAX:
                    db.execute(f"DELETE FROM facts WHERE {orphan}")
                else:
                    marks = ", ".join("?" * len(paths))
                    db.execute(f"DELETE FROM facts WHERE path IN ({marks}) AND {orphan}", [*paths])
            if result is not None:
                db.execute(
                    "INSERT OR REPLACE INTO results VALUES (?, ?, ?)",
                    (result[0], result[1], time.time()),
                )
                db.execute(
                    "DELETE FROM results WHERE key NOT IN "
                    "(SELECT key FROM results ORDER BY used DESC LIMIT ?)",
                    (KEEP_RESULTS,),
                )
            db.execute("COMMIT")
        except sqlite3.DatabaseError:
            with contextlib.suppress(sqlite3.DatabaseError):
                db.execute("ROLLBACK")
            raise

    def reopen(self) -> None:
        """A new connection (after fork: SQLite connections must not cross processes)."""
        if self.db is None:
            return
        try:
            self.db = self._open()
        except sqlite3.DatabaseError:
            self.db = None


def _readonly(exc: Exception) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "unable to open" in text


def _corrupt(exc: Exception) -> bool:
    """Damage or a foreign file, as opposed to a busy or read-only cache."""
    text = str(exc).lower()
    return any(
        word in text
        for word in ("not a database", "malformed", "not a handbook-lint cache", "corrupt")
    )
