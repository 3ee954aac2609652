"""File names that are not UTF-8: Python hands them over with their odd bytes
as surrogates (`bad\\udcff.md`), which no UTF-8 text (a report, an SQLite text
column) can hold."""

from __future__ import annotations


def is_utf8(text: str) -> bool:
    """`text` can be written as UTF-8 (it holds no surrogate-escaped bytes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(text: str) -> str:
    """`text` with its surrogate-escaped bytes written out (`bad\\xff.md`)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
