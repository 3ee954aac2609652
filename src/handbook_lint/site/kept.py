"""A finished site and its index, kept for the runs of views of the site that
place every page as it does (engine/resident.py keeps one per folder a server
holds).

Most edits (prose, a link, a list) leave every page where it was: the same
URLs, aliases, rendering, anchors and includes. A run's view whose files are
the kept ones, or versions of them that `same_place` finds placed alike, and
whose include calls find the same files, and whose disk holds the same static
files and page resources, redirects, assets and mounts, takes the
kept pages (a copy, with its own summaries, for each file it reads otherwise)
and a copy of the kept index, with everything the index computed ahead: it
finishes no site and builds no index. Anything else finishes its own, as a run
of its own does.

What renders also depends on the time (a page dated in the future renders once
that date has passed): a kept site serves no run after the first such date
that was still ahead when it was finished.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from handbook_lint.parsing.facts import PageSummary
from handbook_lint.site.index import SiteIndex, static_available
from handbook_lint.site.model import Page, Site, first_date_ahead

_UNREAD = PageSummary("", {}, [], False, [])  # (a summary no store holds)


def same_place(a: PageSummary | None, b: PageSummary | None) -> bool:
    """Whether two summaries of a file give it the same place in the site: the
    front matter the site reads, the anchors and the includes (the links may
    differ: a page's place does not depend on them)."""
    if a is None or b is None:
        return a is b
    return (
        a.path == b.path
        and _strictly_equal(a.meta, b.meta)
        and a.unstable == b.unstable
        and a.includes == b.includes
        and a.anchor_events == b.anchor_events
    )


def _strictly_equal(a: object, b: object) -> bool:
    """Equal, and of the same types all the way down (`draft: 1` is not
    `draft: true`, although 1 == True: the site says which it read)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return a.keys() == b.keys() and all(_strictly_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list | tuple):
        assert isinstance(b, list | tuple)
        return len(a) == len(b) and all(map(_strictly_equal, a, b))
    return a == b


@dataclass
class KeptSite:
    """A finished site, its index (warm) and what they were made from."""

    site: Site
    index: SiteIndex
    read: list[str]  # the files whose summaries the site was made from, in order
    # of those files, and of any other the index read (in the order read)
    summaries: dict[str, PageSummary | None]
    includes: dict[tuple[str, str], str | None]  # (page, include call) -> the file it found
    files: set[str]  # the static files and page resources the index was given
    until: datetime | None  # the first date, after the site was finished, that it depends on

    @classmethod
    def keep(
        cls,
        site: Site,
        index: SiteIndex,
        read: list[str],
        summary: Callable[[str], PageSummary | None],
        files: set[str],
        finished: datetime,
    ) -> KeptSite:
        """Keep `site` (finished at or after `finished`) and `index`, built from
        the summaries of `read`: those are read whole now (anchor events and
        links, which a snapshot's summaries read when first asked), and the
        index computes what its lookups would."""
        summaries = {path: summary(path) for path in read}

        def asked(path: str) -> PageSummary | None:
            # (and whatever else the index reads: an include no walk lists)
            found = summary(path)
            summaries.setdefault(path, found)
            return found

        index.summary = asked
        try:
            index.warm()
        finally:
            index.summary = summary
        for found in summaries.values():
            if found is not None:
                _ = found.anchor_events, found.links  # (read now, once for every run)
        until = first_date_ahead(site.pages.values(), finished)
        includes = dict(site._includes)  # (the files the include calls found)
        return cls(site, index, list(read), summaries, includes, set(files), until)

    def take(
        self,
        site: Site,
        summary: Callable[[str], PageSummary | None],
        known: dict[str, PageSummary | None],
        read: list[str],
        files: set[str],
    ) -> SiteIndex | None:
        """For `site`, a view of the kept site not finished yet, made from the
        summaries of `read` (in order: `known` holds each, as `summary` gives
        them), with the static files and resources `files`: when it places
        every page as the kept site does, its pages (set on it) and its index;
        else None, and `site` is left as it was."""
        kept = self.site
        if self.until is not None and datetime.now(UTC) >= self.until:
            return None
        if read != self.read or files != self.files:
            return None
        pages: dict[str, Page] = {}
        got = known.get
        for path, was in self.summaries.items():
            found = got(path, _UNREAD)
            if found is was:
                continue
            if found is _UNREAD:
                found = summary(path)
            if not same_place(found, was):
                return None
            page = kept.pages.get(path)
            if page is not None:
                pages[path] = Page(path, page.url, page.aliases, found, page.why, page.built)
        # What the index reads besides the pages.
        index = self.index
        if (
            site.redirects() != index.redirects
            or {f.lower() for f in site.asset_files()} != index.assets_lower
            or static_available(site) != index.static_available
            or site.missing_mounts() != kept.missing_mounts()
            or any(site.resolve_include(*call) != found for call, found in self.includes.items())
        ):
            return None
        site.pages = dict(kept.pages)
        site.pages.update(pages)
        return index.reusing(site, summary, pages)
