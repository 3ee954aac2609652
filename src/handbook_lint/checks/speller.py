"""Find common misspellings in prose, the way codespell does.

This is not a spell checker: it only knows a list of known wrong spellings and
their corrections, so unknown words, names and jargon are never reported.

The list is codespell's main dictionary, ``codespell_lib/data/dictionary.txt``,
read at run time from the installed ``codespell`` package (which this project
depends on; the dictionary is never copied into this repository). Only the
file is read: no codespell code is imported or run. codespell's own code is
GPL-2.0-only; its dictionaries are derived from English Wikipedia and are
released under CC BY-SA 3.0. The other codespell dictionaries (``rare``,
``code``, ``names``, ``en-GB_to_en-US``, ...) are left out on purpose: they
hold real words and would produce false positives.

Dictionary format: one entry a line, ``wrong->right`` or
``wrong->right1, right2,``; as in codespell, text after the last comma is a
reason (empty in the lines that end with a comma), and an entry with a comma
has no single certain fix. Every candidate is kept, in order; the first one
is the suggestion.

What is looked up:

* A word is a run of letters (Unicode letters, except CJK scripts, which act as
  separators and are never reported), which may hold apostrophes and hyphens
  between letters (``don't``, ``auto-detet``). A hyphenated word is looked up
  whole, then part by part; a possessive ``'s`` is tried without it.
* Only lower-case, Title-case and ALL-CAPS words are looked up, case-insensitively;
  words with inner capitals (``GitLab``, ``macOS``) are skipped, and so are
  ALL-CAPS words shorter than four characters (acronyms such as ``OT``, ``UE``,
  ``ACI`` are keys in the dictionary).
* Words next to a digit (``teh2``) are skipped, and so is every word of a chunk
  that looks like code, a path, a URL, an e-mail address or a file name. A
  chunk is a run of characters between whitespace or CJK characters; it is
  skipped when it holds any of ``/ \\ _ @ = # % & $ | < > { } ` ``, a ``.`` or
  ``:`` between two word characters (``foo.md``, ``a:b``), ``::``, or starts with
  ``-`` (a command-line option).

Speed: the text is split at whitespace (``str.split``), and its distinct chunks
are compared in C with a per-speller cache of chunks known to be clean. New plain
chunks are screened in one pass (one compiled regex over all of them, a set
test against the dictionary's keys); only suspects are tokenised one by one
(compiled regexes, dict lookups), and only chunks that hold a misspelling are
located again in the text (``str.find``, or one compiled regex for long texts).
The dictionary (65,000 entries) is parsed once a process, in about 30 ms; with
a cache folder, its keys are kept there and read back in about 7 ms, and the
entries are parsed only when a text holds one of them.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import re
import time
import zlib
from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass
from pathlib import Path

from handbook_lint.atomic import atomic_write
from handbook_lint.cache import codec

__all__ = [
    "Misspelling",
    "Speller",
    "default_speller",
    "dictionary_path",
    "keep_keys_in",
    "load_dictionary",
]

# CJK scripts: ideographs, kana, Hangul, their punctuation and half/full-width
# forms. They are never part of a word and separate words and chunks.
_CJK = (
    "\u1100-\u11ff"  # Hangul Jamo
    "\u2e80-\u2fdf"  # CJK radicals, Kangxi radicals
    "\u2ff0-\u2fff"  # ideographic description characters
    "\u3000-\u303f"  # CJK symbols and punctuation
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3100-\u31ff"  # Bopomofo, Hangul compatibility Jamo, Kanbun, ...
    "\u3200-\u33ff"  # enclosed CJK letters, CJK compatibility
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\ua960-\ua97f"  # Hangul Jamo extended A
    "\uac00-\ud7ff"  # Hangul syllables, Jamo extended B
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\ufe30-\ufe4f"  # CJK compatibility forms
    "\uff00-\uffef"  # half-width and full-width forms
    "\U00020000-\U0003ffff"  # CJK extensions B and later
)
_LETTER = rf"[^\W\d_{_CJK}]"
_PIECE_LETTER = r"[^\W\d_]"  # a letter of a piece between CJK characters (no CJK in it)
_APOS = "'\u2019"
_JOINERS = _APOS + "-"


@functools.cache
def patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Compiled on first use (their Unicode classes take 10 ms, which a run that
    checks no text should not pay): a word, with apostrophes or hyphens between
    letters; a run of letters (a word without those); a piece of a chunk
    between CJK characters; a piece that looks like code, a path, a URL, an
    address or a file name."""
    return (
        # (applied to pieces, which hold no CJK: letters without the CJK ranges,
        # compiled in 0.3 ms, not 3.9)
        re.compile(rf"{_PIECE_LETTER}+(?:[{_JOINERS}]{_PIECE_LETTER}+)*"),
        re.compile(rf"{_LETTER}+"),
        re.compile(rf"[^{_CJK}]+"),
        re.compile(r"[/\\_@=#%&$|<>{}`]|\w[.:]\w|::"),
    )


