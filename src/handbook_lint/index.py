"""The site index: URL -> page, page -> anchors, alias -> page, static files.

Built once from the page summaries; link checks are dictionary lookups against it.
"""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from handbook_lint.anchors import IdAllocator
from handbook_lint.facts import PageSummary
from handbook_lint.site import Page, Site, normalize_url
from handbook_lint.suggest import Suggester


@dataclass
class Target:
    """What a link resolved to."""

    page: Page | None = None  # a page (or a section)
    static: str | None = None  # a static file or page resource (site path)
    via_alias: bool = False


@dataclass
class SiteIndex:
    site: Site
    summary: Callable[[str], PageSummary | None]  # of any file, include files too
    urls: dict[str, Page] = field(default_factory=dict)
    aliases: dict[str, Page] = field(default_factory=dict)
    # static files and page resources, as lowercased site paths (served either way)
    files_lower: set[str] = field(default_factory=set)
    static_available: bool = False  # a static dir exists in this checkout
    sections: set[str] = field(default_factory=set)  # URLs Hugo makes without a page file
    by_path: dict[str, Page] = field(default_factory=dict)  # content path -> page
    _anchors: dict[str, frozenset[str]] = field(default_factory=dict)
    _suggestions: dict[str, str | None] = field(default_factory=dict)
    _by_last: dict[str, list[str]] = field(default_factory=dict)
    _last_names: Suggester | None = None
    _anchor_names: dict[str, Suggester] = field(default_factory=dict)
    _by_lower_path: dict[str, Page] | None = None  # by_path with lowercased keys, on demand
    _included: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _includers: dict[str, list[Page]] | None = None
    _keys: dict[str, str] | None = None

    @classmethod
    def build(
        cls,
        site: Site,
        summary: Callable[[str], PageSummary | None],
        files: set[str],
    ) -> SiteIndex:
        """`files`: static files and page resources, as site paths (`/images/x.png`)."""
        index = cls(site, summary)
        index.files_lower = {f.lower() for f in files}
        index.static_available = any((site.root / d).is_dir() for d in site.config.static_dirs)
        prefix = site.content_prefix
        for page in site.pages.values():
            if not site.is_content(page.path):
                continue
            index.by_path[page.path[len(prefix) :]] = page
            if page.snippet:
                continue
            index.urls.setdefault(page.url, page)
            for alias in page.aliases:
                index.aliases.setdefault(alias, page)
        index._add_sections(prefix)
        index._add_taxonomies()
        return index

    def _add_sections(self, prefix: str) -> None:
        """Top-level folders of the content dir are sections even without `_index.md`."""
        tops = {path.split("/", 1)[0] for path in self.by_path if "/" in path}
        for top in tops:
            self.sections.add(self.site.url_of(prefix + top + "/_index.md", {}))
        self.sections.add("/")

    def _add_taxonomies(self) -> None:
        taxonomies = self.site.config.taxonomies
        for name in taxonomies:
            self.sections.add(f"/{name.lower()}/")
        for page in self.site.pages.values():
            if page.summary is None or page.snippet:
                continue
            data = page.summary.meta
            for name in taxonomies:
                terms = data.get(name.lower())
                if isinstance(terms, str):
                    terms = [terms]
                if isinstance(terms, list):
                    for term in terms:
                        if isinstance(term, str):
                            slug = term.strip().lower().replace(" ", "-")
                            self.sections.add(f"/{name.lower()}/{slug}/")

    # -- lookups --------------------------------------------------------------

    def lookup(self, url: str) -> Target | None:
        """A site path (no fragment, no query) -> what Hugo serves there."""
        path = unquote(url)
        candidates = [path]
        if not self.site.config.disable_path_to_lower and path.lower() != path:
            candidates.append(path.lower())
        for candidate in candidates:
            norm = normalize_url(candidate)
            page = self.urls.get(norm)
            if page is not None:
                return Target(page=page)
            page = self.aliases.get(norm)
            if page is not None:
                return Target(page=page, via_alias=True)
            if norm in self.sections:
                return Target()
            file_path = candidate.rstrip("/") if candidate != "/" else candidate
            if file_path.lower() in self.files_lower:
                return Target(static=file_path)
        return None

    def page_by_content_path(self, from_path: str, target: str) -> Page | None:
        """Hugo's GetPage: a content path, relative to the page's folder first
        (unless it starts with `/`), then to the content dir; `.md` optional."""
        prefix = self.site.content_prefix
        clean = target.strip()
        bases = []
        if not clean.startswith("/"):
            inner = from_path[len(prefix) :] if from_path.startswith(prefix) else from_path
            bases.append(posixpath.dirname(inner))
        bases.append("")
        for base in bases:
            joined = posixpath.normpath(posixpath.join(base, clean.lstrip("/")))
            if joined.startswith(".."):
                continue
            joined = "" if joined == "." else joined
            stem = joined[:-3] if joined.endswith(".md") else joined
            # `x/index.md` and `x/_index.md` name the same bundle for Hugo.
            if (
                stem == "index"
                or stem.endswith("/index")
                or stem == "_index"
                or stem.endswith("/_index")
            ):
                stem = stem.rsplit("/", 1)[0] if "/" in stem else ""
            for candidate in (joined, stem + ".md", stem + "/_index.md", stem + "/index.md"):
                page = self.by_path.get(candidate.lstrip("/"))
                if page is not None:
                    return page
            # Case-insensitive, as Hugo's page lookup is.
            lowered = stem.lower()
            lower_paths = self._lower_paths()
            for candidate in (lowered + ".md", lowered + "/_index.md", lowered + "/index.md"):
                page = lower_paths.get(candidate.lstrip("/"))
                if page is not None:
                    return page
        return None

    def _lower_paths(self) -> dict[str, Page]:
        if self._by_lower_path is None:
            self._by_lower_path = {p.lower(): page for p, page in self.by_path.items()}
        return self._by_lower_path

    def included(self, path: str) -> tuple[str, ...]:
        """The files `path` includes, directly or not, each once."""
        found = self._included.get(path)
        if found is None:
            found = self._included[path] = tuple(self.site.walk_includes(path, self.summary))
        return found

    def includers(self, path: str) -> list[Page]:
        """The rendered pages that include `path`, directly or not, in path order."""
        if self._includers is None:
            reverse: dict[str, list[Page]] = {}
            for page in sorted(self.site.pages.values(), key=lambda p: p.path):
                if page.snippet or page.summary is None:
                    continue
                for included in self.included(page.path):
                    reverse.setdefault(included, []).append(page)
            self._includers = reverse
        return self._includers.get(path, [])

    def destinations(self) -> dict[str, str]:
        """Every site path a link can land on, lowercased, -> what is there (a page's
        file, "section" or "file"): two views of a site compare with this."""
        if self._keys is not None:
            return self._keys
        out: dict[str, str] = {}
        self._keys = out
        for url, page in self.urls.items():
            out.setdefault(url.lower(), page.path)
        for url, page in self.aliases.items():
            out.setdefault(url.lower(), page.path)
        for url in self.sections:
            out.setdefault(url.lower(), "section")
        for path in self.files_lower:
            out.setdefault(normalize_url(path), "file")
        return out

    def anchors(self, page: Page) -> frozenset[str]:
        """Anchors of a page: its headings, raw HTML ids, definition terms, and
        those of the files it includes, with ids as Goldmark numbers them in
        the page as rendered."""
        cached = self._anchors.get(page.path)
        if cached is None:
            cached = frozenset(anchor for anchor, _, _ in self.placed_anchors(page))
            self._anchors[page.path] = cached
        return cached

    def placed_anchors(self, page: Page) -> list[tuple[str, int, str | None]]:
        """(anchor, line, file it comes from: None for the page itself), in the
        order the rendered page has them."""
        out: list[tuple[str, int, str | None]] = []
        ids = IdAllocator()

        def walk(path: str, source: str | None, seen: frozenset[str]) -> None:
            summary = self.summary(path)
            if summary is None:
                return
            for kind, value, line in summary.anchor_events:
                if kind == "include":
                    found = self.site.resolve_include(path, value)
                    if found is not None and found not in seen:
                        walk(found, found, seen | {found})
                    continue
                anchor = ids.add(kind, value)
                if anchor is not None:
                    out.append((anchor, line, source))

        walk(page.path, None, frozenset({page.path}))
        return out

    def has_unstable_ids(self, page: Page) -> bool:
        """Some heading id of the page (or of a file it includes) depends on a shortcode."""
        for path in (page.path, *self.included(page.path)):
            summary = self.summary(path)
            if summary is not None and summary.unstable:
                return True
        return False

    def suggest_url(self, url: str) -> str | None:
        """The existing page URL closest to a broken one, when it is close: its
        last segment must be close to an existing one (a long shared prefix
        makes any sibling look close), then the whole URL decides."""
        if url in self._suggestions:
            return self._suggestions[url]
        if self._last_names is None:
            for known in [*self.urls, *self.aliases]:
                self._by_last.setdefault(_last(known), []).append(known)
            self._last_names = Suggester(self._by_last, cutoff=0.8)
        norm = normalize_url(url.lower())
        best: tuple[float, str] | None = None
        whole = difflib.SequenceMatcher(None, "", norm)
        for name in self._last_names.close(_last(norm)):
            for candidate in self._by_last[name]:
                whole.set_seq1(candidate)
                score = whole.ratio()
                if score >= 0.85 and (best is None or score > best[0]):
                    best = (score, candidate)
        result = best[1] if best else None
        self._suggestions[url] = result
        return result

    def suggest_anchor(self, page: Page, fragment: str) -> str | None:
        suggester = self._anchor_names.get(page.path)
        if suggester is None:
            suggester = Suggester(self.anchors(page), cutoff=0.75)
            self._anchor_names[page.path] = suggester
        found = suggester.close(fragment, n=1)
        return found[0] if found else None


def _last(url: str) -> str:
    """The last segment of a URL, without a `.html` or `.md` ending."""
    last = url.strip("/").rsplit("/", 1)[-1]
    for ending in (".html", ".md"):
        last = last.removesuffix(ending)
    return last
