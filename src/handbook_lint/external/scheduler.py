"""Scheduling and the entry point: `check_urls` hands each worker a URL whose
host has a free slot, so many links to one host do not starve the others."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from handbook_lint.engine.workers import signals_held
from handbook_lint.external.cache import _Cache, _Row
from handbook_lint.external.checker import _OUT_OF_TIME, _Checker, _offline_verdict
from handbook_lint.external.failures import _Outcome
from handbook_lint.external.headers import _normalise_header_rules
from handbook_lint.external.hosts import _host_key, _strip_fragment
from handbook_lint.external.results import (
    _BAD,
    _CACHE_BATCH,
    _CACHE_FLUSH_SECONDS,
    _GOOD,
    _OFFLINE_HOSTS,
    OFFLINE_DETAIL,
    ExternalResult,
)
from handbook_lint.external.settings import (
    BROKEN,
    EXCLUDED,
    UNREACHABLE,
    ExternalSettings,
)

__all__ = ["check_urls"]

GRACE_SECONDS = 2.0  # after the time budget, for requests in flight to be cut off


def _run(
    checker: _Checker,
    urls: list[str],
    on_result: Callable[[str, _Outcome], None],
) -> None:
    """Check `urls` on `settings.jobs` threads, handing a worker a URL only when its
    host has a free slot; `on_result` is called on this thread as results come in."""
    settings = checker.settings
    queues: dict[str, deque[str]] = {}
    for url in urls:
        queues.setdefault(_host_key(url), deque()).append(url)
    # Most-linked hosts first: they are the likeliest to answer, so a run that is
    # online finds out at once, and an offline verdict rests on the big hosts.
    ring = deque(sorted(queues, key=lambda host: -len(queues[host])))
    offline_hosts = min(_OFFLINE_HOSTS, len(queues))
    active = dict.fromkeys(queues, 0)
    cond = threading.Condition()
    finished: list[tuple[str, str, _Outcome]] = []
    running = 0
    remaining = len(urls)
    jobs, per_host = settings.jobs, settings.per_host

    flying: set[tuple[str, str]] = set()  # (host, url) requested, not yet back
    abandoned = False  # out of time and grace: what is still flying is unchecked

    def work(host: str, url: str) -> None:
        outcome = _Outcome(BROKEN, None, "not checked")
        try:
            outcome = checker.check(url)
        finally:  # always report back, or the loop below would wait forever
            with cond:
                if not abandoned:
                    finished.append((host, url, outcome))
                    cond.notify()

    def settle_queued(verdict: Callable[[str], _Outcome]) -> int:
        """Every URL not yet requested gets `verdict` (as if it had run); how many."""
        count = 0
        for host in ring:
            for url in queues[host]:
                finished.append((host, url, verdict(url)))
                active[host] += 1
                count += 1
            queues[host].clear()
        ring.clear()
        return count

    budget = settings.time_budget
    deadline = time.monotonic() + budget if budget > 0 else None
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="handbook-lint-external")
    try:
        while remaining:
            with cond:
                out_of_time = deadline is not None and time.monotonic() >= deadline
                if out_of_time and not checker.out_of_time:
                    # Cut off what is in flight (it comes back unchecked) and
                    # leave the rest unchecked.
                    checker.run_out_of_time()
                    running += settle_queued(lambda url: _OUT_OF_TIME)
                if checker.out_of_time:
                    pass
                elif not checker.offline_suspected(offline_hosts):
                    for _ in range(len(ring)):
                        if running >= jobs or not ring:
                            break
                        host = ring[0]
                        ring.rotate(-1)
                        queue = queues[host]
                        while queue and active[host] < per_host and running < jobs:
                            active[host] += 1
                            running += 1
                            url = queue.popleft()
                            flying.add((host, url))
                            # (a thread the pool starts keeps the mask it starts
                            # with: Ctrl-C and SIGTERM go to the main thread alone,
                            # even to one that outlives the pass while the run
                            # forks its workers, see workers.signals_held)
                            with signals_held():
                                pool.submit(work, host, url)
                        if not queue:
                            ring.remove(host)
                elif running == 0:
                    # Every request so far failed to reach its host, and nothing at
                    # all answered: offline. Do not wait out a DNS timeout per host.
                    running += settle_queued(_offline_verdict)
                while not finished:
                    if deadline is not None:
                        # (after the budget, a grace for requests being cut off:
                        # a DNS lookup or a connect cannot be)
                        end = deadline + (GRACE_SECONDS if checker.out_of_time else 0)
                        left = end - time.monotonic()
                        if left <= 0:
                            break
                        cond.wait(left)
                    else:
                        cond.wait()
                if not finished and checker.out_of_time:
                    abandoned = True  # their threads finish on their own
                    finished.extend((host, url, _OUT_OF_TIME) for host, url in flying)
                if not finished:
                    continue  # out of time: the top of the loop stops the pass
                batch = finished[:]
                finished.clear()
                for host, url, _ in batch:
                    flying.discard((host, url))
                    active[host] -= 1
                    running -= 1
                    remaining -= 1
            for _, url, outcome in batch:
                on_result(url, outcome)
    except BaseException:
        checker.stop.set()  # workers give up at their next attempt or pause
        raise
    finally:
        pool.shutdown(wait=not abandoned, cancel_futures=True)


def check_urls(
    urls: Iterable[str],
    settings: ExternalSettings,
    cache_path: Path | None,
    progress: Callable[[int, int, int], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict[str, ExternalResult]:
    """Check every distinct URL once; return URL -> result (in first-seen order).

    `progress(done, total, failures)` is called on the calling thread as results come
    in (`failures` counts broken and unreachable results so far). Network problems
    never raise: when no host at all could be reached, network-level failures come
    back as "unreachable" and are not cached. Invalid settings raise ValueError
    (ExternalConfigError, naming the key).
    Cache problems go to `warn`, or else are warnings of ExternalCacheWarning.
    """
    patterns = settings.check()
    order = list(dict.fromkeys(urls))
    total = len(order)
    results: dict[str, ExternalResult] = {}
    originals: dict[str, list[tuple[str, str]]] = {}  # checked URL -> [(input, fragment)]
    for url in order:
        pattern = next((p for p in patterns if p.search(url)), None)
        if pattern is not None:
            results[url] = ExternalResult(
                url, EXCLUDED, None, f"matches exclude pattern {pattern.pattern!r}"
            )
            continue
        base, fragment = _strip_fragment(url)
        originals.setdefault(base, []).append((url, fragment))

    done = len(results)
    failures = 0

    def record(key: str, outcome: _Outcome, from_cache: bool) -> None:
        nonlocal done, failures
        for url, fragment in originals[key]:
            new_url = outcome.new_url
            if new_url is not None and fragment and "#" not in new_url:
                new_url = f"{new_url}#{fragment}"
            results[url] = ExternalResult(
                url, outcome.status, outcome.code, outcome.detail, new_url, from_cache
            )
            done += 1
            if outcome.status in (BROKEN, UNREACHABLE):
                failures += 1

    cache = _Cache(cache_path, _profile(settings), warn) if cache_path is not None else None
    checker = _Checker(settings)
    try:
        cached = cache.lookup(list(originals), settings) if cache is not None else {}
        for key, outcome in cached.items():
            record(key, outcome, True)
        if progress is not None:
            progress(done, total, failures)

        fresh: dict[str, _Outcome] = {}
        pending: list[_Row] = []
        last_flush = time.monotonic()

        def on_result(key: str, outcome: _Outcome) -> None:
            nonlocal last_flush
            fresh[key] = outcome
            record(key, outcome, False)
            if (
                cache is not None
                and not outcome.network
                and outcome.cacheable
                and outcome.status in _GOOD | _BAD
            ):
                pending.append(_row(key, outcome))
                now = time.monotonic()
                if len(pending) >= _CACHE_BATCH or now - last_flush >= _CACHE_FLUSH_SECONDS:
                    cache.store(pending)
                    pending.clear()
                    last_flush = now
            if progress is not None:
                progress(done, total, failures)

        try:
            _run(checker, [key for key in originals if key not in cached], on_result)
        finally:
            if cache is not None:
                cache.store(pending)
                pending.clear()

        # Offline: some URL failed at the network level and no host at all could be
        # connected to (results that never touched the network do not count).
        offline = not checker.reached and any(o.network for o in fresh.values())
        for key, outcome in fresh.items():
            if not outcome.network:
                continue
            if offline:
                for url, _ in originals[key]:
                    results[url] = ExternalResult(url, UNREACHABLE, None, OFFLINE_DETAIL)
            else:
                pending.append(_row(key, outcome))
        if cache is not None:
            cache.store(pending)
    finally:
        checker.close()
        if cache is not None:
            cache.close()
    return {url: results[url] for url in order}


def _profile(settings: ExternalSettings) -> str:
    """A digest of the settings that change verdicts: verdicts found under other
    settings are not reused. Header values are left out (they are secrets, and
    the cache must not hold anything derived from them); hosts and names are in."""
    headers = sorted(
        (host, sorted(names)) for host, names in _normalise_header_rules(settings.headers).items()
    )
    key = repr(
        (
            sorted(settings.accept),
            settings.allow_private,
            settings.max_redirects,
            settings.max_retry_after,
            settings.user_agent,
            headers,
        )
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _row(url: str, outcome: _Outcome) -> _Row:
    return (url, outcome.status, outcome.code, outcome.detail, outcome.new_url, time.time())