_DIGIT_JOINERS = "-.'\u2019"

_MIN_CAPS_LEN = 4
_CLEAN_CACHE_MAX = 500_000
# From this text length on, misspelled chunks are located by one regex, not str.find.
_REGEX_LOCATE_MIN = 50_000

_Hit = tuple[int, str, str]  # (offset in the chunk, word as written, dictionary key)


@dataclass(frozen=True, slots=True)
class Misspelling:
    """A misspelt word of a text, and its corrections."""

    offset: int  # index in the text where the word starts
    word: str  # as written
    suggestion: str  # correction, case adapted to the word (Misson -> Mission)
    candidates: tuple[str, ...]  # every correction, case adapted; the first is `suggestion`


def dictionary_path() -> Path:
    """Where the installed codespell package keeps its main dictionary.

    Found without importing ``codespell_lib`` (``find_spec`` of a top-level
    package does not run it).
    """
    spec = importlib.util.find_spec("codespell_lib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the spelling check needs the 'codespell' package (pip install codespell)"
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / "data" / "dictionary.txt"
        if path.is_file():
            return path
    raise RuntimeError("the installed 'codespell' package has no data/dictionary.txt")


def _parse_corrections(data: str) -> tuple[str, ...]:
    """``right`` or ``right1, right2,`` (codespell: after the last comma is a reason)."""
    data = data.strip()
    if "," in data:
        data = data.rsplit(",", 1)[0]
        return tuple(c for c in (part.strip() for part in data.split(",")) if c)
    return (data,) if data else ()


def _entries(text: str) -> dict[str, str]:
    """Known misspelling (lower case) -> its line's corrections, unparsed."""
    raw: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, data = line.partition("->")
        if sep:
            raw[key.strip().lower()] = data
    return raw


KEY_BUCKETS = 4096
SET_AFTER = 20_000  # lookups in kept keys after which they are made a set


def _bucket(key: str) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) & (KEY_BUCKETS - 1)


def key_buckets(keys: Iterable[str]) -> list[str]:
    """The keys hashed into KEY_BUCKETS strings, each `\\nkey\\nkey\\n` (see _KeySet)."""
    buckets: list[list[str]] = [[] for _ in range(KEY_BUCKETS)]
    for key in keys:
        buckets[_bucket(key)].append(key)
    return ["\n" + "".join(k + "\n" for k in sorted(b)) for b in buckets]


class _KeySet:
    """The dictionary's keys as a run kept them: hashed into buckets of
    newline-separated keys. Reading them back makes 4,096 strings (0.3 ms), not
    65,000 and a set of them (21 ms), and a lookup is a search in one bucket of
    about sixteen keys. A run that looks up many words (a whole site) makes the
    set after all, after SET_AFTER lookups."""

    __slots__ = ("_asked", "_buckets", "_set")

    def __init__(self, buckets: list[str]) -> None:
        self._buckets = buckets
        self._set: frozenset[str] | None = None
        self._asked = 0

    def __contains__(self, key: object) -> bool:
        if self._set is not None:
            return key in self._set
        if not isinstance(key, str) or "\n" in key:
            return False
        self._asked += 1
        if self._asked > SET_AFTER:
            return key in self.as_set()
        return f"\n{key}\n" in self._buckets[_bucket(key)]

    def isdisjoint(self, words: Iterable[str]) -> bool:
        if self._set is not None:
            return self._set.isdisjoint(words)
        return not any(word in self for word in words)

    def as_set(self) -> frozenset[str]:
        if self._set is None:
            self._set = frozenset(k for b in self._buckets for k in b[1:-1].split("\n") if k)
        return self._set

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_set())

    def __len__(self) -> int:
        return sum(b.count("\n") - 1 for b in self._buckets)


class _Dictionary:
    """Known misspelling (lower case) -> corrections, each parsed on first use.

    Made from the dictionary's text, or from its keys alone (kept in the cache
    folder by an earlier run): most texts hold no misspelling, and a lookup
    needs only the keys, so the text (65,000 lines) is read when a correction
    is first asked for."""

    __slots__ = ("_parsed", "_raw", "_source", "keys")

    def __init__(
        self, text: str | None, keys: _KeySet | None = None, source: Path | None = None
    ) -> None:
        self._raw: dict[str, str] | None = None
        self._source = source
        self._parsed: dict[str, tuple[str, ...]] = {}
        if text is not None:
            self._raw = _entries(text)
            self.keys: Set[str] | _KeySet = self._raw.keys()
        else:
            self.keys = keys or _KeySet(key_buckets([]))

    def __contains__(self, key: str) -> bool:
        return key in self.keys

    def __len__(self) -> int:
        return len(self.keys)

    def entries(self) -> dict[str, str]:
        """Key -> its corrections unparsed (the text read on first use)."""
        if self._raw is None:
            source = self._source or dictionary_path()
            self._raw = _entries(source.read_text(encoding="utf-8"))
        return self._raw

    def corrections(self, key: str) -> tuple[str, ...]:
        found = self._parsed.get(key)
        if found is None:
            found = self._parsed[key] = _parse_corrections(self.entries().get(key, ""))
        return found


