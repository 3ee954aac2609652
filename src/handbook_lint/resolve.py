"""Resolving a link the way Hugo (and the server behind it) would."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote

from handbook_lint.facts import Link
from handbook_lint.index import SiteIndex, Target
from handbook_lint.site import MARKDOWN_SUFFIXES, Page

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(slots=True)
class Resolution:
    kind: str  # ok | broken | external | skip
    url: str = ""  # the site path looked up (for messages and stats)
    fragment: str = ""
    page: Page | None = None  # the page the link lands on (None: same page or a file)
    same_page: bool = False
    via_alias: bool = False


def split_target(target: str) -> tuple[str, str]:
    """(path with query removed, fragment)."""
    path, _, fragment = target.partition("#")
    path = path.split("?", 1)[0]
    return path, fragment


def templated(target: str) -> bool:
    """A destination built by a template or shortcode: not a URL we can follow."""
    return "{{" in target or "\ue000" in target


def is_external(target: str) -> bool:
    """A destination with a scheme (`https:`, `mailto:`) or a host (`//host/x`)."""
    return target.startswith("//") or bool(_SCHEME_RE.match(target))


def on_site(target: str, base_url: str) -> str | None:
    """The path of an absolute URL on the site's own `base_url`, else None."""
    if base_url and (target == base_url or target.startswith(base_url + "/")):
        return target[len(base_url) :] or "/"
    return None


def resolve(index: SiteIndex, page: Page, link: Link) -> Resolution:
    target = link.target.strip()
    if not target or templated(target):
        return Resolution("skip")
    if link.kind in ("ref", "relref"):
        return _resolve_ref(index, page, target)
    path = on_site(target, index.site.config.base_url)
    if path is not None:
        target = path
    elif is_external(target):
        return Resolution("external", url=target)
    path, fragment = split_target(target)
    if not path:
        return Resolution("ok", fragment=fragment, page=page, same_page=True)
    if not path.startswith("/") and _is_markdown_path(path):
        return _resolve_markdown(index, page, path, fragment)
    if path.startswith("/") and _is_markdown_path(path):
        found = index.page_by_content_path(page.path, path)
        if found is not None:
            return _landed(found, fragment, found.url)
    if index.site.config.link_render_hook:
        # Hugo's link render hook looks the destination up as a page path first.
        found = index.page_by_content_path(page.path, unquote(path).rstrip("/") or "/")
        if found is not None and not found.snippet:
            return _landed(found, fragment, found.url)
    url = path if path.startswith("/") else _join_url(page, path)
    hit = index.lookup(url)
    if hit is None:
        if not index.static_available and _looks_like_file(url):
            return Resolution("skip", url=url)  # no static dir here to check against
        return Resolution("broken", url=_clean(url), fragment=fragment)
    return _from_target(hit, fragment, _clean(url))


def _looks_like_file(url: str) -> bool:
    last = url.rstrip("/").rsplit("/", 1)[-1]
    return "." in last and not last.lower().endswith((".html", ".htm"))


def _is_markdown_path(path: str) -> bool:
    return path.lower().endswith(MARKDOWN_SUFFIXES)


def _by_content_path(
    index: SiteIndex, page: Page, lookup: str, fragment: str, shown: str
) -> Resolution:
    """The page at content path `lookup` (relative to the page's file, or from the
    content root), or broken, named `shown` in the message."""
    found = index.page_by_content_path(page.path, lookup)
    if found is None:
        return Resolution("broken", url=shown, fragment=fragment)
    return _landed(found, fragment, found.url)


def _resolve_markdown(index: SiteIndex, page: Page, path: str, fragment: str) -> Resolution:
    """Hugo's link render hook looks a `.md` destination up as a page, relative to the file."""
    return _by_content_path(index, page, unquote(path), fragment, path)


def _resolve_ref(index: SiteIndex, page: Page, target: str) -> Resolution:
    path, fragment = split_target(target)
    if not path:
        return Resolution("ok", fragment=fragment, page=page, same_page=True)
    return _by_content_path(index, page, path, fragment, path)


def _landed(found: Page, fragment: str, url: str) -> Resolution:
    if found.snippet:
        return Resolution("broken", url=url, fragment=fragment)
    return Resolution("ok", url=url, fragment=fragment, page=found)


def _from_target(hit: Target, fragment: str, url: str) -> Resolution:
    return Resolution("ok", url=url, fragment=fragment, page=hit.page, via_alias=hit.via_alias)


def _join_url(page: Page, path: str) -> str:
    """A relative URL against the page's URL (pages are served as folders)."""
    base = page.url or "/"
    if not base.endswith("/"):
        base = base.rsplit("/", 1)[0] + "/"
    joined = posixpath.normpath(posixpath.join(base, path))
    if path.endswith("/") and not joined.endswith("/"):
        joined += "/"
    return joined


def _clean(url: str) -> str:
    return url if url.startswith("/") else "/" + url
