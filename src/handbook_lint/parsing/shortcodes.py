"""Finding Hugo shortcode calls in page source.

Hugo replaces shortcodes before Markdown is rendered, so the parser masks each
call with a placeholder of the same length (lines and columns stay true) and
the page facts map placeholders back to calls. `{{</* x */>}}` is the escaped
form that prints a call literally: never a call.
"""

from __future__ import annotations

import re
import shlex
from bisect import bisect_right
from dataclasses import dataclass

# Private-use characters: no Markdown meaning, never in real text.
PLACEHOLDER_START = "\ue000"
PLACEHOLDER_FILL = "\ue001"
PLACEHOLDER_RE = re.compile("\ue000(\\d+)\ue001*")

_OPEN_RE = re.compile(r"\{\{([<%])")
_MAX_CALL = 4000  # characters a call may span before it counts as unclosed


@dataclass(slots=True)
class Shortcode:
    """A shortcode call (or closing tag) of the page's text."""

    index: int
    name: str  # "" when none could be read; "/name" for a closing tag
    args: str
    open_delim: str  # "<" or "%"
    close_delim: str  # "<"/"%" mirrored from the closer; "" when unclosed
    start: int  # offset in the text
    end: int  # offset after the call
    line: int  # 1-based
    column: int  # 1-based


def find_shortcodes(text: str, line_starts: list[int]) -> list[Shortcode]:
    """All shortcode calls in `text` (escaped ones excluded), in order."""
    calls: list[Shortcode] = []
    pos = 0
    while True:
        match = _OPEN_RE.search(text, pos)
        if match is None:
            return calls
        start = match.start()
        delim = match.group(1)
        body_start = match.end()
        rest = text[body_start : body_start + 3].lstrip()
        if rest.startswith("/*"):  # escaped: {{</* x */>}}
            close = text.find("*/", body_start + 2)
            pos = close + 2 if close >= 0 else body_start
            continue
        limit = min(len(text), body_start + _MAX_CALL)
        close_at, close_delim = _find_close(text, body_start, limit)
        end = close_at + 3 if close_at >= 0 else _line_end(text, start)
        inner = text[body_start:close_at] if close_at >= 0 else text[body_start:end]
        name, args = _split_call(inner)
        line, column = position(line_starts, start)
        calls.append(
            Shortcode(len(calls), name, args, delim, close_delim, start, end, line, column)
        )
        pos = end


def _find_close(text: str, start: int, limit: int) -> tuple[int, str]:
    """Offset of the first `>}}` or `%}}` before the next `{{`, and its delimiter."""
    next_open = text.find("{{", start, limit)
    stop = next_open if next_open >= 0 else limit
    best = -1
    best_delim = ""
    for delim in ("<", "%"):
        closer = ">}}" if delim == "<" else "%}}"
        at = text.find(closer, start, stop)
        if at >= 0 and (best < 0 or at < best):
            best, best_delim = at, delim
    return best, best_delim


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end


def _split_call(inner: str) -> tuple[str, str]:
    inner = inner.strip()
    if not inner:
        return "", ""
    parts = inner.split(None, 1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def first_argument(args: str) -> str | None:
    """The first positional argument of a call (quotes removed), or None."""
    args = args.strip()
    if not args:
        return None
    try:
        words = shlex.split(args, posix=True)
    except ValueError:
        return None
    for word in words:
        if "=" in word and not word.startswith(("/", ".")):
            key, _, value = word.partition("=")
            if key in ("path", "file", "src"):
                return value
            continue
        return word
    return None


def named_argument(args: str, name: str) -> str | None:
    """A named argument of a call (`summary="..."`), quotes removed, or None."""
    try:
        words = shlex.split(args.strip(), posix=True)
    except ValueError:
        return None
    for word in words:
        key, equals, value = word.partition("=")
        if equals and key == name:
            return value
    return None


def position(line_starts: list[int], offset: int) -> tuple[int, int]:
    """1-based (line, column) of an offset, given the offsets where lines start."""
    lo = max(bisect_right(line_starts, offset) - 1, 0)
    return lo + 1, offset - line_starts[lo] + 1


def mask(text: str, calls: list[Shortcode]) -> str:
    """Replace every call by a same-length placeholder (newlines kept)."""
    if not calls:
        return text
    pieces: list[str] = []
    pos = 0
    for call in calls:
        pieces.append(text[pos : call.start])
        span = text[call.start : call.end]
        tag = f"{PLACEHOLDER_START}{call.index}"
        out: list[str] = []
        for i, segment in enumerate(span.split("\n")):
            if i == 0 and len(segment) >= len(tag):
                out.append(tag + PLACEHOLDER_FILL * (len(segment) - len(tag)))
            else:
                out.append(PLACEHOLDER_FILL * len(segment))
        pieces.append("\n".join(out))
        pos = call.end
    pieces.append(text[pos:])
    return "".join(pieces)


def placeholders_in(text: str) -> list[int]:
    return [int(m.group(1)) for m in PLACEHOLDER_RE.finditer(text)]
