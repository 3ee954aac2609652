"""`handbook-lint index`: the site model as the linter sees it.

For every file of the site: its URL, aliases, whether Hugo renders it (and if
not, why), its anchors (with the line and file each comes from) and each link
as it renders in the page (the page's own and those of the files it includes)
with where it lands. The whole site as JSON, or one page as text: what a user
asks when a link is reported ("which anchors does this page have?") and what
the tests compare with real Hugo's output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from handbook_lint.parsing.facts import CHECKED_KINDS
from handbook_lint.site.model import Page, matches_any, normalize_url
from handbook_lint.site.resolve import Resolution, resolve

if TYPE_CHECKING:
    from handbook_lint.engine.linter import Linter


def dump(linter: Linter) -> dict[str, Any]:
    """The whole site (its pages, include files and their links), as plain data."""
    pages = [page_data(linter, page) for page in sorted(linter.site.pages.values(), key=_key)]
    config = linter.config
    return {
        "tool": "handbook-lint",
        "site": {
            "root": str(config.root),
            "content_dir": config.content_dir,
            "base_url": config.base_url,
            "include_roots": config.include_roots,
            "content_mounts": [
                {"source": m.source, "target": m.target} for m in config.content_mounts
            ],
            "language": config.language or None,
            "languages": config.languages,
            "url_prefix": config.language_prefix,
            "hugo_config": config.hugo_files,
        },
        "pages": pages,
    }


def _key(page: Page) -> str:
    return page.path


def page_data(linter: Linter, page: Page) -> dict[str, Any]:
    index = linter.index()
    out: dict[str, Any] = {
        "path": page.path,
        "content_path": index.site.inner(page.path),  # in Hugo's content tree (mounts)
        "url": page.url or None,
        "aliases": page.aliases,
        "rendered": not page.snippet,
        "not_rendered": page.why,
    }
    if page.summary is None:
        out["unreadable"] = (linter.store.error(page.path) or ("cannot read file", 1))[0]
        return out
    out["anchors"] = [
        {"id": anchor, "line": line, "from": source}
        for anchor, line, source in index.placed_anchors(page)
    ]
    out["anchors_unstable"] = index.has_unstable_ids(page)
    facts = linter.load(page.path)
    out["shortcodes"] = facts.shortcodes if facts is not None else []
    if page.snippet:
        out["included_by"] = [p.path for p in index.includers(page.path)]
        return out
    active = linter.rules.get("link-anchor-missing")
    skip = list(active.options.get("skip_pages", [])) if active else []
    out["links"] = [
        _link(index, page, link, source, skip)
        for source, facts in _rendered_facts(linter, page)
        for link in facts.links
        if link.kind in CHECKED_KINDS
    ]
    return out


def _rendered_facts(linter: Linter, page: Page) -> list[tuple[str | None, Any]]:
    """The facts of the page and of each file it includes (None: the page's own)."""
    out: list[tuple[str | None, Any]] = []
    facts = linter.load(page.path)
    if facts is not None:
        out.append((None, facts))
    for path in linter.index().included(page.path):
        included = linter.load(path)
        if included is not None:
            out.append((path, included))
    return out


def _link(index: Any, page: Page, link: Any, source: str | None, skip: list[str]) -> dict[str, Any]:
    res = resolve(index, page, link)
    return {
        "line": link.line,
        "column": link.column,
        "from": source,
        "kind": link.kind,
        "target": link.target,
        "href": res.href if res.href is not None else link.target,
        "status": res.kind,
        "url": res.url or (res.page.url if res.same_page and res.page else None),
        "fragment": res.fragment or None,
        "page": res.page.path if res.page is not None else None,
        "anchor": anchor_status(index, res, skip),
    }


def anchor_status(index: Any, res: Resolution, skip: list[str] | None = None) -> str | None:
    """ok | missing | unknown (the page's ids come from shortcodes, or the
    config's `skip_pages` says so) | None (no fragment, or the link does not
    land on a page)."""
    fragment = res.fragment.split(":~:", 1)[0]
    if res.kind != "ok" or not fragment or res.page is None:
        return None
    if skip and matches_any(res.page.url, skip):
        return "unknown"
    anchors = index.anchors(res.page)
    if unquote(fragment) in anchors or fragment in anchors:
        return "ok"
    if index.has_unstable_ids(res.page):
        return "unknown"
    return "missing"


def find(linter: Linter, what: str) -> Page | None:
    """A page by its file (relative to the root or the working directory) or URL."""
    site = linter.site
    if what in site.pages:
        return site.pages[what]
    for page in site.pages.values():
        if what.endswith(page.path) and page.path:
            return page
    target = index_lookup(linter, what)
    return target


def index_lookup(linter: Linter, url: str) -> Page | None:
    base = linter.config.base_url
    if base and url.startswith(base):
        url = url[len(base) :] or "/"
    found = linter.index().lookup(normalize_url(url))
    return found.page if found is not None else None


def describe(linter: Linter, page: Page) -> str:
    """One page as text: where it is served, its anchors and its links."""
    data = page_data(linter, page)
    lines = [f"{page.path}  {page.url or '(no URL)'}"]
    if page.aliases:
        lines.append("aliases: " + ", ".join(page.aliases))
    lines.append("rendered" if not page.snippet else f"not rendered: {page.why}")
    if "unreadable" in data:
        lines.append(f"unreadable: {data['unreadable']}")
        return "\n".join(lines) + "\n"
    if data.get("included_by") is not None:
        lines.append("included by: " + (", ".join(data["included_by"]) or "no page"))
    anchors = data["anchors"]
    lines.append(f"anchors ({len(anchors)}):")
    for anchor in anchors:
        where = f"  ({anchor['from']})" if anchor["from"] else ""
        lines.append(f"  {anchor['line']:>5}  #{anchor['id']}{where}")
    if data["anchors_unstable"]:
        lines.append("  (some heading ids come from shortcodes and cannot be known)")
    links = data.get("links", [])
    if links:
        lines.append(f"links ({len(links)}):")
        for link in links:
            verdict = link["status"]
            if link["anchor"] in ("missing", "unknown"):
                verdict = f"anchor {link['anchor']}"
            lands = link["page"] or link["url"] or ""
            where = f"  ({link['from']})" if link["from"] else ""
            lines.append(
                f"  {link['line']:>5}:{link['column']:<4} {link['target']}  -> {verdict}"
                f"{' ' + lands if lands else ''}{where}"
            )
    return "\n".join(lines) + "\n"
