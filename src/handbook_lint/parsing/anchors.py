"""Heading ids the way Hugo (Goldmark) makes them.

Mirrors ``markup/goldmark/autoid.go`` in Hugo (the ``autoHeadingIDType`` styles
``github``, ``github-ascii`` and ``blackfriday``), Goldmark's per-page id
de-duplication, and Goldmark's ``{#id .class key=value}`` heading attributes.

Character classes follow Go's ``unicode`` package: a letter is any category
``L*`` (``unicode.IsLetter``), a digit is category ``Nd`` (``unicode.IsDigit``),
a number is any ``N*`` (``unicode.IsNumber``), lowercasing is the simple
one-to-one mapping of ``unicode.ToLower`` and trimming uses ``unicode.IsSpace``.
Per-character decisions are cached in translation tables, so the hot path is a
single ``str.translate`` call.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

__all__ = [
    "STYLES",
    "AnchorEvent",
    "AnchorRegistry",
    "IdAllocator",
    "parse_attributes",
    "sanitize",
]

STYLES = ("github", "github-ascii", "blackfriday")

# Go's unicode.IsSpace (what bytes.TrimSpace strips). Python's str.strip() would
# also strip U+001C..U+001F, which Go keeps (and then drops as punctuation).
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def _go_lower(ch: str) -> str:
    """unicode.ToLower: one rune in, one rune out (U+0130 -> 'i', not 'i' + U+0307)."""
    low = ch.lower()
    return low if len(low) == 1 else low[0]


def _github_char(ch: str) -> str | None:
    if ch == "-" or ch == " ":
        return "-"
    cat = unicodedata.category(ch)
    if ch == "_" or cat[0] == "L" or cat == "Nd":
        return _go_lower(ch)
    return None


def _ascii_char(ch: str) -> str | None:
    return _github_char(ch) if ch.isascii() else None


def _blackfriday_char(ch: str) -> str:
    # Letters and numbers (any N*, unicode.IsNumber) are kept; anything else is a
    # separator, marked with a space so that str.split() can collapse the runs.
    return _go_lower(ch) if unicodedata.category(ch)[0] in "LN" else " "


class _CharTable(dict[int, str | None]):
    """A str.translate table that computes and caches each code point on first use."""

    __slots__ = ("_fn",)

    def __init__(self, fn: Callable[[str], str | None]) -> None:
        super().__init__((cp, fn(chr(cp))) for cp in range(128))
        self._fn = fn

    def __missing__(self, cp: int) -> str | None:
        value = self._fn(chr(cp))
        self[cp] = value
        return value


_GITHUB_TABLE = _CharTable(_github_char)
_ASCII_TABLE = _CharTable(_ascii_char)
_BLACKFRIDAY_TABLE = _CharTable(_blackfriday_char)


def _sanitize_github(text: str) -> str:
    return text.strip(_GO_SPACE).translate(_GITHUB_TABLE)


def _sanitize_github_ascii(text: str) -> str:
    if not text.isascii():
        # Hugo's text.RemoveAccents: NFD, drop nonspacing marks (Mn), NFC. The NFC
        # step is skipped: no ASCII character composes with a non-Mn mark, and
        # every non-ASCII character is dropped below anyway.
        text = "".join(
            ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn"
        )
    return text.strip(_GO_SPACE).translate(_ASCII_TABLE)


def _sanitize_blackfriday(text: str) -> str:
    return "-".join(text.translate(_BLACKFRIDAY_TABLE).split())


_SANITIZERS: dict[str, Callable[[str], str]] = {
    "github": _sanitize_github,
    "github-ascii": _sanitize_github_ascii,
    "blackfriday": _sanitize_blackfriday,
}


def sanitize(text: str, style: str = "github") -> str:
    """Turn heading text into an anchor the way Hugo does (``anchorize``).

    May return ``""``; :meth:`AnchorRegistry.auto` turns that into ``heading``.
    """
    try:
        fn = _SANITIZERS[style]
    except KeyError:
        raise ValueError(
            f"unknown anchor style {style!r}; expected one of {', '.join(STYLES)}"
        ) from None
    return fn(text)


class AnchorRegistry:
    """Allocates ids for one page in document order, de-duplicating like Goldmark."""

    __slots__ = ("_next", "_used")

    def __init__(self) -> None:
        self._used: set[str] = set()
        # base -> suffix to try first. Ids are never released, so once base-N is
        # taken it stays taken and the search can resume where it stopped.
        self._next: dict[str, int] = {}

    def auto(self, text: str, style: str = "github") -> str:
        """Sanitize ``text``, make it unique on this page, record it and return it."""
        return self.from_base(sanitize(text, style) or "heading")

    def from_base(self, base: str) -> str:
        """Make an already sanitized id unique on this page, record it and return it."""
        used = self._used
        anchor = base
        if anchor in used:
            i = self._next.get(base, 1)
            anchor = f"{base}-{i}"
            while anchor in used:
                i += 1
                anchor = f"{base}-{i}"
            self._next[base] = i + 1
        used.add(anchor)
        return anchor

    def explicit(self, anchor: str) -> str:
        """Record a ``{#id}`` attribute. It is never renamed, even if already used."""
        self._used.add(anchor)
        return anchor

    def add_existing(self, anchor: str) -> None:
        """Record an id that exists already (e.g. a raw HTML ``id=``)."""
        self._used.add(anchor)

    def __contains__(self, anchor: str) -> bool:
        return anchor in self._used

    def __len__(self) -> int:
        return len(self._used)


# What makes an anchor on a page, in document order: (kind, value, line).
#   auto      an id Goldmark generates; value: the sanitized text (before -1, -2)
#   explicit  a {#id} attribute; value: the id
#   html      a raw HTML id= or <a name=>: an anchor, but not in Goldmark's registry
#   include   an include call; value: its target (the file's events go here)
#   open      the start of a shortcode whose content gets ids of its own (details)
#   close     its end
#   unstable  a heading whose id depends on a shortcode
AnchorEvent = tuple[str, str, int]


class IdAllocator:
    """Replays anchor events: Goldmark's registry, with a fresh one inside
    shortcodes rendered on their own (Hugo's `details`)."""

    __slots__ = ("_stack",)

    def __init__(self) -> None:
        self._stack = [AnchorRegistry()]

    def add(self, kind: str, value: str) -> str | None:
        """The anchor an event makes, or None (includes, scopes, unstable ids)."""
        if kind == "auto":
            return self._stack[-1].from_base(value)
        if kind == "explicit":
            return self._stack[-1].explicit(value)
        if kind == "html":
            return value
        if kind == "open":
            self._stack.append(AnchorRegistry())
        elif kind == "close" and len(self._stack) > 1:
            self._stack.pop()
        return None


# --- Goldmark heading attributes (parser/attribute.go, goldmark v1.7) ----------

_SPACE_CHARS = " \t\n\v\f\r"  # goldmark util.IsSpace
_SPACE = frozenset(_SPACE_CHARS)
_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")  # util.IsPunct
_ID_PUNCT_OK = frozenset("_-:.")
_ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = frozenset("0123456789")
_NAME_START = frozenset(_ASCII_LETTERS + "_:")
_NAME_CHARS = frozenset(_ASCII_LETTERS + "0123456789_:.-")
_STRING_ESCAPES = {'"': '"', "/": "/", "\\": "\\", "b": "\b", "f": "\f", "n": "\n"}
_STRING_ESCAPES.update({"r": "\r", "t": "\t"})
_NON_STRING_WORDS = frozenset(("true", "false", "null"))

# A parsed value: (text, is_string, end). ``is_string`` is False for numbers,
# true/false/null, arrays and nested blocks, which Goldmark rejects for ``class``.
_Value = tuple[str, bool, int]


def _skip_spaces(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] in _SPACE:
        i += 1
    return i


def _parse_block(s: str, i: int) -> tuple[dict[str, str], int] | None:
    """Parse ``{...}`` starting at ``s[i] == "{"``; return (attrs, index after ``}``)."""
    n = len(s)
    i += 1
    attrs: dict[str, str] = {}
    while True:
        if i < n and s[i] == "}":
            return attrs, i + 1
        i = _skip_spaces(s, i)
        if i >= n:
            return None
        c = s[i]
        if c == "#" or c == ".":
            i += 1
            j = i
            while j < n and s[j] not in _SPACE and (s[j] not in _PUNCT or s[j] in _ID_PUNCT_OK):
                j += 1
            name, value, i = ("id" if c == "#" else "class"), s[i:j], j
        else:
            if c not in _NAME_START:
                return None
            j = i + 1
            while j < n and s[j] in _NAME_CHARS:
                j += 1
            name = s[i:j]
            i = _skip_spaces(s, j)
            if i >= n or s[i] != "=":
                return None
            parsed = _parse_value(s, _skip_spaces(s, i + 1))
            if parsed is None:
                return None
            value, is_string, i = parsed
            if name == "class" and not is_string:
                return None
        if name == "class" and "class" in attrs:
            attrs["class"] += " " + value
        else:
            attrs[name] = value  # a repeated key: the last one wins, as in Goldmark
        i = _skip_spaces(s, i)
        if i < n and s[i] == ",":
            i = _skip_spaces(s, i + 1)


def _parse_value(s: str, i: int) -> _Value | None:
    n = len(s)
    if i >= n:
        return None
    c = s[i]
    if c == '"':
        return _parse_string(s, i + 1)
    if c == "{":
        block = _parse_block(s, i)
        return None if block is None else (s[i : block[1]], False, block[1])
    if c == "[":
        return _parse_array(s, i)
    if c == "-" or c == "+" or c in _DIGITS:
        return _parse_number(s, i)
    if c not in _NAME_START:
        return None
    j = i + 1
    while j < n and s[j] in _NAME_CHARS:
        j += 1
    word = s[i:j]
    return word, word not in _NON_STRING_WORDS, j


def _parse_string(s: str, i: int) -> _Value | None:
    n = len(s)
    out: list[str] = []
    while i < n:
        c = s[i]
        if c == "\\" and i != n - 1:
            esc = _STRING_ESCAPES.get(s[i + 1])
            if esc is None:
                out.append("\\")
                i += 1
            else:
                out.append(esc)
                i += 2
            continue
        if c == '"':
            return "".join(out), True, i + 1
        out.append(c)
        i += 1
    return None


def _parse_number(s: str, start: int) -> _Value | None:
    n = len(s)
    i = start + 1 if s[start] in "+-" else start
    if i >= n or s[i] not in _DIGITS:
        return None
    digits_from = i
    while i < n and s[i] in _DIGITS:
        i += 1
    if i < n and s[i] == ".":
        i += 1
        while i < n and s[i] in _DIGITS:
            i += 1
    if i < n and s[i] in "eE":
        i += 1
        if i < n and s[i] in "+-":
            i += 1
        while i < n and s[i] in _DIGITS:
            i += 1
    try:
        float(s[digits_from:i])  # Go's strconv.ParseFloat rejects e.g. "1e"
    except ValueError:
        return None
    return s[start:i], False, i


def _parse_array(s: str, i: int) -> _Value | None:
    start, n = i, len(s)
    i += 1
    first = True
    while True:
        c = s[i] if i < n else ""
        comma = False
        if not first and c == ",":
            i += 1
            comma = True
        if c == "]":
            return (s[start : i + 1], False, i + 1) if not comma else None
        parsed = _parse_value(s, _skip_spaces(s, i))
        if parsed is None:
            return None
        i = _skip_spaces(s, parsed[2])
        first = False


def _strip_closing_sequence(text: str) -> str:
    """Drop an ATX closing sequence (``Title ##``) the way Goldmark's Open does."""
    stop = len(text)
    if not stop:
        return text
    i = stop - 1
    while i > 0 and text[i] == "#":
        i -= 1
    if i == 0 and text[0] == "#":
        return ""  # nothing but '#'s: an empty heading
    if i != stop - 1 and text[i] in _SPACE:
        return text[:i].rstrip(_SPACE_CHARS)
    return text


def parse_attributes(text: str) -> tuple[str, dict[str, str] | None]:
    """Split a trailing Goldmark attribute block off a heading's inline text.

    ``"Title {#x .a .b k=v}"`` gives ``("Title", {"id": "x", "class": "a b", "k": "v"})``.
    Without a valid block (or for a Hugo shortcode such as ``{{< x >}}``) the
    text comes back unchanged with ``None``.

    Follows Goldmark's ``parseLastLineAttributes``: the first unescaped ``{``
    that starts a valid block followed only by whitespace wins, and a backslash
    hides any punctuation after it. When a block is found, an ATX closing
    sequence left in front of it is dropped too (``Title ## {.c}`` -> ``Title``),
    as Goldmark does. Non-string values (numbers, ``true``, arrays) are kept as
    written.
    """
    if "{" not in text or text.rstrip().endswith("}}"):
        return text, None
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2 if i + 1 < n and text[i + 1] in _PUNCT else 1
            continue
        if c == "\n":
            break
        if c == "{":
            block = _parse_block(text, i)
            if block is not None and _skip_spaces(text, block[1]) == n:
                return _strip_closing_sequence(text[:i].rstrip(_SPACE_CHARS)), block[0]
        i += 1
    return text, None
