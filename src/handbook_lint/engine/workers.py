"""Work spread over worker processes, in chunks, with a progress line."""

from __future__ import annotations

import contextlib
import gc
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
        pool = ProcessPoolExecutor(
            jobs,
            mp_context=context,
            initializer=_start_worker,
            initargs=(os.getpid(), initializer, initargs),
        )
        for part, result in zip(chunks, pool.map(work, chunks), strict=True):
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
    if initializer is not None:
        initializer(*initargs)


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (prctl
    PR_SET_PDEATHSIG); elsewhere nothing (the parent terminates its workers)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
