"""The external-link pass of a run: collect the URLs of the linted pages, check
each once (handbook_lint.external.scheduler), and say once when the network is down."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from handbook_lint.engine.progress import Progress
from handbook_lint.external.settings import (
    RATE_LIMITED,
    SKIPPED,
    UNCHECKED,
    UNREACHABLE,
    ExternalSettings,
)
from handbook_lint.external.urls import external_links
from handbook_lint.parsing.facts import PageFacts

if TYPE_CHECKING:
    from handbook_lint.external.results import ExternalResult

CACHE_FILE = "external-links.sqlite"
OFFLINE_WARNING = (
    "external links were not checked: no host could be reached (is this machine offline?); "
    "no link is reported as broken for it"
)


def collect_urls(facts: Iterable[PageFacts | None], base_url: str) -> list[str]:
    """Distinct external URLs, in the order the pages link them."""
    seen: dict[str, None] = {}
    for page in facts:
        if page is None:
            continue
        for _, url in external_links(page, base_url):
            seen.setdefault(url, None)
    return list(seen)


# Verdicts that say nothing about whether the link works.
UNDECIDED = frozenset({UNREACHABLE, RATE_LIMITED, SKIPPED, UNCHECKED})


def undecided_lines(
    facts: PageFacts, base_url: str, results: Mapping[str, ExternalResult] | None
) -> set[int]:
    """Lines holding an external link whose state this run does not know: all of
    them when links were not checked (`results` is None)."""
    return {
        link.line
        for link, url in external_links(facts, base_url)
        if results is None or (r := results.get(url)) is None or r.status in UNDECIDED
    }


def check_external(
    urls: list[str],
    settings: ExternalSettings,
    cache_dir: Path | None,
    progress: bool,
    warn: Callable[[str], None],
) -> dict[str, ExternalResult]:
    """URL -> ExternalResult; warns once when no host at all could be reached."""
    from handbook_lint.external.scheduler import check_urls  # requests only when needed

    if not urls:
        return {}
    bar = Progress("external links", progress)

    def show(done: int, total: int, failures: int) -> None:
        bar.update(done, total, f"{failures} failed" if failures else "")

    cache_path = cache_dir / CACHE_FILE if cache_dir is not None else None
    try:
        results = check_urls(urls, settings, cache_path, show, warn)
    finally:
        bar.close()
    if any(r.status == UNREACHABLE for r in results.values()):
        warn(OFFLINE_WARNING)
    for message in unchecked_warnings(results.values(), settings):
        warn(message)
    return results


def unchecked_warnings(results: Iterable[ExternalResult], settings: ExternalSettings) -> list[str]:
    """One warning per host that was given up (named by the detail: after a
    redirect it is not the link's own host), and one for the time budget: the
    links left unchecked, never reported as findings."""
    why: dict[str, int] = {}
    for result in results:
        if result.status == UNCHECKED:
            reason = result.detail.removeprefix("not checked: ")
            why[reason] = why.get(reason, 0) + 1
    messages = []
    for reason, count in why.items():
        if "ran out of time" in reason:
            budget = f"{settings.time_budget:g}"
            reason = f"the external pass used its time budget (external.time_budget: {budget} s)"
        messages.append(f"{_links(count)} not checked: {reason}")
    return messages


def _links(count: int) -> str:
    return f"{count} external link{'s' if count != 1 else ''}"
