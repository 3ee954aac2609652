"""Resolving a link the way Hugo (and the server behind it) would."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote

from handbook_lint.parsing.facts import REF_KINDS, Link
from handbook_lint.site.index import SiteIndex, Target
from handbook_lint.site.model import MARKDOWN_SUFFIXES, Page
from handbook_lint.site.redirects import Redirect

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# URL schemes Go's html/template writes into an href as they are.
_TEMPLATE_SAFE = frozenset({"http", "https", "mailto"})


@dataclass(slots=True)
class Resolution:
    """Where a link goes: a page, a file, off the site, or nowhere."""

    # ok | broken | external | skip | unsafe (Hugo writes "#ZgotmplZ") | empty (`#`)
    # | unverifiable (into content mounted from a source this checkout lacks, or
    # into another language of the site)
    kind: str
    url: str = ""  # the site path looked up (for messages and stats)
    fragment: str = ""
    page: Page | None = None  # the page the link lands on (None: same page or a file)
    same_page: bool = False
    via_alias: bool = False
    redirect: Redirect | None = None  # served by one of the site's redirects
    # What the link render hook writes for it (None: the destination as written):
    # a found page's URL, "" for a page Hugo does not render.
    href: str | None = None
    why: str = ""  # why an unverifiable link cannot be checked here


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
    """The path of an absolute URL on the site's own `base_url` (over http or
    https, or scheme-relative), else None."""
    if not base_url:
        return None
    host = base_url.split("://", 1)[-1]
    for prefix in (base_url, f"https://{host}", f"http://{host}", f"//{host}"):
        if target == prefix or target.startswith(prefix + "/"):
            return target[len(prefix) :] or "/"
    return None


def resolve(index: SiteIndex, page: Page, link: Link) -> Resolution:
    """Where a link of `page` lands (see `_resolve`); a link that finds nothing but
    points into content mounted from a source this checkout lacks (a submodule
    not checked out, a generated folder) or into another language of the site
    is `unverifiable`, not broken."""
    res = _resolve(index, page, link)
    config = index.site.config
    if res.kind == "broken" and (index.missing or config.languages):
        path = split_target(link.target.strip())[0]
        # The destination as written counts where something looks it up as a
        # page (a ref, a link render hook, maybe a theme's); else only the URL.
        looked_up = (
            link.kind in REF_KINDS
            or (config.link_render_hook and link.kind in ("inline", "reference"))
            or (_is_markdown_path(path) and not config.layouts_known)
        )
        written = (on_site(path, config.base_url) or path) if looked_up else ""
        why = index.unverifiable(page, written, res.url)
        if why is not None:
            return Resolution("unverifiable", url=res.url, fragment=res.fragment, why=why)
    return res


def _resolve(index: SiteIndex, page: Page, link: Link) -> Resolution:
    """Where a link of `page` lands, as Hugo renders it and the browser follows it.

    With a link render hook (Hugo's embedded one, or a site's own built like
    it) a Markdown link's destination is first looked up as a page (Hugo's
    GetPage, relative to the page), then as a resource of the page's bundle or
    of the assets dir; what none of them finds is passed through unchanged.
    Raw HTML links, absolute URLs and passed-through destinations are followed
    as the browser follows them, relative to the page's URL."""
    target = link.target.strip()
    if not target or templated(target):
        return Resolution("skip")
    if link.kind in REF_KINDS:
        return _resolve_ref(index, page, target)
    if target == "#":  # a placeholder: Hugo's hook writes href="" (Go drops the empty fragment)
        return Resolution("empty", url="#", href="" if index.site.config.link_render_hook else "#")
    path = on_site(target, index.site.config.base_url)
    config = index.site.config
    if path is None and is_external(target):
        scheme = target.split(":", 1)[0].lower()
        if (
            config.embedded_link_hook
            and link.kind in ("inline", "reference")
            and not target.startswith("//")
            and scheme not in _TEMPLATE_SAFE
        ):
            # Hugo's embedded hook writes the href with Go's html/template, which
            # replaces a URL of any other scheme with "#ZgotmplZ".
            return Resolution("unsafe", url=target, href="#ZgotmplZ")
        return Resolution("external", url=target)
    if path is not None:  # an absolute URL on the site: the hook leaves it alone
        return _browser(index, page, path)
    path, fragment = split_target(target)
    if not path:
        return Resolution("ok", fragment=fragment, page=page, same_page=True)
    if link.kind == "html":
        return _browser(index, page, target)
    if not index.site.config.link_render_hook:
        # No hook known: a theme's may still look a `.md` path up as a page; with
        # every layout in sight (no theme), Hugo writes it as it is.
        if _is_markdown_path(path) and not index.site.config.layouts_known:
            found = index.get_page(page, unquote(path))
            if found is None:
                return Resolution("broken", url=path, fragment=fragment)
            return _landed(found, fragment, found.url)
        return _browser(index, page, target)
    lookup = unquote(path).removeprefix("./")  # as the embedded hook does
    found = index.get_page(page, lookup)
    if found is not None:
        res = _landed(found, fragment, found.url)
        res.href = ("" if found.snippet else found.url) + (f"#{fragment}" if fragment else "")
        return res
    if index.resource(page, lookup):
        return Resolution("ok", url=path, fragment=fragment)
    if _is_markdown_path(path):  # a .md the hook cannot find stays a .md: a 404
        return Resolution("broken", url=path, fragment=fragment)
    return _browser(index, page, target)


def _browser(index: SiteIndex, page: Page, target: str) -> Resolution:
    """A destination followed as the browser follows it: relative to the page's URL."""
    path, fragment = split_target(target)
    if not path:
        return Resolution("ok", fragment=fragment, page=page, same_page=True)
    url = path if path.startswith("/") else _join_url(page, path)
    hit = index.lookup(url)
    if hit is None:
        if not index.static_available and _looks_like_file(url) and not _is_markdown_path(url):
            return Resolution("skip", url=url)  # no static dir here to check against
        return Resolution("broken", url=_clean(url), fragment=fragment)
    return _from_target(hit, fragment, _clean(url))


def _looks_like_file(url: str) -> bool:
    last = url.rstrip("/").rsplit("/", 1)[-1]
    return "." in last and not last.lower().endswith((".html", ".htm"))


def _is_markdown_path(path: str) -> bool:
    return path.lower().endswith(MARKDOWN_SUFFIXES)


def _resolve_ref(index: SiteIndex, page: Page, target: str) -> Resolution:
    path, fragment = split_target(target)
    if not path:
        return Resolution("ok", fragment=fragment, page=page, same_page=True)
    found = index.get_page(page, path, reflink=True)
    if found is None:
        return Resolution("broken", url=path, fragment=fragment)
    res = _landed(found, fragment, found.url)
    res.href = ("" if found.snippet else found.url) + (f"#{fragment}" if fragment else "")
    return res


def _landed(found: Page, fragment: str, url: str) -> Resolution:
    if found.snippet:
        return Resolution("broken", url=url, fragment=fragment)
    return Resolution("ok", url=url, fragment=fragment, page=found)


def _from_target(hit: Target, fragment: str, url: str) -> Resolution:
    return Resolution(
        "ok",
        url=url,
        fragment=fragment,
        page=hit.page,
        via_alias=hit.via_alias,
        redirect=hit.redirect,
    )


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
