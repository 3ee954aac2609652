"""Pages parsed ahead, on a second core, while the run finds the site.

A short run (the pages named on the command line, the pre-commit hook's
commit) parses a few pages, and before it can it lists the site's folders,
hashes every file and reads the cache's snapshot. Those few pages do not wait
for that: a forked process parses them at once (importing markdown-it-py on the
way) and hands the results back through a pipe, as a worker would.

The run takes a page's result only for the very bytes it means to parse: a
file's result when its hash is the one the run found, a version from git's when
the child was given those bytes. Anything else (the file changed, the child
failed or was not done in time) is parsed again in the run, as without this.
The child dies with the run: it is killed when the run ends or stops, and
Linux kills it if the run is killed."""

from __future__ import annotations

import contextlib
import marshal
import os
import select
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handbook_lint.cache.store import Parsed
    from handbook_lint.parsing.markdown import ParseSettings

# At most this many pages are parsed ahead (a run that parses more has its
# worker processes for them).
AHEAD_MAX = 32
PIPE_SIZE = 1 << 20  # (Linux's limit for a pipe an unprivileged process sizes)

_RUNNING: list[Ahead] = []  # children not yet reaped (stopped when the run ends)


class Ahead:
    """A child parsing `items` ((path, bytes from git or None: the file on disk))
    in their order, writing each result when it is done. The run waits only
    for the item the child is parsing: one whose turn has not come (the child
    is busy with those before it) the run parses itself. (A commit's versions
    before it have a child of their own: a big page and its version before
    are parsed at once, one on each core.)"""

    def __init__(self, pid: int, fd: int, items: list[tuple[str, str | None]]) -> None:
        self._owner = os.getpid()  # (a check worker forked from the run holds a copy)
        self._pid = pid
        self._fd = fd
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)
        self._items = items  # (path, the hash of its bytes when given them)
        self._paths = {path for path, _ in items}
        self._done = 0  # items whose result has been read (the child's turn is the next)
        self._results: dict[tuple[str, str | None], Parsed] = {}

    @classmethod
    def start(
        cls,
        root: Path,
        settings: ParseSettings,
        taxonomies: tuple[str, ...],
        items: list[tuple[str, bytes | None]],
    ) -> Ahead | None:
        """The child parsing `items`, or None (nothing to parse, too many, no
        fork, or threads running: a fork copies none of them, but the locks
        they hold)."""
        from handbook_lint.cache.store import content_hash

        if not items or len(items) > AHEAD_MAX or not hasattr(os, "fork"):
            return None
        if threading.active_count() > 1:
            return None
        import fcntl  # (POSIX, as fork is)

        try:
            read_end, write_end = os.pipe()
        except OSError:  # (no file descriptor left: parsed in the run)
            return None
        with contextlib.suppress(OSError, AttributeError):  # (Linux: room for a big page's
            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_SIZE)  # result: no wait to write it)
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return None
        if pid == 0:  # the child: parse, write, end (never back into the run)
            code = 1
            try:
                os.close(read_end)
                _child(parent, root, settings, taxonomies, items, write_end)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        known = [(path, content_hash(data) if data is not None else None) for path, data in items]
        ahead = cls(pid, read_end, known)
        _RUNNING.append(ahead)
        return ahead

    def take(self, path: str, digest: str | None, from_git: bool) -> Parsed | None:
        """The child's result for `path` when the bytes it parsed (the file's,
        or, `from_git`, the very bytes it was given) hash to `digest`; None:
        parse it here (its turn has not come, the child failed, or it parsed
        other bytes)."""
        if path not in self._paths or digest is None or os.getpid() != self._owner:
            return None
        index = self._index(path, digest, from_git)
        if index is None:
            return None
        self._read(wait=False)
        while True:
            parsed = self._results.pop((path, digest), None)
            if parsed is not None or self._fd < 0 or self._done != index:
                return parsed
            self._read(wait=True)  # (its turn: the child is parsing it)

    def _index(self, path: str, digest: str, from_git: bool) -> int | None:
        """Which item would be `path` with that hash: one given those very bytes,
        else (not `from_git`) the file on disk."""
        on_disk = None
        for index, (item, known) in enumerate(self._items):
            if item == path and known == digest:
                return index
            if item == path and known is None and on_disk is None and not from_git:
                on_disk = index
        return on_disk

    def _read(self, wait: bool) -> None:
        """The results the child wrote since (one at least when `wait`, else
        only those there are): each a length and a marshalled result. The child
        ended or wrote garbage: it is stopped, and the run parses what it did
        not get."""
        while self._fd >= 0 and (wait or self._poll.poll(0)):
            wait = False
            size = self._bytes(8)
            body = self._bytes(int.from_bytes(size, "little")) if size is not None else None
            try:
                row = marshal.loads(body) if body is not None else None
            except Exception:  # (garbage: a child that failed half-way)
                row = None
            if not isinstance(row, tuple) or len(row) != 5:
                self.stop()
                return
            self._results[(row[0], row[4])] = row
            self._done += 1
            if self._done == len(self._items):
                self.stop()  # (all read: reaped)

    def _bytes(self, size: int) -> bytes | None:
        """Exactly `size` bytes from the child, or None (it ended before)."""
        chunks: list[bytes] = []
        while size > 0:
            try:
                chunk = os.read(self._fd, min(size, 1 << 20))
            except OSError:
                return None
            if not chunk:
                return None
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def stop(self) -> None:
        """Kill the child if it still runs, and reap it (only the run that
        started it does)."""
        if os.getpid() != self._owner:
            return
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
        if self._pid:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(self._pid, 0)
            self._pid = 0
        with contextlib.suppress(ValueError):
            _RUNNING.remove(self)


def stop_all() -> None:
    """Stop every child still running (the run is over)."""
    for ahead in list(_RUNNING):
        ahead.stop()


def _child(
    parent: int,
    root: Path,
    settings: ParseSettings,
    taxonomies: tuple[str, ...],
    items: list[tuple[str, bytes | None]],
    fd: int,
) -> None:
    from handbook_lint.cache.store import parse_file
    from handbook_lint.engine.workers import die_with_parent

    die_with_parent()
    if os.getppid() != parent:  # (the run ended before the signal was asked for)
        return
    # The run's output is not held open by the child (a job reading it would
    # wait for the child too), and its signals are the run's: Ctrl-C reaches
    # the whole process group, and the run kills this child however it ends.
    devnull = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(devnull, std)
    os.close(devnull)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for path, data in items:  # (each written when done: see Ahead.take)
        row = marshal.dumps(parse_file(root, path, settings, taxonomies, data))
        payload = memoryview(len(row).to_bytes(8, "little") + row)
        while payload:
            payload = payload[os.write(fd, payload) :]
