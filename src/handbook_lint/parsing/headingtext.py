"""The text Hugo makes a heading's (or definition term's) id from.

Hugo >= 0.144 takes the heading's plain text (`render.TextPlain` in
`markup/goldmark/internal/render/context.go`), walking Goldmark's inline nodes:
every direct child of the heading counts, but of a nested node (emphasis, a
link, an image, strikethrough) only its *first* child does, recursively. So
`**2. NAMESPACE_FEATURE_SETTINGS**` gives `2-namespace_`: inside the emphasis,
Goldmark's first text node ends where its inline parsers cut the text (after a
`_` that cannot open or close emphasis, before one that can, before `[`, raw
HTML, a typographer substitution or a linkified URL). Autolinks (`<https://x>`
and URLs or e-mail addresses that Goldmark's linkify turns into links) add no
text; raw HTML adds its text with the tags stripped; code spans add their
content, with entities resolved; with the typographer on (Hugo's default)
`--` and `---` become dashes, which the id then drops. A heading whose text is
empty gets no id at all.

markdown-it-py gives the inline tokens; this module walks them as Goldmark
would walk its nodes. Older Hugo (`heading_text: source`) uses the raw source
of the heading instead (see markdown.py).
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it.token import Token

_TAG_RE = re.compile(r"<[^>]*>")
_CONTAINERS = {
    "strong_open": "strong_close",
    "em_open": "em_close",
    "s_open": "s_close",
    "link_open": "link_close",
}
# Goldmark's linkify (extension/linkify.go): at the start of a line or after a
# space, `*`, `_`, `~` or `(`, a URL with one of three schemes, a `www.` host,
# or an e-mail address.
_URL_RE = re.compile(
    r"(?:(?:https?|ftp)://|www\.)[-a-zA-Z0-9@:%._+~#=]{1,256}\.[a-z]+(?::\d+)?"
    r"(?:[/#?][-a-zA-Z0-9@:%_+.~#$!?&/=();,'\">^{}\[\]`]*)?"
)
_EMAIL_RE = re.compile(r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+")
_LINKIFY_BEFORE = " *_~(\t\n"
_TRAILING = "?!.,:*_~"
# Typographer substitutions that become separate nodes inside a nested node.
_TYPOGRAPHER_STOPS = ("'", '"', "--", "...", "<<", ">>")


def plain_text(children: list[Token], typographer: bool = True, linkify: bool = True) -> str:
    """The text of a heading's inline tokens as Goldmark's TextPlain reads it."""
    out: list[str] = []
    i = 0
    while i < len(children):
        token = children[i]
        kind = token.type
        if kind == "text":
            out.append(_top_text(token.content, typographer, linkify))
        elif kind in _CONTAINERS:
            end = _closing(children, i)
            if not _is_autolink(token):
                out.append(_first(children[i + 1 : end], typographer, linkify))
            i = end
        else:
            out.append(_leaf(token, typographer, linkify))
        i += 1
    return "".join(out)


def _leaf(token: Token, typographer: bool, linkify: bool) -> str:
    kind = token.type
    if kind == "code_inline":
        return html.unescape(token.content)
    if kind in ("softbreak", "hardbreak"):
        return "\n"
    if kind == "html_inline":
        return html.unescape(_TAG_RE.sub("", token.content)).strip()
    if kind == "image":
        return _first(token.children or [], typographer, linkify)
    return ""


def _first(children: list[Token], typographer: bool, linkify: bool) -> str:
    """What a nested node adds: its first child's text, recursively."""
    children = [c for c in children if c.type != "text" or c.content]  # (markdown-it's empties)
    if not children:
        return ""
    token = children[0]
    if token.type == "text":
        return _first_segment(token.content, typographer, linkify)
    if token.type in _CONTAINERS:
        if _is_autolink(token):
            return ""
        return _first(children[1 : _closing(children, 0)], typographer, linkify)
    return _leaf(token, typographer, linkify)


def _closing(children: list[Token], i: int) -> int:
    """Index of the token that closes the container opened at `i`."""
    opener, closer = children[i].type, _CONTAINERS[children[i].type]
    depth = 0
    for j in range(i, len(children)):
        if children[j].type == opener:
            depth += 1
        elif children[j].type == closer:
            depth -= 1
            if depth == 0:
                return j
    return len(children) - 1


def _is_autolink(token: Token) -> bool:
    return token.type == "link_open" and token.markup in ("autolink", "linkify")


def _top_text(text: str, typographer: bool, linkify: bool) -> str:
    if linkify:
        text = _drop_links(text)
    if typographer and "--" in text:
        text = text.replace("---", "\u2014").replace("--", "\u2013")
    return text


def _drop_links(text: str) -> str:
    """`text` without what Goldmark's linkify would turn into links."""
    if "://" not in text and "www." not in text and "@" not in text:
        return text
    out: list[str] = []
    pos = 0
    for start, end in links_in(text):
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return "".join(out)


def links_in(text: str) -> list[tuple[int, int]]:
    """Spans of `text` that Goldmark's linkify turns into links."""
    found: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        if i and text[i - 1] not in _LINKIFY_BEFORE:
            i += 1
            continue
        match = _URL_RE.match(text, i)
        end = -1
        if match is not None:
            end = match.end()
            if text[end - 1] == ")":
                end -= max(0, text.count(")", i, end) - text.count("(", i, end))
        elif text[i].isalnum():  # (an address never starts with punctuation)
            email = _EMAIL_RE.match(text, i)
            if email is not None and (email.end() >= len(text) or text[email.end()] not in "-_"):
                end = email.end()
        if end > i:
            while end > i + 1 and text[end - 1] in _TRAILING:
                end -= 1
            found.append((i, end))
            i = end
        else:
            i += 1
    return found


def _first_segment(text: str, typographer: bool, linkify: bool) -> str:
    """The first text node Goldmark makes of `text` inside a nested node."""
    spans = links_in(text) if linkify else []
    n = spans[0][0] if spans else len(text)  # a linkified URL starts a node
    i = 0
    while i < n:
        ch = text[i]
        if ch in "*_~":
            end = i
            while end < len(text) and text[end] == ch:
                end += 1
            if _delimits(text, i, end, ch):
                return text[:i]
            return text[:end]  # plain text: joins the text before it, ends the node
        if ch == "[":
            return text[: i + 1]  # an unmatched `[` joins the text before it, ends the node
        if ch == "!" and text.startswith("[", i + 1):
            return text[: i + 2]
        if typographer and text.startswith(_TYPOGRAPHER_STOPS, i):
            return text[:i]
        i += 1
    return text[:n]


def _delimits(text: str, start: int, end: int, ch: str) -> bool:
    """Whether a run of `*`, `_` or `~` can open or close emphasis (CommonMark's
    flanking rules; the edges of the text count as white space)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    left = not after.isspace() and (not _punct(after) or before.isspace() or _punct(before))
    right = not before.isspace() and (not _punct(before) or after.isspace() or _punct(after))
    if ch == "_":
        return (left and (not right or _punct(before))) or (right and (not left or _punct(after)))
    return left or right


def _punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"
