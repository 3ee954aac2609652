"""One parse per page: source text in, PageFacts out.

markdown-it-py parses the body (front matter lines blanked so line numbers stay
true); shortcode calls are masked first, as Hugo replaces them before Markdown.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING

from handbook_lint.parsing import shortcodes
from handbook_lint.parsing.anchors import AnchorEvent, IdAllocator, sanitize
from handbook_lint.parsing.attributes import parse_attributes
from handbook_lint.parsing.facts import (
    Block,
    FrontMatter,
    Heading,
    Include,
    Link,
    ListBlock,
    ListItem,
    PageFacts,
    TextSpan,
)
from handbook_lint.parsing.frontmatter import split_front_matter
from handbook_lint.parsing.headingtext import links_in, plain_text

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

MAX_FILE_BYTES = 5 * 1024 * 1024
INCLUDE_NAMES = frozenset({"include"})
REF_NAMES = frozenset({"ref", "relref"})

_HTML_ID_RE = re.compile(r"""<[A-Za-z][^>]*?\sid\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_HTML_NAME_RE = re.compile(
    r"""<a\s[^>]*?\bname\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE
)
_HTML_HREF_RE = re.compile(
    r"""<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE
)
_DIRECTIVE_RE = re.compile(
    r"<!--\s*handbook-lint-(disable-next-line|disable-file|disable|enable)\b([^>]*?)-->"
)
_BRACKET_REF_RE = re.compile(r"(?<!\\)\[([^\[\]]+)\]\[([^\[\]]*)\]")
_BLOCK_KINDS = {
    "paragraph_open": "paragraph",
    "heading_open": "heading",
    "fence": "fence",
    "code_block": "code",
    "html_block": "html",
    "table_open": "table",
    "hr": "hr",
    "blockquote_open": "blockquote",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "dl_open": "deflist",
}
# The tokens an id may come from: headings, and with definition-term ids, terms
# and the paragraphs Goldmark reads as terms.
_HEADINGS = frozenset({"heading_open"})
_ANCHORED = frozenset({"heading_open", "dt_open", "paragraph_open"})
# Every token type the walker does something with (besides `inline`).
_WALKED = frozenset(
    {
        *_BLOCK_KINDS,
        "blockquote_close",
        "ordered_list_close",
        "bullet_list_close",
        "list_item_open",
        "list_item_close",
        "dt_open",
        "footnote_open",
    }
)


@dataclass(frozen=True, slots=True)
class ParseSettings:
    """What pages are parsed with (part of the cache's key): how the site makes
    heading and term ids, and what the rules want kept."""

    heading_ids: str = "github"  # github | github-ascii | blackfriday
    heading_text: str = "plain"  # plain (Hugo >= 0.144) | source (older Hugo)
    definition_term_ids: bool = False  # Goldmark's autoDefinitionTermID
    prose: bool = False  # keep the text of paragraphs (for prose spelling)
    # Paths (prefixes) of files that are spliced into pages as they are, such as
    # the GitLab handbook's `assets/includes/`: they have no front matter, so a
    # leading `---` is a thematic break, not a front matter block.
    raw_prefixes: tuple[str, ...] = ()
    # Goldmark extensions that change heading ids (Hugo's defaults: both on).
    typographer: bool = True
    linkify: bool = True
    raw_html: bool = True  # Goldmark's renderer.unsafe: raw HTML (its ids, links) is output
    # Shortcodes whose inner content is rendered on its own, with ids of its own
    # (Hugo's embedded `details` renders `.Inner` with RenderString).
    id_scopes: tuple[str, ...] = ("details",)

    @property
    def id_scopes_all(self) -> frozenset[str]:
        return frozenset((*self.id_scopes, *(f"/{name}" for name in self.id_scopes)))


_MD: MarkdownIt | None = None
_MD_PLAIN: MarkdownIt | None = None  # markdown-it-py as it comes (the proof's reference)


def _markdown(full: bool = False) -> MarkdownIt:
    """The parser, made (and markdown-it-py imported: 30 ms) when a page is
    first parsed, not by a run whose pages all come from the cache."""
    global _MD, _MD_PLAIN
    parser = _MD_PLAIN if full else _MD
    if parser is None:
        from handbook_lint.parsing import mdit

        parser = mdit.markdown(fast=not full)
        if full:
            _MD_PLAIN = parser
        else:
            _MD = parser
    return parser


# Why a file is not linted as a page, and the line where it goes wrong (1 when
# it is the whole file).
Unreadable = tuple[str, int]


