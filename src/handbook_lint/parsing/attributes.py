"""Goldmark's heading attributes (`## Title {#id .class key=value}`), as
parser/attribute.go of goldmark v1.7 reads them."""

from __future__ import annotations

__all__ = ["parse_attributes"]

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


def _scan_name(s: str, i: int) -> int | None:
    """The end of an attribute name (or bare word) starting at `i`, or None."""
    if i >= len(s) or s[i] not in _NAME_START:
        return None
    j = i + 1
    while j < len(s) and s[j] in _NAME_CHARS:
        j += 1
    return j


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
            end = _scan_name(s, i)
            if end is None:
                return None
            name = s[i:end]
            i = _skip_spaces(s, end)
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
    j = _scan_name(s, i)
    if j is None:
        return None
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
