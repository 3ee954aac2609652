"""Work spread over worker processes, in chunks, with a progress line."""

from __future__ import annotations

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
    results come back in order, and the bar counts the items done."""
    import multiprocessing  # only when there is work for workers
    from concurrent.futures import ProcessPoolExecutor

    chunks = [list(items[i : i + chunk]) for i in range(0, len(items), chunk)]
    context = multiprocessing.get_context(start_method)
    done = 0
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=initializer, initargs=initargs
    ) as pool:
        for part, result in zip(chunks, pool.map(work, chunks), strict=True):
            done += len(part)
            bar.update(done, len(items))
            yield result