# Where a run keeps the dictionary's keys for the next (the linter's cache folder).
_KEYS_FOLDER: Path | None = None
_KEYS_FORMAT = "2"
KEYS_KEPT_DAYS = 30


def keep_keys_in(folder: Path | None) -> None:
    """Keep the dictionary's keys in `folder` (None: nowhere), for the next
    process: reading them back takes a quarter of parsing the dictionary, which
    a run that lints one page would otherwise spend a tenth of its time on."""
    global _KEYS_FOLDER
    _KEYS_FOLDER = folder


@functools.cache
def _dictionary() -> _Dictionary:
    path = dictionary_path()
    kept = _kept_keys(path)
    keys = _read_keys(kept) if kept is not None else None
    if keys is not None:
        return _Dictionary(None, keys, path)
    loaded = _Dictionary(path.read_text(encoding="utf-8"))
    if kept is not None:
        _write_keys(kept, key_buckets(loaded.keys))
    return loaded


def load_dictionary() -> None:
    """Load the dictionary now, its entries and the set of its keys too: worker
    processes forked after share them (each would make them again)."""
    loaded = _dictionary()
    loaded.entries()
    if isinstance(loaded.keys, _KeySet):
        loaded.keys.as_set()


def _kept_keys(path: Path) -> Path | None:
    """Where the keys of the dictionary at `path` are kept, named by it (another
    codespell, another file); None when they are kept nowhere."""
    if _KEYS_FOLDER is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    tag = f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{_KEYS_FORMAT}".encode("utf-8", "replace")
    return _KEYS_FOLDER / f"codespell-keys-{zlib.crc32(tag):08x}.marshal"


def _read_keys(kept: Path) -> _KeySet | None:
    """The keys an earlier run kept, or None (none kept, or damaged). A file
    read is touched once a day: it is in use (see _write_keys)."""
    try:
        buckets = codec.unseal(kept.read_bytes())
    except (OSError, codec.DecodeError):
        return None
    if not (
        isinstance(buckets, list)
        and len(buckets) == KEY_BUCKETS
        and all(isinstance(b, str) and b[:1] == b[-1:] == "\n" for b in buckets)
    ):
        return None
    with contextlib.suppress(OSError):
        if kept.stat().st_mtime < time.time() - 86400:
            os.utime(kept)
    return _KeySet(buckets)


def _write_keys(kept: Path, buckets: list[str]) -> None:
    """Write the file whole (two runs at once each write a whole one). The
    folder's keys of another dictionary go when unused for a month. A folder
    we cannot write to only means parsing again next time."""
    try:
        atomic_write(kept, codec.seal(buckets))
        # Another codespell's (a hook's environment beside the project's) stays
        # while it is used (its readers touch it once a day).
        stale = time.time() - KEYS_KEPT_DAYS * 86400
        for old in kept.parent.glob("codespell-keys-*.marshal"):
            if old != kept and old.stat().st_mtime < stale:
                old.unlink(missing_ok=True)
    except OSError:
        pass


def _lookup_key(word: str) -> str | None:
    """The dictionary key for `word`, or None when its case pattern is not looked up."""
    if word.islower():
        key = word
    elif word.isupper():
        if len(word) < _MIN_CAPS_LEN:
            return None
        key = word.lower()
    elif word[0].isupper() and word[1:].islower():
        key = word.lower()
    else:
        return None
    return key.replace("\u2019", "'")


def _adapt(correction: str, word: str) -> str:
    """Give `correction` the case (and apostrophe) of `word`."""
    if word.isupper():
        correction = correction.upper()
    elif word[0].isupper():
        correction = correction[:1].upper() + correction[1:]
    if "\u2019" in word:
        correction = correction.replace("'", "\u2019")
    return correction


