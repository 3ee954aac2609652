"""Pages parsed ahead, on the other cores, while the run finds the site.

A short run (the pages named on the command line, the pre-commit hook's
commit) parses a few pages, and before it can it lists the site's folders,
hashes every file and reads the cache's snapshot. Those few pages do not wait
for that: a forked child parses them at once (importing markdown-it-py on the
way) and hands the results back through a pipe, as a worker would. A commit's
versions before it are a second lane: after the import the child forks once
more, so that a big page and its version before are parsed at once.

The run takes a page's result only for the very bytes it means to parse: a
file's result when its hash is the one the run found, a version from git's when
the child was given those bytes. Anything else (the file changed, the child
failed, or its lane is still busy with pages before it) is parsed in the run,
as without this. The child dies with the run: it is killed when the run ends or
stops, and Linux kills it (and its own child with it) if the run is killed."""

from __future__ import annotations

import contextlib
import marshal
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handbook_lint.cache.store import Parsed
    from handbook_lint.parsing.markdown import ParseSettings

# At most this many pages are parsed ahead (a run that parses more has its
# worker processes for them).
AHEAD_MAX = 32
PIPE_SIZE = 1 << 20  # (Linux's limit for a pipe an unprivileged process sizes)
END_SECONDS = 0.2  # how long a child asked to end has before it is killed

Items = list[tuple[str, bytes | None]]  # (path, bytes from git or None: the file on disk)

_RUNNING: list[Ahead] = []  # children not yet reaped (stopped when the run ends)


class _Lane:
    """One pipe's items, parsed in their order, each result written when done."""

    def __init__(self, fd: int, items: list[tuple[str, str | None]]) -> None:
        self.fd = fd
        self.poll = select.poll()
        self.poll.register(fd, select.POLLIN)
        self.items = items  # (path, the hash of its bytes when given them)
        self.done = 0  # results read (the lane's turn is the next item)
        self.results: dict[tuple[str, str | None], Parsed] = {}

    def index(self, path: str, digest: str, from_git: bool) -> int | None:
        """Which item would be `path` with that hash: one given those very bytes,
        else (not `from_git`) the file on disk."""
        on_disk = None
        for index, (item, known) in enumerate(self.items):
            if item == path and known == digest:
                return index
            if item == path and known is None and on_disk is None and not from_git:
                on_disk = index
        return on_disk

    def read(self, wait: bool) -> None:
        """The results written since (one at least when `wait`, else only those
        there are): each a length and a marshalled result. At the end, or on
        garbage (a child that failed), the pipe is closed: the run parses what
        it did not get."""
        while self.fd >= 0 and (wait or self.poll.poll(0)):
            wait = False
            size = self._bytes(8)
            body = self._bytes(int.from_bytes(size, "little")) if size is not None else None
            try:
                row = marshal.loads(body) if body is not None else None
            except Exception:  # (garbage: a child that failed half-way)
                row = None
            if not isinstance(row, tuple) or len(row) != 5:
                self.close()
                return
            self.results[(row[0], row[4])] = row
            self.done += 1
            if self.done == len(self.items):
                self.close()

    def _bytes(self, size: int) -> bytes | None:
        """Exactly `size` bytes from the pipe, or None (it ended before)."""
        chunks: list[bytes] = []
        while size > 0:
            try:
                chunk = os.read(self.fd, min(size, 1 << 20))
            except OSError:
                return None
            if not chunk:
                return None
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1


