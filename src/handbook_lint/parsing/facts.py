"""Facts about one page, gathered by a single parse.

Rules read these; they never open files or parse Markdown themselves. Every
line number is 1-based in the source file (front matter lines count); columns
are 1-based, or 0 when unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class FrontMatter:
    """The front matter block of a page."""

    format: str | None  # "yaml", "toml", "json", or None when the page has none
    data: dict[str, Any] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)  # top-level key -> line
    start_line: int = 0  # line of the opening delimiter (0: no front matter)
    end_line: int = 0  # line of the closing delimiter
    error: str | None = None  # parser message when the block does not parse
    error_line: int = 0


@dataclass(slots=True)
class Heading:
    """A heading of the page, and the id Hugo gives it."""

    level: int
    text: str  # plain text of the heading (what a reader sees)
    anchor: str  # the id Hugo gives it ("" when it cannot be known)
    line: int
    explicit: bool = False  # the id came from a {#id} attribute
    unstable: bool = False  # a shortcode inside the heading makes the id unknowable


@dataclass(slots=True)
class Link:
    """A link of the page (or an image, or a ref/relref shortcode)."""

    target: str  # destination as written (entities and escapes resolved)
    line: int
    column: int
    kind: str  # inline | reference | autolink | html | ref | relref | image
    text: str = ""  # link text (plain)
    label: str = ""  # reference label for reference-style links


@dataclass(slots=True)
class Include:
    """A call of an include shortcode."""

    target: str | None  # path argument; None when the call is malformed
    line: int
    column: int
    source: str  # the call as written
    error: str | None = None  # why the call is malformed


@dataclass(slots=True)
class ListItem:
    """One item of a list: its marker and where its content starts."""

    line: int
    indent: int  # columns before the marker
    marker: str  # "1." / "1)" / "-" / "*" / "+"
    number: int | None  # ordered lists only
    delimiter: str  # "." or ")" for ordered lists, the bullet otherwise
    content_column: int  # 0-based column where the item's content starts
    marker_column: int = 0  # 0-based column of the marker (after any `>` of a quote)


@dataclass(slots=True)
class ListBlock:
    """A list and its items."""

    ordered: bool
    line: int
    end_line: int
    depth: int  # 0 for a top-level list, 1 for a list inside an item, ...
    items: list[ListItem] = field(default_factory=list)


@dataclass(slots=True)
class Block:
    """A top-level or nested block, in document order: what sits between lists."""

    kind: str  # paragraph | heading | fence | code | list | html | table | hr | blockquote
    line: int
    end_line: int
    depth: int  # list nesting depth the block sits in
    indent: int  # leading spaces of its first line
    tag: str = ""  # an HTML block's first tag: "details", "/details" (closing), "!--"


@dataclass(slots=True)
class TextSpan:
    """A run of text a reader sees (no code, URLs, HTML or shortcodes)."""

    line: int
    column: int  # 0 when the exact column could not be found
    text: str
    kind: str  # heading | link | prose
    # the first / last word continues across markup (`**P**roduction`)
    glued_before: bool = False
    glued_after: bool = False


@dataclass(slots=True)
class PageFacts:
    """Everything the rules know of one page."""

    path: str  # relative to the site root, with forward slashes
    line_count: int
    front_matter: FrontMatter
    empty: bool = False  # nothing but white space
    headings: list[Heading] = field(default_factory=list)
    # ids Goldmark's registry does not number: raw HTML id= / <a name=>, footnotes
    # (fn:N, fnref:N): (id, line)
    html_anchors: list[tuple[str, int]] = field(default_factory=list)
    # what makes the page's anchors, in document order (see anchors.AnchorEvent)
    anchor_events: list[tuple[str, str, int]] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    # normalised label -> (destination, line)
    ref_definitions: dict[str, tuple[str, int]] = field(default_factory=dict)
    # definitions written whole on one line: label -> the line (what a fix removes)
    single_line_definitions: dict[str, str] = field(default_factory=dict)
    # `[text][label]` whose label has no definition: (label as written, line, column)
    undefined_refs: list[tuple[str, int, int]] = field(default_factory=list)
    texts: list[TextSpan] = field(default_factory=list)
    # inline suppressions: (disable | enable | disable-next-line | disable-file, rules,
    # line, column)
    directives: list[tuple[str, tuple[str, ...], int, int]] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    shortcodes: list[str] = field(default_factory=list)  # names of the shortcodes it calls
    lists: list[ListBlock] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


# Front matter keys the site model reads (URLs, aliases, rendering, taxonomies).
SUMMARY_KEYS = (
    *("url", "slug", "aliases", "headless", "build", "_build", "cascade", "draft"),
    *("date", "publishdate", "pubdate", "published", "expirydate", "unpublishdate"),
)
# Link kinds whose destination is a content path (resolved as Hugo's GetPage).
REF_KINDS = frozenset({"ref", "relref"})
# Links a reader can follow (not shortcode-built URLs): what the link rules check.
# linkify: a bare URL that Goldmark's linkify turns into a link.
CHECKED_KINDS = frozenset(
    {"inline", "reference", "autolink", "linkify", "html", "image", "ref", "relref"}
)


@dataclass(slots=True)
class PageSummary:
    """What the whole-site index needs of a page: small, so every page's summary
    can come from the cache at once when only a few pages changed."""

    path: str
    meta: dict[str, Any]  # front matter subset: SUMMARY_KEYS and taxonomy keys, lowercased
    # what makes its anchors (heading and term ids, raw HTML ids, includes), in
    # document order: the site index replays them with the included files'
    anchor_events: list[tuple[str, str, int]]
    unstable: bool  # a heading id depends on a shortcode
    includes: list[str]  # include targets of valid calls
    # Where the page links, each destination once: the part before `?`, and the
    # fragment; `ref:` first for ref/relref. What a change can break, and who
    # links to a page's anchors, are found from these without loading every page.
    links: list[str] = field(default_factory=list)


def summarize(facts: PageFacts, taxonomies: tuple[str, ...] = ()) -> PageSummary:
    # Hugo reads front matter keys case-insensitively (`Title:` is the title).
    data = {str(k).lower(): v for k, v in reversed(facts.front_matter.data.items())}
    keys = (*SUMMARY_KEYS, *(t.lower() for t in taxonomies))
    return PageSummary(
        path=facts.path,
        meta={k: data[k] for k in keys if k in data},
        anchor_events=facts.anchor_events,
        unstable=any(h.unstable for h in facts.headings),
        includes=[i.target for i in facts.includes if i.target and not i.error],
        links=link_keys(facts.links),
    )


def link_keys(links: list[Link]) -> list[str]:
    out: dict[str, None] = {}
    for link in links:
        if link.kind not in CHECKED_KINDS:
            continue
        path, hash_, fragment = link.target.strip().partition("#")
        key = ("ref:" if link.kind in REF_KINDS else "") + path.split("?", 1)[0] + hash_ + fragment
        out[key] = None
    return list(out)