class Speller:
    """Finds known misspellings in text; `allow` words (any case) are never reported."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self._dict = _dictionary()
        self._token_re, self._run_re, self._piece_re, self._code_re = patterns()
        self._allow = frozenset(w.strip().lower().replace("\u2019", "'") for w in allow)
        # Caches, by whitespace-delimited chunk: chunks known to hold no misspelling,
        # and the misspellings (offset in the chunk, word, key) of those that do.
        self._clean: set[str] = set()
        self._hits: dict[str, tuple[_Hit, ...]] = {}

    def check(self, text: str) -> list[Misspelling]:
        """Every known misspelling in `text`, in order of offset."""
        new = set(text.split())
        new -= self._clean
        if not new:
            return []
        hits = self._hits
        found: list[str] = []
        clean: list[str] = []
        # Most chunks are plain words with punctuation: when none of their letter runs,
        # lower-cased, is a dictionary key (one C-level pass for all of them), they are
        # clean. Chunks with apostrophes or hyphens, and suspects, are analysed one by one.
        plain: list[str] = []
        analyse: list[str] = []
        for chunk in new:
            if chunk in hits:
                found.append(chunk)
            elif "-" in chunk or "'" in chunk or "\u2019" in chunk:
                analyse.append(chunk)
            else:
                plain.append(chunk)
        keys = self._dict.keys
        if plain:
            if keys.isdisjoint(self._run_re.findall(" ".join(plain).lower())):
                clean.extend(plain)
            else:
                for chunk in plain:
                    if keys.isdisjoint(self._run_re.findall(chunk.lower())):
                        clean.append(chunk)
                    else:
                        analyse.append(chunk)
        for chunk in analyse:
            parts = self._analyse(chunk)
            if parts:
                hits[chunk] = parts
                found.append(chunk)
            else:
                clean.append(chunk)
        if len(self._clean) > _CLEAN_CACHE_MAX:
            self._clean.clear()
        self._clean.update(clean)
        if not found:
            return []
        out: list[Misspelling] = []
        for start, chunk in _occurrences(text, found):
            for rel, word, key in hits[chunk]:
                out.append(self._misspelling(start + rel, word, key))
        out.sort(key=lambda m: m.offset)
        return out

    def _misspelling(self, offset: int, word: str, key: str) -> Misspelling:
        candidates = tuple(_adapt(c, word) for c in self._dict.corrections(key))
        return Misspelling(offset, word, candidates[0], candidates)

    def _analyse(self, chunk: str) -> tuple[_Hit, ...]:
        """The misspelled words of one whitespace-delimited chunk."""
        hits: list[_Hit] = []
        for piece in self._piece_re.finditer(chunk):
            text = piece.group()
            if text[0] == "-" or self._code_re.search(text):
                continue
            base = piece.start()
            size = len(text)
            for token in self._token_re.finditer(text):
                start, end = token.span()
                if _near_digit(text, start, end, size):
                    continue
                hits.extend(self._find(token.group(), base + start))
        return tuple(h for h in hits if self._dict.corrections(h[2]))

    def _find(self, word: str, offset: int) -> list[_Hit]:
        """The misspelled parts of one word: whole, without a possessive, or by hyphen."""
        key = _lookup_key(word)
        if key is not None:
            if key in self._allow:
                return []
            if key in self._dict:
                return [(offset, word, key)]
        if len(word) > 2 and word[-2] in _APOS and word[-1] in "sS":
            stem = self._find(word[:-2], offset)
            if stem:
                return stem
        parts: list[_Hit] = []
        if "-" in word:
            pos = offset
            for part in word.split("-"):
                parts.extend(self._find(part, pos))
                pos += len(part) + 1
        return parts


def _near_digit(text: str, start: int, end: int, size: int) -> bool:
    """A digit touches text[start:end], directly or across one joiner or dot (teh2, v-1)."""
    if start > 0:
        before = text[start - 1]
        if before.isdigit() or (
            before in _DIGIT_JOINERS and start > 1 and text[start - 2].isdigit()
        ):
            return True
    if end < size:
        after = text[end]
        if after.isdigit() or (
            after in _DIGIT_JOINERS and end + 1 < size and text[end + 1].isdigit()
        ):
            return True
    return False


def _occurrences(text: str, chunks: list[str]) -> list[tuple[int, str]]:
    """(offset, chunk) for every whitespace-delimited occurrence of the `chunks` in `text`."""
    if len(text) >= _REGEX_LOCATE_MIN:
        alternatives = "|".join(re.escape(c) for c in sorted(chunks, key=len, reverse=True))
        pattern = re.compile(rf"(?<!\S)(?:{alternatives})(?!\S)")
        return [(m.start(), m.group()) for m in pattern.finditer(text)]
    found: list[tuple[int, str]] = []
    size = len(text)
    for chunk in chunks:
        length = len(chunk)
        start = text.find(chunk)
        while start >= 0:
            end = start + length
            if (start == 0 or text[start - 1].isspace()) and (end == size or text[end].isspace()):
                found.append((start, chunk))
            start = text.find(chunk, start + 1)
    return found


@functools.cache
def default_speller() -> Speller:
    """The shared speller with no allow list (the dictionary is loaded once a process)."""
    return Speller()
