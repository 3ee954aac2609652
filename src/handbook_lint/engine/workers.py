"""Work spread over worker processes, in chunks, with a progress line."""

from __future__ import annotations

import contextlib
import gc
import math
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from handbook_lint.engine.progress import Progress

T = TypeVar("T")
R = TypeVar("R")


def in_workers(
    work: Callable[[list[T]], R],
    items: Sequence[T],
    chunk: int,
    jobs: int,
    bar: Progress,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    start_method: str = "fork",
) -> Iterator[R]:
    """`work(chunk)` for each `chunk`-sized slice of `items`, in `jobs` processes;
    results come back in order, and the bar counts the items done.

    Workers never outlive the run: each dies with its parent (Linux's
    parent-death signal, or on seeing its parent gone), and when the run stops
    early (Ctrl-C, SIGTERM, an error) they are terminated, not waited for."""
    import multiprocessing  # only when there is work for workers
    from concurrent.futures import ProcessPoolExecutor

    chunks = [list(items[i : i + chunk]) for i in range(0, len(items), chunk)]
    context = multiprocessing.get_context(start_method)
    done = 0
    pool = None
    try:
        # What the parent holds (the site's index, its summaries) is frozen
        # while workers fork from it: their collections then never walk it,
        # which wrote to every object's header and made each worker copy the
        # pages it shares.
        _freeze()
        with signals_held():  # (the workers are forked as the work is queued)
            pool = ProcessPoolExecutor(
                jobs,
                mp_context=context,
                initializer=_start_worker,
                initargs=(os.getpid(), initializer, initargs),
            )
            results = pool.map(work, chunks)
        for part, result in zip(chunks, results, strict=True):
            done += len(part)
            bar.update(done, len(items))
            yield result
    except BaseException:
        if pool is not None:
            stop(pool)
        raise
    finally:
        _thaw()
    pool.shutdown()


_FROZEN = [0]  # pools running (the heap is thawed when the last one ends)


def _freeze() -> None:
    _FROZEN[0] += 1
    gc.freeze()


def _thaw() -> None:
    _FROZEN[0] -= 1
    if _FROZEN[0] == 0:
        gc.unfreeze()


def stop(pool: Any) -> None:
    """End a pool now: its queued work dropped, its processes terminated."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(2)
            if process.is_alive():
                process.kill()


def _start_worker(
    parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]
) -> None:
    """In a new worker: die with the parent, then the caller's own set-up."""
    die_with_parent()
    if os.getppid() != parent:  # (the parent died before the signal was asked for)
        os._exit(1)
    # A worker leaves signals to its parent: SIGINT would print a traceback in
    # every worker, SIGTERM is the parent's to handle (it terminates them).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    release_signals()
    if initializer is not None:
        initializer(*initargs)


_HELD = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM held back while children are forked and recorded.
    One that arrived during `os.fork` would run the run's handler inside the
    fork's at-fork hooks, where the SystemExit it raises is printed as
    "Exception ignored" and lost; one that arrived after the fork but before
    the child was recorded would leave that child to run on. Held, it is
    delivered when the block ends, and the run stops with every child known.
    Each child lets them through itself (release_signals): a worker once it
    has its own handlers, the parse-ahead child at once (the run's handler
    ends a child quietly, entry._stopped), a server's copy once entry.run has
    set the run's."""
    if not hasattr(signal, "pthread_sigmask"):  # (no POSIX signal masks)
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    try:
        # (a signal that came just before is handled in this call, and what it
        # raises leaves through the `finally`: the mask is never left blocked)
        signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def release_signals() -> None:
    """In a child forked under signals_held: Ctrl-C and SIGTERM let through."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (prctl
    PR_SET_PDEATHSIG); elsewhere nothing (the parent terminates its workers)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1


# Whose cgroup's CPU quota counts: this process's, and a server's client's
# (server.py: the run gets the lower of the two).
_SELF = "/proc/self/cgroup"
CGROUP_OF = _SELF


def usable_cpus(cgroup_root: str = "/sys/fs/cgroup", own: str | None = None) -> int:
    """The CPUs this process may use, the default number of jobs: the CPUs it
    may run on (its affinity, `taskset`), and no more than a cgroup's CPU quota
    allows, rounded up (a CI container given 2 CPUs of a 64-core host is told
    64 by os.cpu_count()). At least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # (no affinity outside Linux)
        count = os.cpu_count() or 1
    quotas = [_cgroup_quota(cgroup_root, path) for path in ({own} if own else {_SELF, CGROUP_OF})]
    quota = min((q for q in quotas if q is not None), default=None)
    if quota is not None:
        count = min(count, math.ceil(quota))
    return max(1, count)


def _cgroup_quota(root: str, own: str) -> float | None:
    """The smallest CPU quota (in CPUs) of this process's cgroup and of the
    groups above it, cgroup v2 (`cpu.max`) or v1 (`cpu.cfs_quota_us`); None:
    none. The cgroup file systems are looked for where systemd and container
    runtimes mount them (`root`, not read from /proc/self/mountinfo); a
    container's own group mounted as that root itself counts too. Never raises:
    it only picks a default."""
    try:
        with open(own, encoding="utf-8", errors="surrogateescape") as lines:
            groups = [line.rstrip("\n").split(":", 2) for line in lines]
    except (OSError, ValueError):
        return None
    quotas: list[float] = []
    for group in groups:
        if len(group) != 3:
            continue
        _, controllers, path = group
        if ".." in path.split("/"):  # (a group outside this cgroup namespace: not ours to read)
            continue
        files: tuple[str, str | None]
        if controllers == "":  # v2: one hierarchy
            files, base = ("cpu.max", None), root
        elif "cpu" in controllers.split(","):
            files, base = ("cpu.cfs_quota_us", "cpu.cfs_period_us"), f"{root}/{controllers}"
            if not os.path.isdir(base):
                base = f"{root}/cpu"
        else:
            continue
        for folder in _ancestors(base, path):
            quota = _read_quota(folder, *files)
            if quota is not None:
                quotas.append(quota)
    return min(quotas) if quotas else None


def _ancestors(base: str, path: str) -> list[str]:
    """The cgroup's folder under `base` and each folder above it, to `base`."""
    parts = [p for p in path.split("/") if p]
    return [base + "".join(f"/{p}" for p in parts[:n]) for n in range(len(parts), -1, -1)]


def _read_quota(folder: str, quota_file: str, period_file: str | None) -> float | None:
    try:
        with open(f"{folder}/{quota_file}", encoding="utf-8") as f:
            words = f.read().split()
        if period_file is not None:
            with open(f"{folder}/{period_file}", encoding="utf-8") as f:
                words += f.read().split()
        quota, period = int(words[0]), int(words[1])  # ("max" for none: ValueError)
    except (OSError, ValueError, IndexError):
        return None
    return quota / period if quota > 0 and period > 0 else None
