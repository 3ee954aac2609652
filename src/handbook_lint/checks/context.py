"""What a rule may ask about the site: facts, never files' contents (a page rule
its page's, a site rule names and sizes, a change rule both views)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handbook_lint.parsing.facts import Heading, PageFacts
from handbook_lint.site.includes import INCLUDE, Event, expand
from handbook_lint.site.model import Page, Site

if TYPE_CHECKING:
    from handbook_lint.engine.git import SiteChanges
    from handbook_lint.external.results import ExternalResult
    from handbook_lint.site.index import SiteIndex

FactsLoader = Callable[[str], PageFacts | None]


@dataclass(slots=True)
class PlacedHeading:
    """A heading as it appears in the rendered page: from the page or an include."""

    heading: Heading
    line: int  # line in the page: the heading's own, or the include call's
    via: str | None  # the included file it comes from, None for the page's own


class PageContext:
    def __init__(
        self,
        site: Site,
        page: Page,
        facts: PageFacts,
        load: FactsLoader,
        index: Callable[[], SiteIndex],
        external: Mapping[str, ExternalResult] | None = None,
    ) -> None:
        self.site = site
        self.page = page
        self.facts = facts
        self._load = load
        self._index = index
        # URL -> verdict of this run's external link check (None: not checked)
        self.external = external
        # Derived facts of this page that several rules use, computed once.
        self.shared: dict[str, Any] = {}

    @property
    def index(self) -> SiteIndex:
        """The whole site's index (built once, on first use)."""
        return self._index()

    @property
    def path(self) -> str:
        return self.page.path

    def resolve_include(self, target: str) -> str | None:
        return self.site.resolve_include(self.page.path, target)

    def facts_of(self, path: str) -> PageFacts | None:
        return self._load(path)

    def included_facts(self) -> list[PageFacts]:
        """Facts of every file the page includes, directly or not (each once)."""
        found: list[PageFacts] | None = self.shared.get("included_facts")
        if found is None:
            loaded = (self._load(path) for path in self.index.included(self.page.path))
            found = self.shared["included_facts"] = [f for f in loaded if f is not None]
        return found

    def placed_headings(self) -> list[PlacedHeading]:
        """The page's headings with those of included files spliced in where the
        include call stands (recursively; a cycle stops the descent)."""

        def events(path: str) -> list[Event] | None:
            facts = self.facts if path == self.page.path else self._load(path)
            if facts is None:
                return None
            found: list[tuple[int, int, Event]] = [
                (h.line, 0, ("heading", h, h.line)) for h in facts.headings
            ]
            found += [
                (inc.line, 1, (INCLUDE, inc.target, inc.line))
                for inc in facts.includes
                if inc.target and not inc.error
            ]
            return [event for _, _, event in sorted(found, key=lambda e: (e[0], e[1]))]

        out: list[PlacedHeading] = []
        for step in expand(self.page.path, events, self.site.resolve_include):
            if step.kind == "heading":
                via = step.chain[1] if len(step.chain) > 1 else None
                out.append(PlacedHeading(step.value, step.call_line or step.line, via))
        return out


class SiteContext:
    """What a rule of the whole site may ask: every file (names and sizes, not
    contents), the CODEOWNERS file, the pages and the index."""

    def __init__(
        self, site: Site, index: Callable[[], SiteIndex], only: frozenset[str] | None = None
    ) -> None:
        self.site = site
        self._index = index
        self.only = only  # the files to look at (a change's), None: every file

    def files(self) -> list[str]:
        """Every file of the site (relative to its root), or those looked at."""
        every = self.site.all_files()
        return every if self.only is None else [p for p in every if p in self.only]

    def sizes(self) -> dict[str, int]:
        """The sizes of the files that are not Markdown (of those looked at)."""
        every = self.site.file_sizes()
        if self.only is None:
            return every
        return {p: every[p] for p in self.only if p in every}

    @property
    def index(self) -> SiteIndex:
        return self._index()


class ChangeContext:
    """What a rule of a change may ask: the site before and after it, and what
    the change did to which file (paths relative to the site root)."""

    def __init__(
        self,
        now: Site,
        before: Site,
        now_index: SiteIndex,
        before_index: SiteIndex,
        changes: SiteChanges,
        load: FactsLoader,
    ) -> None:
        self.now, self.before = now, before
        self.now_index, self.before_index = now_index, before_index
        self.changes = changes
        self.load = load  # facts of a file as it is now
