"""The site index: URL -> page, page -> anchors, alias -> page, static files.

Built once from the page summaries; link checks are dictionary lookups against it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from handbook_lint.config.settings import Mount
from handbook_lint.parsing.anchors import IdAllocator
from handbook_lint.parsing.facts import PageSummary
from handbook_lint.site.includes import INCLUDE, expand
from handbook_lint.site.model import MARKDOWN_SUFFIXES, Page, Site, hugo_path, normalize_url
from handbook_lint.site.redirects import Redirect, Redirects
from handbook_lint.site.suggest import Suggester


@dataclass
class Target:
    """What a link resolved to."""

    page: Page | None = None  # a page (or a section)
    via_alias: bool = False
    redirect: Redirect | None = None  # served by a redirect (to `page`, or off the site)


@dataclass
class SiteIndex:
    """Every page, URL, alias and anchor of the site, for the rules to look up."""

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
    _suggestions: dict[str, list[str]] = field(default_factory=dict)
    _by_last: dict[str, list[str]] = field(default_factory=dict)
    _last_names: Suggester | None = None
    _anchor_names: dict[str, Suggester] = field(default_factory=dict)
    _base_paths: dict[str, Page] | None = None  # Hugo's page paths, on demand
    _page_names: dict[str, Page | None] | None = None
    assets_lower: set[str] = field(default_factory=set)  # files of the assets dir
    redirects: Redirects = field(default_factory=lambda: Redirects([]))
    _included: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _keys: dict[str, str] | None = None
    _incoming: dict[str, dict[str, list[str]]] | None = None
    _plain: set[str] | None = None
    _including: dict[str, list[str]] | None = None
    # Content mounted from sources missing in this checkout: (URL prefix, content
    # path prefix, the mount), both lowercased.
    missing: list[tuple[str, str, Mount]] = field(default_factory=list)

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
        index.redirects = site.redirects()
        index.assets_lower = {f.lower() for f in site.asset_files()}
        index.static_available = static_available(site)
        prefix = site.content_prefix
        inner_of, by_path, urls, aliases = site.inner, index.by_path, index.urls, index.aliases
        for page in site.pages.values():
            path = page.path
            inner = inner_of(path)
            if inner is None or not path.endswith(MARKDOWN_SUFFIXES):  # (not is_content)
                continue
            by_path[inner] = page
            if page.snippet:
                continue
            urls.setdefault(page.url, page)
            for alias in page.aliases:
                aliases.setdefault(alias, page)
        index._add_sections(prefix)
        index._add_taxonomies()
        for mount in site.missing_mounts():
            target = mount.target.lower()
            if target.endswith(MARKDOWN_SUFFIXES):
                url = site.url_of(site.content_prefix + mount.target, {}).lower()
                index.missing.append((url, hugo_path(target).lstrip("/"), mount))
            else:
                url = site.url_of(f"{site.content_prefix}{mount.target}/_index.md", {}).lower()
                index.missing.append((url, target + "/", mount))
        return index

    def warm(self) -> None:
        """Compute now what the lookups otherwise compute when first asked, for
        the whole site: for an index kept and copied into many runs (kept.py)."""
        self._names()
        self.destinations()
        self.plain_urls()
        self._url_names()
        for page in self.site.pages.values():
            self.included(page.path)
            if not page.snippet:
                self.anchors(page)
        self.including("")

    def reusing(
        self, site: Site, summary: Callable[[str], PageSummary | None], pages: dict[str, Page]
    ) -> SiteIndex:
        """This index for `site`, a view of the site that differs from this one's
        only in the pages of `pages` (path -> its page in that view, whose URL,
        aliases, rendering, anchors and includes are this one's: kept.py says
        when). It shares what cannot differ, and copies what lookups add to."""
        other = replace(
            self,
            site=site,
            summary=summary,
            urls=dict(self.urls),
            aliases=dict(self.aliases),
            by_path=dict(self.by_path),
            _anchors=dict(self._anchors),
            _suggestions=dict(self._suggestions),
            _anchor_names=dict(self._anchor_names),
            _included=dict(self._included),
            _base_paths=dict(self._base_paths) if self._base_paths is not None else None,
            _page_names=dict(self._page_names) if self._page_names is not None else None,
            _incoming=None,  # (from every page's links, which may differ)
        )
        # Each page of `pages` in place of this index's, under the keys build()
        # and the lookups gave it (whole copies, then a few keys: thousands of
        # entries a run, few pages).
        for path, page in pages.items():
            was = self.site.pages[path]
            inner = site.inner(path)
            keys: list[tuple[dict[str, Any], str]] = [(other.urls, was.url)]
            keys += [(other.aliases, alias) for alias in was.aliases]
            if inner is not None:
                base = hugo_path("/" + inner)
                keys += [(other.by_path, inner), (other._base_paths or {}, base)]
                keys.append((other._page_names or {}, base.rsplit("/", 1)[-1]))
            for found, key in keys:
                if found.get(key) is was:
                    found[key] = page
        return other

    def unverifiable(self, context: Page, written: str, url: str) -> str | None:
        """Why a link that found nothing cannot be verified here, or None: its
        destination (`written`, the path as written, which a render hook looks up
        as a page; `url`, where the browser goes) is in content mounted from a
        source this checkout lacks, or in another language of the site."""
        where = normalize_url(unquote(url).lower()) if url else ""
        config = self.site.config
        if where and config.languages:
            first = where.split("/", 2)[1]
            own = config.language_prefix.strip("/")
            if first in config.languages and first != (own or config.language):
                return f"/{first}/ is the {first} site; this run lints {config.language}"
            root = config.root_language
            if own and root and root != own and not where.startswith(f"/{own}/"):
                return f"{where} is a page of the {root} site; this run lints {own}"
        if not self.missing:
            return None
        written = unquote(written).lower()
        inner = (self.site.inner(context.path) or "").lower()
        paths = {written.lstrip("/").removeprefix("./")} if written else set()
        if written and not written.startswith("/"):
            paths.add(posixpath.normpath(posixpath.join(posixpath.dirname(inner), written)))
        paths = {
            hugo_path(p).lstrip("/") + "/" if p.endswith(MARKDOWN_SUFFIXES) else p for p in paths
        }
        for url_prefix, path_prefix, mount in self.missing:
            if (where and (where + "/").startswith(url_prefix)) or any(
                (p.rstrip("/") + "/").startswith(path_prefix.rstrip("/") + "/") for p in paths
            ):
                return (
                    f"Hugo mounts /{mount.target} from {mount.source}, which this checkout "
                    "does not have"
                )
        return None

    def _add_sections(self, prefix: str) -> None:
        """Top-level folders of the content dir are sections even without `_index.md`."""
        tops = {path.split("/", 1)[0] for path in self.by_path if "/" in path}
        for top in tops:
            self.sections.add(self.site.url_of(prefix + top + "/_index.md", {}))
        self.sections.add("/")
        config = self.site.config
        if config.languages and not config.language_prefix and config.language:
            self.sections.add(f"/{config.language}/")  # Hugo's redirect to the home page

    def _add_taxonomies(self) -> None:
        names = [name.lower() for name in self.site.config.taxonomies]
        sections = self.sections
        for name in names:
            sections.add(f"/{name}/")
        for page in self.site.pages.values():
            if page.summary is None or page.snippet:
                continue
            data = page.summary.meta
            for name in names:
                terms = data.get(name)
                if terms is None:  # (most pages: no terms of most taxonomies)
                    continue
                if isinstance(terms, str):
                    terms = [terms]
                if isinstance(terms, list):
                    for term in terms:
                        if isinstance(term, str):
                            slug = term.strip().lower().replace(" ", "-")
                            sections.add(f"/{name}/{slug}/")

    # -- lookups --------------------------------------------------------------

    def lookup(self, url: str, depth: int = 0) -> Target | None:
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
                return Target()  # a static file or a page resource
        if self.redirects and depth < 5:
            served = self.redirects.find(normalize_url(path.lower()))
            if served is not None:
                redirect, to = served
                if not to.startswith("/"):  # off the site (or a URL): it works
                    return Target(redirect=redirect)
                target = self.lookup(to.split("#", 1)[0].split("?", 1)[0], depth + 1)
                if target is not None:
                    return Target(target.page, redirect=redirect)
        return None

    def get_page(self, context: Page | None, ref: str, reflink: bool = False) -> Page | None:
        """Hugo's page lookup (`.GetPage`, the link render hook's first try, `ref`):
        `hugolib/pagecollections.go` getContentNode and getContentNodeForRef.

        A relative `ref` is looked up from the page's folder (a leaf bundle's
        parent: its section; a `../x.ext` from the bundle itself), then from the
        content root unless it starts with `.`; a ref with an extension (any:
        `x.md`, `x.html`) is also looked up as a file next to the page's file and
        under the content dir; `ref` alone also finds a page by its bare name."""
        ref = ref.rstrip("/")
        in_ref = ref
        if not ref:
            ref = "/"
        had_ext = "." in ref.rsplit("/", 1)[-1]
        if had_ext:
            tries = [ref]
        elif ref == "/":
            tries = ["/_index.md"]
        elif ref.endswith("/index"):
            tries = [ref + "/index.md", ref + ".md"]
        else:
            tries = [ref + ".md"]
        for candidate in tries:
            found = self._page_for_ref(context, reflink, had_ext, in_ref, candidate)
            if found is not None:
                return found
        return None

    def _page_for_ref(
        self, context: Page | None, reflink: bool, had_ext: bool, in_ref: str, ref: str
    ) -> Page | None:
        bases = self._bases()
        inner = (self.site.inner(context.path) or "") if context is not None else ""
        if context is not None and inner and not ref.startswith("/"):
            folder = posixpath.dirname(inner)  # the file's folder
            leaf = posixpath.basename(inner).startswith("index.")
            if leaf and not (had_ext and ref.startswith("../")):
                folder = posixpath.dirname(folder)  # a leaf bundle's container: its section
            found = bases.get(hugo_path(_join("/" + folder, ref)))
            if found is None and had_ext:  # a file next to the page's file
                found = self._by_file(posixpath.dirname(inner), in_ref)
            if found is not None:
                return found
        if ref.startswith("."):
            return None  # page-relative only
        # From the root Hugo parses the path as it is (no cleaning: `a//b` stays).
        found = bases.get(hugo_path(ref if ref.startswith("/") else "/" + ref))
        if found is not None:
            return found
        if had_ext:
            found = self._by_file("", in_ref)
            if found is not None:
                return found
        if (reflink or context is None) and "/" not in in_ref:
            return self._names().get(hugo_path("/" + in_ref).rsplit("/", 1)[-1])
        return None

    def _by_file(self, folder: str, ref: str) -> Page | None:
        """The page whose file is at `ref` from `folder` (inside the content dir)."""
        joined = posixpath.normpath(posixpath.join(folder, ref.lstrip("/")))
        if joined.startswith("../") or joined == "..":
            return None
        found = self.by_path.get(joined)
        return found if found is not None and found.built else None

    def _bases(self) -> dict[str, Page]:
        """Content page base path (lowercased, no extension, no index file) -> page."""
        if self._base_paths is None:
            out: dict[str, Page] = {}
            for inner, page in self.by_path.items():
                if page.built:  # drafts, future and expired pages are not in Hugo's tree
                    out.setdefault(hugo_path("/" + inner), page)
            self._base_paths = out
        return self._base_paths

    def _names(self) -> dict[str, Page | None]:
        """A page's bare name -> the page (None when two pages share it)."""
        if self._page_names is None:
            out: dict[str, Page | None] = {}
            for base, page in self._bases().items():
                name = base.rsplit("/", 1)[-1]
                out[name] = None if name in out and out[name] is not page else page
            self._page_names = out
        return self._page_names

    def resource(self, context: Page, ref: str) -> bool:
        """`.Resources.Get` of a bundle page, or the global `resources.Get`
        (the assets dir): a file the render hook links to."""
        if not ref or ref.startswith("/"):
            pass
        elif context.path.rsplit("/", 1)[-1].startswith(("index.", "_index.")):
            folder = posixpath.dirname(self.site.inner(context.path) or "")
            if f"/{posixpath.normpath(posixpath.join(folder, ref))}".lower() in self.files_lower:
                return True
        return ref.strip("/").lower() in self.assets_lower

    def included(self, path: str) -> tuple[str, ...]:
        """The files `path` includes, directly or not, each once."""
        found = self._included.get(path)
        if found is None:
            summary = self.summary(path)
            if summary is None or not summary.includes:  # (most pages: no walk to make)
                found = self._included[path] = ()
            else:
                found = self._included[path] = tuple(self.site.walk_includes(path, self.summary))
        return found

    def including(self, path: str) -> list[str]:
        """The files of the site (include files too) that include `path`,
        directly or not, in path order."""
        if self._including is None:
            reverse: dict[str, list[str]] = {}
            for path_of in sorted(self.site.pages):
                for included in self.included(path_of):
                    reverse.setdefault(included, []).append(path_of)
            self._including = reverse
        return self._including.get(path, [])

    def includers(self, path: str) -> list[Page]:
        """The rendered pages that include `path`, directly or not, in path order."""
        pages = self.site.pages
        found = (pages[p] for p in self.including(path))
        return [p for p in found if not p.snippet and p.summary is not None]

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
        for url, redirect in self.redirects.exact.items():
            out.setdefault(url.lower(), f"{redirect.file}:{redirect.target}")
        for redirect in self.redirects.prefixes:
            out.setdefault(redirect.source, f"{redirect.file}:{redirect.target}")
        for url in self.sections:
            out.setdefault(url.lower(), "section")
        for path in self.files_lower:
            out.setdefault(normalize_url(path), "file")
        return out

    def plain_urls(self) -> set[str]:
        """The page URLs that a lookup finds as they are written (no `%` to
        decode, in normal form): most of them."""
        if self._plain is None:
            self._plain = {u for u in self.urls if "%" not in u and normalize_url(u) == u}
        return self._plain

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

        def events(path: str) -> list[tuple[str, Any, int]] | None:
            summary = self.summary(path)
            return None if summary is None else summary.anchor_events

        for step in expand(page.path, events, self.site.resolve_include):
            if step.kind in (INCLUDE, "enter", "cycle"):
                continue
            anchor = ids.add(step.kind, step.value)
            if anchor is not None:
                out.append((anchor, step.line, step.file if step.file != page.path else None))
        return out

    def incoming_fragments(self, page: Page) -> dict[str, list[str]]:
        """Fragments other pages link to on `page` -> the files that link so: for
        pages whose ids depend on shortcodes (only those are looked up)."""
        if self._incoming is None:
            self._incoming = self._scan_incoming()
        return self._incoming.get(page.path, {})

    def _scan_incoming(self) -> dict[str, dict[str, list[str]]]:
        from handbook_lint.parsing.facts import Link  # (facts imports nothing of this module)
        from handbook_lint.site.resolve import resolve

        wanted = {
            p.path for p in self.site.pages.values() if not p.snippet and self.has_unstable_ids(p)
        }
        out: dict[str, dict[str, list[str]]] = {}
        if not wanted:
            return out
        for source in self.site.pages.values():
            if source.summary is None:
                continue
            places = (self.includers(source.path) if source.snippet else None) or [source]
            for key in source.summary.links:
                if "#" not in key or key.startswith("#"):
                    continue
                kind = "ref" if key.startswith("ref:") else "inline"
                link = Link(key.removeprefix("ref:"), 0, 0, kind)
                for place in places:
                    res = resolve(self, place, link)
                    if res.page is not None and res.page.path in wanted and res.fragment:
                        out.setdefault(res.page.path, {}).setdefault(res.fragment, []).append(
                            source.path
                        )
        return out

    def has_unstable_ids(self, page: Page) -> bool:
        """Some heading id of the page (or of a file it includes) depends on a shortcode."""
        for path in (page.path, *self.included(page.path)):
            summary = self.summary(path)
            if summary is not None and summary.unstable:
                return True
        return False

    def suggest_url(self, url: str) -> str | None:
        """The existing page URL closest to a broken one, when it is close."""
        close = self.close_urls(url)
        return close[0] if close else None

    def close_urls(self, url: str) -> list[str]:
        """The existing page URLs close to a broken one, closest first: the last
        segment must be close to an existing one (a long shared prefix makes any
        sibling look close), then the whole URL decides."""
        if url in self._suggestions:
            return self._suggestions[url]
        names = self._url_names()
        norm = normalize_url(url.lower())
        scored: dict[str, float] = {}
        for name in names.close(_last(norm)):
            for candidate in self._by_last[name]:
                score = names.score(candidate, norm)
                if score >= 0.85:
                    scored[candidate] = score
        # Best first; a tie goes to the URL met first, as before.
        result = sorted(scored, key=lambda c: -scored[c])
        self._suggestions[url] = result
        return result

    def _url_names(self) -> Suggester:
        """The last segments of every page URL and alias, to suggest from."""
        if self._last_names is None:
            by_last = self._by_last
            for known in [*self.urls, *self.aliases]:
                by_last.setdefault(_last(known), []).append(known)
            self._last_names = Suggester(self._by_last, cutoff=0.8)
        return self._last_names

    def suggest_anchor(self, page: Page, fragment: str) -> str | None:
        close = self.close_anchors(page, fragment)
        return close[0] if close else None

    def close_anchors(self, page: Page, fragment: str) -> list[str]:
        """The page's anchors close to a missing one (at most two: enough to know
        whether the closest is the only one), closest first."""
        suggester = self._anchor_names.get(page.path)
        if suggester is None:
            suggester = Suggester(self.anchors(page), cutoff=0.75)
            self._anchor_names[page.path] = suggester
        return suggester.close(fragment, n=2)


def static_available(site: Site) -> bool:
    """Whether a static dir of the site exists in this checkout."""
    static = [*site.config.static_dirs, *(s for s, _ in site.config.static_mounts)]
    return any((site.root / d).is_dir() for d in static)


def _last(url: str) -> str:
    """The last segment of a URL, without a `.html` or `.md` ending."""
    last = url.strip("/").rsplit("/", 1)[-1]
    if last.endswith((".html", ".md")):  # (few do: every URL of a site is asked)
        for ending in (".html", ".md"):
            last = last.removesuffix(ending)
    return last


def _join(base: str, ref: str) -> str:
    """Go's path.Join: clean, and `..` above the root stays at the root."""
    joined = posixpath.normpath(posixpath.join(base, ref))
    while joined.startswith("/.."):
        joined = joined[3:] or "/"
    return joined if joined.startswith("/") else "/" + joined