def read_page(path: Path) -> tuple[str | None, Unreadable | None]:
    """The page's text, or None and the reason it cannot be read as a page."""
    data, error = read_page_bytes(path)
    return decode_page(data) if data is not None else (None, error)


def read_page_bytes(path: Path) -> tuple[bytes | None, Unreadable | None]:
    """The page's bytes, or None and the reason it cannot be read as a page."""
    try:
        data = read_capped(path)
    except NotAFile as exc:
        return None, (str(exc), 1)
    except OSError as exc:
        return None, (f"cannot read file: {exc.strerror or exc}", 1)
    if data is None:
        try:
            return None, (too_big(path.stat().st_size), 1)
        except OSError as exc:
            return None, (f"cannot read file: {exc.strerror or exc}", 1)
    return data, None


class NotAFile(OSError):
    """A path that is not a regular file (a FIFO, a device, a socket)."""


_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def read_capped(path: Path, limit: int = MAX_FILE_BYTES) -> bytes | None:
    """A regular file's bytes, or None past `limit`: never blocks on a FIFO nor
    reads a device (`x.md -> /dev/zero`) without end (NotAFile for those)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # (a socket cannot even be opened: say what it is)
            _refuse(os.stat(path).st_mode)
        raise
    try:
        status = os.fstat(fd)
        _refuse(status.st_mode)
        chunks: list[bytes] = []
        size = 0
        # The first read asks for the size the file has (and a byte more: a file
        # over the cap is known by one read), and the loop ends at an empty
        # read. A read of 1 MiB allocated that much for every page, twice, and
        # reading the handbook's pages took 165 ms where this takes 71.
        want = max(min(status.st_size, limit), 0) + 1
        while True:
            chunk = os.read(fd, want)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            want = 1 << 16  # (a file that grew since its fstat)
    finally:
        os.close(fd)


def _refuse(mode: int) -> None:
    kind = stat.S_IFMT(mode)
    if kind != stat.S_IFREG:
        raise NotAFile(f"not a regular file but {_KINDS.get(kind, 'a special file')}")


def too_big(size: int) -> str:
    return (
        f"file is {size / 1048576:.1f} MB, over the {MAX_FILE_BYTES // 1048576} MB "
        "limit for a page; not linted"
    )


def decode_page(data: bytes) -> tuple[str | None, Unreadable | None]:
    """A page's bytes as text, or None and why they are not a Markdown page."""
    if len(data) > MAX_FILE_BYTES:
        return None, (too_big(len(data)), 1)
    if b"\x00" in data[:8192]:
        return None, ("binary file (NUL bytes), not a Markdown page", 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, (f"not valid UTF-8 (byte 0x{data[exc.start]:02x} on line {line})", line)
    return text.removeprefix("\ufeff"), None


def parse_page(
    text: str, rel_path: str, settings: ParseSettings, *, full: bool = False
) -> PageFacts:
    """The page's facts. `full` parses with markdown-it-py as it comes, without
    the shortcuts of `mdit` (the same facts, more slowly: what proves it)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if settings.raw_prefixes and rel_path.startswith(settings.raw_prefixes):
        front, body_index = FrontMatter(format=None), 0
    else:
        front, body_index = split_front_matter(text)
    line_count = len(lines) - 1 if len(lines) > 1 and lines[-1] == "" else len(lines)
    facts = PageFacts(
        path=rel_path, line_count=line_count, front_matter=front, empty=not text.strip()
    )
    if front.error is not None and body_index >= len(lines):
        return facts
    # Blank the front matter so markdown-it's line numbers are file line numbers.
    body_lines = [""] * body_index + lines[body_index:]
    body = "\n".join(body_lines)
    line_starts = _line_starts(body)
    calls = shortcodes.find_shortcodes(body, line_starts)
    masked = shortcodes.mask(body, calls)
    env: dict[str, object] = {}
    md = _markdown(full)
    if not full and not settings.prose:  # (prose spelling reads every paragraph's text)
        from handbook_lint.parsing.mdit import SKIP_PLAIN

        env[SKIP_PLAIN] = "terms" if settings.definition_term_ids else "plain"
    tokens = md.parse(masked, env)
    _Walker(facts, settings, masked, body, line_starts, calls, tokens).run()
    refs = env.get("references")
    if isinstance(refs, dict):
        facts.ref_definitions = _reference_lines(refs, body_lines)
        facts.single_line_definitions = _single_line(facts.ref_definitions, body_lines)
    facts.undefined_refs = [
        ref for ref in facts.undefined_refs if normalize_label(ref[0]) not in facts.ref_definitions
    ]
    return facts


def _line_starts(text: str) -> list[int]:
    """Where each line starts: 0, then one past each line feed."""
    after = accumulate(map((1).__add__, map(len, text.split("\n"))))  # (all in C)
    return [0, *after][:-1]


_DEFINITION_START = re.compile(r"\[((?:\\.|[^\\\]])*)\]:")


def _reference_lines(refs: dict[str, object], lines: list[str]) -> dict[str, tuple[str, int]]:
    """Each definition's destination and line: the first line that starts (after
    a quote's `>`) with `[label]:`, found through one index of the page's
    definition lines; a label written otherwise (over two lines) by a scan."""
    first: dict[str, int] = {}
    for i, text in enumerate(lines):
        if "]:" in text:
            found = _DEFINITION_START.match(text.lstrip(" >"))
            if found:
                first.setdefault(" ".join(found.group(1).lower().split()), i + 1)
    out: dict[str, tuple[str, int]] = {}
    for label, value in refs.items():
        href = value.get("href", "") if isinstance(value, dict) else ""
        line = first.get(" ".join(label.lower().split()), 0)
        if not line:
            needle = "[" + label.lower()
            for i, text in enumerate(lines):
                stripped = text.lstrip(" >").lower()
                if stripped.startswith(needle) and "]:" in stripped:
                    line = i + 1
                    break
        out[label] = (str(href), line)
    return out


# The first tag of an HTML block: a name, a closing tag's `/name`, or a comment.
_HTML_TAG = re.compile(r"\s*<(!--|/?[A-Za-z][A-Za-z0-9-]*)")


# A whole definition on one line: `[label]: destination "optional title"`.
_DEFINITION_LINE = re.compile(
    r" {0,3}\[[^\]]+\]:[ \t]*\S+(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?[ \t]*"
)


def _single_line(definitions: dict[str, tuple[str, int]], lines: list[str]) -> dict[str, str]:
    """Definitions written whole on their line (no title on the next one): label
    -> the line as written, what a fix may remove."""
    out: dict[str, str] = {}
    for label, (_, line) in definitions.items():
        if not 0 < line <= len(lines):
            continue
        text = lines[line - 1].removesuffix("\r")
        after = lines[line].lstrip() if line < len(lines) else ""
        if _DEFINITION_LINE.fullmatch(text) and not after.startswith(('"', "'", "(")):
            out[label] = text
    return out


class _Walker:
    """Walks the token stream once and fills the page facts."""

    def __init__(
        self,
        facts: PageFacts,
        settings: ParseSettings,
        text: str,
        original: str,
        line_starts: list[int],
        calls: list[shortcodes.Shortcode],
        tokens: list[Token],
    ) -> None:
        self.facts = facts
        self.settings = settings
        self.text = text
        self.original = original
        self.block_end = len(text)
        self.lines = text.split("\n")
        self.line_starts = line_starts
        self.calls = calls
        self.tokens = tokens
        self.literal_calls: set[int] = set()  # calls inside code: not calls
        self.consumed: set[int] = set()  # calls already recorded as link destinations
        self.cursor = 0  # search position for link locations
        self.brackets = _Brackets(text)
        self.far_searches = 0  # searches past _NEAR that found nothing (see _link)
        self.html_cursor = 0  # search position for inline HTML (its own: HTML may
        # stand inside a link's text, before the cursor that the link moved)
        self.text_cursor = 0  # search position for text spans
        self.anchor_tokens: list[int] = []  # where headings (and terms) open, for _anchors

    def run(self) -> None:
        list_stack: list[ListBlock] = []
        depth_items = 0
        quote_depth = 0
        context = "prose"
        anchored = _ANCHORED if self.settings.definition_term_ids else _HEADINGS
        for i, token in enumerate(self.tokens):
            kind = token.type
            if kind == "inline":  # (a quarter of the tokens)
                self._inline(token, context)
                context = "prose"
                continue
            if kind not in _WALKED:  # (the closing tags of most blocks, table cells)
                continue
            if kind in _BLOCK_KINDS and token.map is not None and quote_depth == 0:
                self._block(token, _BLOCK_KINDS[kind], depth_items)
            if kind in anchored:
                self.anchor_tokens.append(i)
            if kind == "blockquote_open":
                quote_depth += 1
            elif kind == "blockquote_close":
                quote_depth -= 1
            elif kind in ("ordered_list_open", "bullet_list_open"):
                assert token.map is not None
                block = ListBlock(
                    ordered=kind == "ordered_list_open",
                    line=token.map[0] + 1,
                    end_line=token.map[1],
                    depth=len(list_stack),
                )
                list_stack.append(block)
                self.facts.lists.append(block)
            elif kind in ("ordered_list_close", "bullet_list_close"):
                list_stack.pop()
            elif kind == "list_item_open":
                depth_items += 1
                if list_stack and token.map is not None:
                    list_stack[-1].items.append(self._item(token, list_stack[-1].ordered))
            elif kind == "list_item_close":
                depth_items -= 1
            elif kind == "heading_open":
                context = "heading"
            elif kind == "dt_open":
                context = "term"
            elif kind in ("fence", "code_block"):
                self.literal_calls.update(shortcodes.placeholders_in(token.content))
            elif kind == "html_block":
                assert token.map is not None
                self._html(token.content, token.map[0])
            elif kind == "footnote_open":
                # Goldmark's footnote ids: fn:N, numbered in the order of first reference.
                number = (token.meta or {}).get("id", 0) + 1
                self.facts.html_anchors.append((f"fn:{number}", self.facts.line_count))
        self._shortcode_facts()
        self._anchors()

    # -- blocks -------------------------------------------------------------

    def _block(self, token: Token, kind: str, depth: int) -> None:
        assert token.map is not None
        first = self.lines[token.map[0]] if token.map[0] < len(self.lines) else ""
        indent = len(first) - len(first.lstrip(" "))
        block = Block(kind, token.map[0] + 1, max(token.map[1], token.map[0] + 1), depth, indent)
        if kind == "html":
            tag = _HTML_TAG.match(token.content)
            block.tag = tag.group(1).lower() if tag else ""
        self.facts.blocks.append(block)

    def _item(self, token: Token, ordered: bool) -> ListItem:
        assert token.map is not None
        line = self.lines[token.map[0]]
        stripped = line.lstrip(" >")
        offset = len(line) - len(stripped)
        indent = len(line) - len(line.lstrip(" "))
        if ordered:
            number_text = token.info or ""
            marker = number_text + token.markup
            number = int(number_text) if number_text.isdigit() else None
        else:
            marker = token.markup
            number = None
        after = stripped[len(marker) :]
        spaces = len(after) - len(after.lstrip(" "))
        if spaces > 4 or not after.strip():
            spaces = 1
        return ListItem(
            line=token.map[0] + 1,
            indent=indent,
            marker=marker,
            number=number,
            delimiter=token.markup,
            content_column=offset + len(marker) + spaces,
            marker_column=offset,
        )

    # -- inline content ----------------------------------------------------

    def _inline(self, token: Token, context: str) -> None:
        """Links, text spans and reference uses of one inline block.

        `context` is heading, term or prose. Positions are found by searching
        the source forward from a cursor (markdown-it gives block lines only).
        """
        if token.map is None:
            return
        start = self.line_starts[token.map[0]]
        self.cursor = max(self.cursor, start)
        self.text_cursor = max(self.text_cursor, start)
        self.html_cursor = max(self.html_cursor, start)
        if not token.children:
            return  # (a paragraph not parsed inline: nothing more to find)
        end_line = max(token.map[1], token.map[0] + 1)  # deflist terms map to [n, n]
        self.block_end = (
            self.line_starts[end_line] if end_line < len(self.line_starts) else len(self.text)
        )
        keep_text = context == "heading" or self.settings.prose
        link_text: list[str] | None = None
        pending: Link | None = None
        children = token.children
        for i, child in enumerate(children):
            ctype = child.type
            if ctype == "text":
                content = child.content
                if link_text is not None:
                    link_text.append(content)
                elif self.settings.linkify and (
                    "://" in content or "www." in content or "@" in content
                ):
                    self._linkified(content)
                if "[" in content:
                    self._bracket_refs(content)
                if keep_text or link_text is not None:
                    kind = context if link_text is None or context == "heading" else "link"
                    span = self._text_span(content, kind)
                    if span is not None:
                        span.glued_before = _glued(children, i - 1, content[:1])
                        span.glued_after = _glued(children, i + 1, content[-1:])
            elif ctype == "code_inline":
                self.literal_calls.update(shortcodes.placeholders_in(child.content))
                if link_text is not None:
                    link_text.append(child.content)
            elif ctype == "link_open":
                href = str(child.attrs.get("href", ""))
                link_text = []
                if shortcodes.PLACEHOLDER_START in href:
                    pending = self._shortcode_link(href)
                else:
                    kind = "autolink" if child.markup == "autolink" else "inline"
                    pending = self._link(href, kind)
            elif ctype == "link_close":
                if pending is not None and link_text is not None:
                    pending.text = "".join(link_text)
                    if pending.column < 0:
                        self._place_reference(pending, pending.text)
                    self.facts.links.append(pending)
                pending, link_text = None, None
            elif ctype == "image":
                src = str(child.attrs.get("src", ""))
                image = self._link(src, "image")
                image.text = child.content
                if image.column < 0:
                    self._place_reference(image, image.text)
                self.facts.links.append(image)
            elif ctype == "html_inline":
                self._html(child.content, token.map[0], inline=True)
            elif ctype == "footnote_ref":
                meta = child.meta or {}
                sub = meta.get("subId", 0)
                ref = f"fnref{sub or ''}:{meta.get('id', 0) + 1}"
                self.facts.html_anchors.append((ref, token.map[0] + 1))

    def _linkified(self, content: str) -> None:
        """URLs and e-mail addresses Goldmark's linkify turns into links."""
        for start, end in links_in(content):
            url = content[start:end]
            if "@" in url and "://" not in url and not url.startswith("www."):
                continue  # an e-mail address: no page to check
            if url.startswith("www."):
                url = "http://" + url
            at = self.text.find(content[start:end], self.cursor, self.block_end)
            line, column = shortcodes.position(self.line_starts, at if at >= 0 else self.cursor)
            if at >= 0:
                self.cursor = at + (end - start)
            self.facts.links.append(Link(target=url, line=line, column=column, kind="linkify"))

    def _text_span(self, content: str, kind: str) -> TextSpan | None:
        if not content.strip() or shortcodes.PLACEHOLDER_START in content:
            return None
        at = self.text.find(content, self.text_cursor, self.block_end)
        if at < 0:
            line, _ = shortcodes.position(self.line_starts, self.text_cursor)
            span = TextSpan(line, 0, content, kind)
        else:
            self.text_cursor = at + len(content)
            line, column = shortcodes.position(self.line_starts, at)
            span = TextSpan(line, column, content, kind)
        self.facts.texts.append(span)
        return span

    def _bracket_refs(self, content: str) -> None:
        """`[text][label]` left as text: a reference whose label has no definition."""
        for match in _BRACKET_REF_RE.finditer(content):
            text, label = match.group(1), match.group(2)
            if text.startswith("^") or shortcodes.PLACEHOLDER_START in match.group(0):
                continue
            raw = match.group(0)
            at = self.text.find(raw, self.cursor, self.block_end)
            line, column = shortcodes.position(self.line_starts, at if at >= 0 else self.cursor)
            self.facts.undefined_refs.append((label or text, line, column))

    def _shortcode_link(self, href: str) -> Link | None:
        """`[text]({{< ref "x" >}})`: the ref call is the link; other shortcodes
        build URLs the linter cannot know."""
        match = shortcodes.PLACEHOLDER_RE.fullmatch(href)
        if match is None:
            return None
        call = self.calls[int(match.group(1))]
        self.consumed.add(call.index)
        target = shortcodes.first_argument(call.args) if call.name in REF_NAMES else None
        if self.text.find(href, self.cursor, self.block_end) < 0:
            # A reference whose definition's destination is a shortcode call.
            return Link(
                target=target or "",
                line=call.line,
                column=-1,
                kind=call.name if target else "shortcode",
            )
        if not target:
            return Link(target="", line=call.line, column=call.column, kind="shortcode")
        return Link(target=target, line=call.line, column=call.column, kind=call.name)

    def _link(self, href: str, kind: str) -> Link:
        """A link whose position is found by searching the block's source from the cursor."""
        start = self.cursor
        best = -1
        if href:
            prefixes = ("<",) if kind == "autolink" else ("](", "](<")
            best = self._find_near(
                lambda a, b: self._first(href, prefixes, a, b), start, len(href) + 3
            )
        if best < 0:
            # Reference-style: placed once its text is known (_place_reference).
            line, column = shortcodes.position(self.line_starts, start)
            return Link(
                target=href, line=line, column=-1, kind=kind if kind == "image" else "reference"
            )
        line, column = shortcodes.position(self.line_starts, best)
        self.cursor = best + 1
        return Link(target=href, line=line, column=column, kind=kind)

    def _find_near(self, find: Callable[[int, int], int], start: int, overlap: int) -> int:
        """`find(a, b)` in the block from `start`: within _NEAR, then to the
        block's end (a match may straddle the two by `overlap` characters).
        Past `_NEAR` (a destination the source writes otherwise, `&amp;`, is
        never found, and searching each such one to the end of a block of
        60,000 links took half a minute): a page gets `_FAR_SEARCHES` searches
        to its block's end that find nothing. -1 when not found."""
        end = self.block_end
        near = min(end, start + _NEAR)
        at = find(start, near)
        if at < 0 and near < end and self.far_searches < _FAR_SEARCHES:
            at = find(max(start, near - overlap), end)
            self.far_searches += at < 0
        return at

    def _first(self, href: str, prefixes: tuple[str, ...], start: int, end: int) -> int:
        """Where `href` stands after the first of `prefixes` in [start, end) (-1)."""
        best = -1
        for prefix in prefixes:
            # Only before the best so far: a form that is not there (`](<`) is
            # not searched for to the end of the window on every link.
            stop = end if best < 0 else min(end, best + len(prefix) + len(href))
            at = self.text.find(prefix + href, start, stop)
            if at >= 0 and (best < 0 or at + len(prefix) < best):
                best = at + len(prefix)
        return best

    def _place_reference(self, link: Link, shown: str) -> None:
        """Find `[text][label]` / `[text][]` / `[text]` for a reference link whose
        visible text is `shown`, and read its label."""
        text, start, end = self.text, self.cursor, self.block_end
        want = _squash(shown)
        at = text.find("[", start, end)
        while at >= 0:
            close = self.brackets.close(at)
            if close > 0 and (not want or want in _squash(text[at + 1 : close])):
                break
            at = text.find("[", at + 1, end)
        if at < 0:
            at = start
            link.label, after = "", start + 1
        else:
            link.label, after = _reference_label(text, at, self.brackets.close)
        link.line, link.column = shortcodes.position(self.line_starts, at)
        self.cursor = after

    def _html(self, html: str, first_line: int, inline: bool = False) -> None:
        base = self.line_starts[first_line] if first_line < len(self.line_starts) else 0
        start = base
        if inline:  # found from the cursor, which moves past it (50,000 tags in a
            # paragraph, each searched for from the paragraph's start, took minutes)
            at = self._find_near(
                lambda a, b: self.text.find(html, a, b), self.html_cursor, len(html)
            )
            if at >= 0:
                start, self.html_cursor = at, at + 1
        if "handbook-lint-" in html:
            for match in _DIRECTIVE_RE.finditer(html):
                rules = tuple(r for r in re.split(r"[\s,]+", match.group(2).strip()) if r)
                line, column = shortcodes.position(self.line_starts, start + match.start())
                self.facts.directives.append((match.group(1), rules, line, column))
        if not self.settings.raw_html:
            return  # Hugo leaves raw HTML out: no ids, no links
        for regex in (_HTML_ID_RE, _HTML_NAME_RE):
            for match in regex.finditer(html):
                value = next(g for g in match.groups() if g is not None)
                line, _ = shortcodes.position(self.line_starts, start + match.start())
                self.facts.html_anchors.append((value, line))
        for match in _HTML_HREF_RE.finditer(html):
            value = next(g for g in match.groups() if g is not None)
            offset = start + match.start()
            line, column = shortcodes.position(self.line_starts, offset)
            self.facts.links.append(Link(target=value, line=line, column=column, kind="html"))

    # -- headings ------------------------------------------------------------

    def _anchors(self) -> None:
        """Heading and definition-term ids, raw HTML ids, include calls and id
        scopes as anchor events in document order; the headings' ids on this
        file alone (ids of a page with includes come from the site index)."""
        settings = self.settings
        style = settings.heading_ids
        found: list[tuple[int, int, AnchorEvent]] = [
            (line, 0, ("html", anchor, line)) for anchor, line in self.facts.html_anchors
        ]
        found += [
            (inc.line, inc.column, ("include", inc.target, inc.line))
            for inc in self.facts.includes
            if inc.target and not inc.error
        ]
        for call in self.calls:
            if call.index in self.literal_calls or call.name not in settings.id_scopes_all:
                continue
            kind = "close" if call.name.startswith("/") else "open"
            found.append((call.line, call.column, (kind, "", call.line)))
            if kind == "open":
                # A `summary` written as a Markdown heading is rendered inside the scope.
                summary = shortcodes.named_argument(call.args, "summary") or ""
                event = self._summary_heading(summary, call.line)
                if event is not None:
                    found.append((call.line, call.column + 1, event))
        headings: list[tuple[int, Heading]] = []  # (index into found, heading)
        for i in self.anchor_tokens:
            token = self.tokens[i]
            if token.map is None:
                continue
            if token.type == "dt_open" and settings.definition_term_ids:
                text = self._plain(self.tokens[i + 1])
                if shortcodes.PLACEHOLDER_START in text:
                    continue
                # Goldmark makes a term of each line of the term paragraph.
                for k, part in enumerate(text.split("\n")):
                    if part:
                        line = token.map[0] + 1 + k
                        base = sanitize(part, style) or "term"
                        found.append((line, 0, ("auto", base, line)))
                continue
            if (
                token.type == "paragraph_open"
                and settings.definition_term_ids
                and token.map is not None
                and ":" in self.tokens[i + 1].content
            ):
                for k, part in self._paragraph_terms(self.tokens[i + 1]):
                    line = token.map[0] + 1 + k
                    found.append((line, 0, ("auto", sanitize(part, style) or "term", line)))
                continue
            if token.type == "heading_open":
                heading, event = self._heading(token, self.tokens[i + 1])
                if event is not None:
                    found.append((heading.line, 0, event))
                    headings.append((len(found) - 1, heading))
                self.facts.headings.append(heading)
        order = sorted(range(len(found)), key=lambda k: (found[k][0], found[k][1]))
        self.facts.anchor_events = [found[k][2] for k in order]
        # The ids on this file alone.
        ids = IdAllocator()
        allocated = [ids.add(kind, value) for kind, value, _ in self.facts.anchor_events]
        position = {k: n for n, k in enumerate(order)}
        for k, heading in headings:
            heading.anchor = allocated[position[k]] or ""

    def _paragraph_terms(self, inline: Token) -> list[tuple[int, str]]:
        """Terms Goldmark finds where markdown-it sees a paragraph: lines before a
        line that starts with `: ` are each a term of a definition list (the
        deflist plugin takes a one-line term only). (line offset, text) pairs."""
        lines: list[list[Token]] = [[]]
        for child in inline.children or []:
            if child.type == "softbreak":
                lines.append([])
            else:
                lines[-1].append(child)
        for k, line in enumerate(lines):
            first = line[0] if line else None
            if (
                k
                and first is not None
                and first.type == "text"
                and first.content[:2] in (": ", ":\t")
            ):
                settings = self.settings
                out = []
                for n, term in enumerate(lines[:k]):
                    text = plain_text(term, settings.typographer, settings.linkify)
                    if text and shortcodes.PLACEHOLDER_START not in text:
                        out.append((n, text))
                return out
        return []

    def _summary_heading(self, summary: str, line: int) -> AnchorEvent | None:
        if not summary.startswith("#"):
            return None
        tokens = _markdown().parse(summary)
        for i, token in enumerate(tokens):
            if token.type == "heading_open":
                _, event = self._heading(token, tokens[i + 1])
                if event is not None:
                    return event[0], event[1], line
        return None

    def _plain(self, inline: Token) -> str:
        settings = self.settings
        children = inline.children or []
        if "&#" in inline.content:
            # Hugo resolves named entities in the id's text, not numeric ones
            # (`&#39;` adds "39"): parse again with those kept as text.
            again = _markdown().parseInline(inline.content.replace("&#", "&amp;#"))
            children = again[0].children or [] if again else children
        return plain_text(children, settings.typographer, settings.linkify)

    def _heading(self, token: Token, inline: Token) -> tuple[Heading, AnchorEvent | None]:
        assert token.map is not None
        level = int(token.tag[1])
        line = token.map[0] + 1
        raw = inline.content
        unstable = shortcodes.PLACEHOLDER_START in raw
        raw, attrs = parse_attributes(raw)
        plain, _ = parse_attributes(self._plain(inline))
        if token.markup in ("=", "-"):  # setext: its last line holds the text
            plain = plain.split("\n")[-1]
            raw = raw.split("\n")[-1]
        shown = shortcodes.PLACEHOLDER_RE.sub("{{...}}", plain).strip()
        heading = Heading(level, shown, "", line, unstable=unstable)
        if attrs and attrs.get("id"):
            heading.explicit = True
            return heading, ("explicit", attrs["id"], line)
        if unstable:
            return heading, ("unstable", "", line)
        source = raw if self.settings.heading_text == "source" else plain
        if not source.strip():
            return heading, None  # Goldmark gives a heading without text no id
        return heading, ("auto", sanitize(source, self.settings.heading_ids) or "heading", line)

    # -- shortcodes ---------------------------------------------------------

    def _shortcode_facts(self) -> None:
        names: set[str] = set()
        for call in self.calls:
            if call.index in self.literal_calls:
                continue
            if call.name and not call.name.startswith("/"):
                names.add(call.name)
            if call.index in self.consumed:
                continue
            raw = self.text_of(call)
            if call.name in INCLUDE_NAMES:
                self.facts.includes.append(self._include(call, raw))
            elif call.name in REF_NAMES:
                target = shortcodes.first_argument(call.args)
                if target:
                    self.facts.links.append(
                        Link(target=target, line=call.line, column=call.column, kind=call.name)
                    )
        self.facts.links.sort(key=lambda link: (link.line, link.column))
        self.facts.shortcodes = sorted(names)

    def text_of(self, call: shortcodes.Shortcode) -> str:
        return self.original[call.start : call.end]

    def _include(self, call: shortcodes.Shortcode, raw: str) -> Include:
        error = None
        target = shortcodes.first_argument(call.args)
        if not call.close_delim:
            error = "the call is never closed (no '%}}' or '>}}' on its line)"
            target = None
        elif call.close_delim != call.open_delim:
            closer = "%}}" if call.open_delim == "%" else ">}}"
            error = (
                f"the call opens with '{{{{{call.open_delim}' but does not close with '{closer}'"
            )
        elif not target:
            error = "the call names no file to include"
        return Include(target=target, line=call.line, column=call.column, source=raw, error=error)


_MARKUP_TOKENS = frozenset(
    {"strong_open", "strong_close", "em_open", "em_close", "s_open", "s_close"}
)


def _glued(children: list[Token], i: int, edge: str) -> bool:
    """A text token touches emphasis markup with no space: a word goes on across it."""
    return 0 <= i < len(children) and children[i].type in _MARKUP_TOKENS and edge.isalnum()


def load_parser() -> None:
    """Import markdown-it-py and make the parser now: before workers fork,
    which then share it rather than each importing it (40 ms a process)."""
    _markdown()
    _normalize_reference()


def normalize_label(label: str) -> str:
    """A reference label as markdown-it matches it (case folded, white space
    collapsed): the very function that keys `ref_definitions`."""
    return _normalize_reference()(label)


@functools.cache
def _normalize_reference() -> Callable[[str], str]:
    from markdown_it.common.utils import normalizeReference

    return normalizeReference


def _reference_label(text: str, at: int, close: Callable[[int], int]) -> tuple[str, int]:
    """The label of the reference link whose `[` stands at `at`, and the offset
    just after the link's source (`close`: where a `[`'s `]` is)."""
    end = close(at)
    if end < 0:
        return "", at + 1
    inner = text[at + 1 : end]
    if text.startswith("[", end + 1):
        close_at = close(end + 1)
        if close_at > end + 2:
            return text[end + 2 : close_at], close_at + 1
        if close_at == end + 2:
            return inner, close_at + 1
    return inner, end + 1


_SQUASH = str.maketrans("", "", "`*_\\ \n\t")


def _squash(text: str) -> str:
    """Text without the characters Markdown markup adds or removes."""
    return text.translate(_SQUASH)


class _Brackets:
    """Where the `]` of each `[` of a page is (as `_closing_bracket` finds it),
    worked out in one pass over the page on first use: asking for each of n
    brackets by scanning cost n times the scan (219 s for a MB of `[[[...`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._pairs: dict[int, int] | None = None

    def close(self, at: int) -> int:
        if self._pairs is None:
            self._pairs = _bracket_pairs(self.text)
        found = self._pairs.get(at)
        if found is None:  # (a `[` escaped in a scan from the start: scanned from itself)
            return _closing_bracket(self.text, at)
        return found if 0 <= found < at + _BRACKET_REACH else -1


def _bracket_pairs(text: str) -> dict[int, int]:
    """Each unescaped `[` -> its `]` (-1: none), in one pass: the pairs
    `_closing_bracket` gives, which scans from the `[` with the same escapes."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for match in _BRACKET_TOKENS.finditer(text):
        token = match.group()
        if token == "[":
            stack.append(match.start())
            pairs[match.start()] = -1
        elif token == "]" and stack:
            pairs[stack.pop()] = match.start()
    return pairs


_BRACKET_TOKENS = re.compile(r"\\[\s\S]|[\[\]]")
_BRACKET_REACH = 2000  # a `]` further than this from its `[` is not looked for
_NEAR = 16384  # characters from the cursor a link's source is looked for first
_FAR_SEARCHES = 32  # then, per page, searches to the end of a block that may fail


def _closing_bracket(text: str, at: int) -> int:
    depth = 0
    i = at
    limit = min(len(text), at + _BRACKET_REACH)
    while i < limit:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1