class Ahead:
    """A child parsing a short run's pages, and in a lane of its own a commit's
    versions before it. The run waits only for the item a lane is parsing: one
    whose turn has not come (the lane is busy with those before it) the run
    parses itself."""

    def __init__(self, pid: int, lanes: list[_Lane]) -> None:
        self._owner = os.getpid()  # (a check worker forked from the run holds a copy)
        self._pid = pid
        self._lanes = lanes
        self._paths = {path for lane in lanes for path, _ in lane.items}
        # the pages it parses as they are on disk
        self.on_disk = {path for lane in lanes for path, known in lane.items if known is None}

    @classmethod
    def start(
        cls,
        root: Path,
        settings: ParseSettings,
        taxonomies: tuple[str, ...],
        items: Items,
        versions: Items | None = None,
    ) -> Ahead | None:
        """The child parsing `items` and (a lane of their own) `versions`, or
        None (nothing to parse, too many, no fork, or threads running: a fork
        copies none of them, but the locks they hold)."""
        from handbook_lint.cache.store import content_hash
        from handbook_lint.engine.workers import signals_held

        groups = [group for group in (items, versions or []) if group]
        if not groups or not hasattr(os, "fork"):  # (how many: FactStore.parse_ahead)
            return None
        if threading.active_count() > 1:
            return None
        import fcntl  # (POSIX, as fork is)

        pipes: list[tuple[int, int]] = []
        try:
            for _ in groups:
                pipes.append(os.pipe())
        except OSError:  # (no file descriptor left: parsed in the run)
            _close(pipes)
            return None
        for _, write_end in pipes:
            with contextlib.suppress(OSError, AttributeError):  # (Linux: room for a big
                fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_SIZE)  # page's result)
        parent = os.getpid()

        def child() -> None:
            with contextlib.suppress(OSError):  # (a group of its own: see _end)
                os.setpgid(0, 0)
            for read_end, _ in pipes:
                os.close(read_end)
            writes = [(group, end) for group, (_, end) in zip(groups, pipes, strict=True)]
            _child(parent, root, settings, taxonomies, writes)

        with signals_held():  # (until the child is in _RUNNING, where the run's end finds it)
            try:
                pid = _fork(child)
            except OSError:
                _close(pipes)
                return None
            try:
                with contextlib.suppress(OSError):
                    os.setpgid(pid, pid)
                lanes = []
                for group, (read_end, write_end) in zip(groups, pipes, strict=True):
                    os.close(write_end)
                    known = [
                        (p, content_hash(data) if data is not None else None) for p, data in group
                    ]
                    lanes.append(_Lane(read_end, known))
                ahead = cls(pid, lanes)
                _RUNNING.append(ahead)
            except BaseException:  # (an error now: the child is not left behind)
                _end(pid)
                _close(pipes)
                raise
        return ahead

    def take(self, path: str, digest: str | None, from_git: bool) -> Parsed | None:
        """The child's result for `path` when the bytes it parsed (the file's,
        or, `from_git`, the very bytes it was given) hash to `digest`; None:
        parse it here (its turn has not come, the child failed, or it parsed
        other bytes)."""
        if path not in self._paths or digest is None or os.getpid() != self._owner:
            return None
        candidates = []
        for lane in self._lanes:
            index = lane.index(path, digest, from_git)
            if index is not None:  # (a lane given those very bytes first)
                candidates.append((lane.items[index][1] is None, lane, index))
        for _, lane, index in sorted(candidates, key=lambda candidate: candidate[0]):
            lane.read(wait=False)
            while True:
                parsed = lane.results.pop((path, digest), None)
                if parsed is not None:
                    return parsed
                if lane.fd < 0 or lane.done != index:
                    break
                lane.read(wait=True)  # (its turn: the lane is parsing it)
        return None

    def stop(self) -> None:
        """End the child (and its own child) if it still runs, and reap it (only
        the run that started it does)."""
        if os.getpid() != self._owner:
            return
        for lane in self._lanes:
            lane.close()
        pid, self._pid = self._pid, 0  # (a signal during _end: not ended twice)
        if pid:
            _end(pid)
        with contextlib.suppress(ValueError):
            _RUNNING.remove(self)


def _end(pid: int) -> None:
    """End a child and reap it: asked first (it ends and reaps its own child,
    which would otherwise be left to init), then, if it has not ended within
    END_SECONDS, killed with its process group (where there is no parent-death
    signal, its own child too)."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + END_SECONDS
    while time.monotonic() < deadline:
        try:
            ended, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # (reaped already)
            return
        if ended:
            return
        time.sleep(0.002)
    for kill in (os.killpg, os.kill):  # (the group; the child, if it has none of its own)
        with contextlib.suppress(OSError):
            kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.waitpid(pid, 0)


def stop_all() -> None:
    """Stop every child still running (the run is over)."""
    for ahead in list(_RUNNING):
        ahead.stop()


def _child(
    parent: int,
    root: Path,
    settings: ParseSettings,
    taxonomies: tuple[str, ...],
    lanes: list[tuple[Items, int]],
) -> None:
    from handbook_lint.engine.workers import die_with_parent, signals_held
    from handbook_lint.parsing.markdown import load_parser

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
    _close_all_but(sorted(fd for _, fd in lanes))  # (the cache's files, the run's pipes)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    second = [0]

    def ended(signum: int, frame: object) -> None:  # (the run's _end)
        if second[0]:
            with contextlib.suppress(OSError):
                os.kill(second[0], signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(second[0], 0)
        os._exit(1)

    signal.signal(signal.SIGTERM, ended)
    load_parser()  # (once, before the second lane forks: it shares the import)
    (items, fd), *more = lanes
    if more:
        me = os.getpid()

        def versions() -> None:  # the versions' lane, dying with this child
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.close(fd)
            die_with_parent()
            if os.getppid() == me:
                _parse_into(*more[0], root, settings, taxonomies)

        with signals_held():
            second[0] = _fork(versions)
        os.close(more[0][1])
    _parse_into(items, fd, root, settings, taxonomies)
    if second[0]:
        os.waitpid(second[0], 0)  # (its death would end the other lane)


def _fork(work: Callable[[], None]) -> int:
    """A process forked to do `work` and end (never back into the caller's
    code, whatever happens): its pid."""
    from handbook_lint.engine.workers import release_signals

    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            release_signals()  # (held by the caller: signals_held)
            work()
            code = 0
        finally:
            os._exit(code)
    return pid


def _close(pipes: list[tuple[int, int]]) -> None:
    """Both ends of each pipe (those closed already are passed over)."""
    for pipe in pipes:
        for end in pipe:
            with contextlib.suppress(OSError):
                os.close(end)


def _close_all_but(keep: list[int]) -> None:
    """Close every descriptor from 3 on but those of `keep` (sorted)."""
    start = 3
    for fd in keep:
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, max(os.sysconf("SC_OPEN_MAX"), start))


def _parse_into(
    items: Items,
    fd: int,
    root: Path,
    settings: ParseSettings,
    taxonomies: tuple[str, ...],
) -> None:
    from handbook_lint.cache.store import parse_file

    for path, data in items:  # (each written when done: see Ahead.take)
        row = marshal.dumps(parse_file(root, path, settings, taxonomies, data))
        payload = memoryview(len(row).to_bytes(8, "little") + row)
        while payload:
            payload = payload[os.write(fd, payload) :]
