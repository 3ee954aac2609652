"""Heading ids the way Hugo (Goldmark) makes them.

Mirrors ``markup/goldmark/autoid.go`` in Hugo (the ``autoHeadingIDType`` styles
``github``, ``github-ascii`` and ``blackfriday``), Goldmark's per-page id
de-duplication (the ``{#id}`` attributes are parsed in ``attributes``).

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
