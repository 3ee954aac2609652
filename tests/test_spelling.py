"""Tests for handbook_lint.checks.speller (known misspellings, codespell's dictionary)."""

from __future__ import annotations

import functools
import json
import marshal
import os
import re
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from conftest import write_site
from hypothesis import given, settings
from hypothesis import strategies as st

from handbook_lint.checks import speller as spelling
from handbook_lint.checks import spelling as spelling_rule
from handbook_lint.checks.speller import Misspelling, Speller, default_speller


def found(text: str, speller: Speller | None = None) -> list[tuple[int, str, str]]:
    sp = speller or default_speller()
    return [(m.offset, m.word, m.suggestion) for m in sp.check(text)]


def words(text: str, speller: Speller | None = None) -> list[str]:
    return [m.word for m in (speller or default_speller()).check(text)]


# --- the dictionary -------------------------------------------------------------


def test_dictionary_is_codespells_main_dictionary() -> None:
    path = spelling.dictionary_path()
    assert path.name == "dictionary.txt"
    assert path.parent.name == "data"
    assert path.parent.parent.name == "codespell_lib"
    assert len(spelling._dictionary()) > 50_000


def test_dictionary_loads_fast() -> None:
    start = time.perf_counter()
    loaded = spelling._Dictionary(spelling.dictionary_path().read_text(encoding="utf-8"))
    elapsed = time.perf_counter() - start
    assert "teh" in loaded
    assert elapsed < 0.5  # about 40 ms here; the budget is 150 ms, with slack for CI


@pytest.fixture
def keys_kept_in(tmp_path: Path) -> Iterator[Path]:
    """A fresh dictionary in this process, its keys kept in `tmp_path`."""
    _fresh_dictionary()
    spelling.keep_keys_in(tmp_path)
    yield tmp_path
    spelling.keep_keys_in(None)
    _fresh_dictionary()


def _fresh_dictionary() -> None:
    """Forget the loaded dictionary and every speller holding it."""
    spelling._dictionary.cache_clear()
    spelling.default_speller.cache_clear()
    spelling_rule._speller.cache_clear()


def test_the_dictionarys_keys_are_kept_and_read_back(keys_kept_in: Path) -> None:
    parsed = spelling._dictionary()
    (kept,) = keys_kept_in.glob("codespell-keys-*.marshal")
    spelling._dictionary.cache_clear()
    read_back = spelling._dictionary()
    assert read_back._raw is None  # (the text is not read for the keys)
    assert set(read_back.keys) == set(parsed.keys) and len(read_back) == len(parsed)
    assert found("Hello world.", Speller()) == [] and read_back._raw is None
    # A text that holds a misspelling reads the entries, and gets the same answers.
    assert found("Read teh docs.", Speller()) == [(5, "teh", "the")]
    assert read_back.corrections("teh") == parsed.corrections("teh")
    assert read_back.corrections("accomodate") == parsed.corrections("accomodate")
    assert list(keys_kept_in.glob("codespell-keys-*.marshal")) == [kept]


@functools.cache
def _text_keys() -> frozenset[str]:
    """The keys of the dictionary's text itself (never keys kept by a run)."""
    text = spelling.dictionary_path().read_text(encoding="utf-8")
    return frozenset(spelling._Dictionary(text).keys)


@functools.cache
def _buckets() -> list[str]:
    return spelling.key_buckets(_text_keys())


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.text(max_size=12), st.sampled_from(["teh", "misson", "recieve", "the"])),
        max_size=30,
    )
)
def test_kept_keys_answer_as_the_set_of_keys(words: list[str]) -> None:
    """Keys read back are looked up in their bucket, and after SET_AFTER
    lookups in a set: both answer as the dictionary's own keys."""
    keys = _text_keys()
    kept = spelling._KeySet(_buckets())
    assert [w in kept for w in words] == [w in keys for w in words]
    assert kept.isdisjoint(words) == keys.isdisjoint(words)


def test_kept_keys_are_all_the_keys_and_a_set_after_many_lookups() -> None:
    keys = _text_keys()
    kept = spelling._KeySet(_buckets())
    assert len(kept) == len(keys) and set(kept) == set(keys)
    assert all(k in kept for k in keys)
    words = ["teh", "the", "misson", "Teh", "", "a\nb", "\n", "recieve", "x" * 40]
    with mock.patch.object(spelling, "SET_AFTER", 3):
        late = spelling._KeySet(_buckets())
        assert [w in late for w in words] == [w in keys for w in words]
        assert late._set is not None  # (a set from the fourth lookup on)
        assert late.isdisjoint(words[1:2]) and not late.isdisjoint(words)


@pytest.mark.parametrize("damage", ["flip", "cut", "empty", "not-a-list", "buckets"])
def test_damaged_kept_keys_are_made_again(keys_kept_in: Path, damage: str) -> None:
    expected = set(spelling._dictionary().keys)
    (kept,) = keys_kept_in.glob("codespell-keys-*.marshal")
    blob = kept.read_bytes()
    if damage == "flip":
        blob = blob[:1000] + bytes([blob[1000] ^ 0x40]) + blob[1001:]
    elif damage == "cut":
        blob = blob[: len(blob) // 2]
    elif damage == "empty":
        blob = b""
    else:
        value: dict[str, str] | list[str] = (
            {"teh": "the"} if damage == "not-a-list" else ["\nteh\n"] * 7
        )
        payload = marshal.dumps(value)
        blob = zlib.crc32(payload).to_bytes(4, "big") + payload
    kept.write_bytes(blob)
    spelling._dictionary.cache_clear()
    again = spelling._dictionary()
    assert again._raw is not None and set(again.keys) == expected  # parsed, not read
    spelling._dictionary.cache_clear()
    assert set(spelling._dictionary().keys) == expected  # and kept right again
    assert spelling._dictionary()._raw is None


def test_keys_of_another_dictionary_are_not_read(keys_kept_in: Path) -> None:
    """Another codespell (another file, size or time) has keys of its own; the
    other's file stays while it is used, and goes a month after its last use."""
    spelling._dictionary()
    (kept,) = keys_kept_in.glob("codespell-keys-*.marshal")
    other = keys_kept_in / "codespell-keys-00000000.marshal"
    kept.rename(other)
    spelling._dictionary.cache_clear()
    assert spelling._dictionary()._raw is not None
    assert {p.name for p in keys_kept_in.glob("codespell-keys-*.marshal")} == {
        kept.name,
        other.name,
    }
    month_ago = time.time() - 31 * 86400
    os.utime(other, (month_ago, month_ago))
    os.utime(kept, (month_ago, month_ago))
    spelling._dictionary.cache_clear()
    assert spelling._dictionary()._raw is None  # read, and touched: in use
    assert kept.stat().st_mtime > month_ago + 86400
    kept.unlink()
    spelling._dictionary.cache_clear()
    spelling._dictionary()  # written again: the unused one goes
    assert [p.name for p in keys_kept_in.glob("codespell-keys-*.marshal")] == [kept.name]


def test_a_folder_that_cannot_be_written_only_means_parsing(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder", "utf-8")
    _fresh_dictionary()
    spelling.keep_keys_in(tmp_path / "a-file" / "folder")
    try:
        assert "accomodate" in spelling._dictionary()
        assert spelling._dictionary()._raw is not None
    finally:
        spelling.keep_keys_in(None)
        _fresh_dictionary()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_speller_shares_the_dictionary() -> None:
    assert Speller()._dict is Speller(allow=["teh"])._dict is default_speller()._dict
    assert default_speller() is default_speller()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("the", ("the",)),
        (" the \n", ("the",)),
        ("cache, ache,", ("cache", "ache")),
        ("anyone is, anyone, anyone's,", ("anyone is", "anyone", "anyone's")),
        ("right, reason why it is not fixed", ("right",)),
        ("a, b, reason", ("a", "b")),
        ("", ()),
    ],
)
def test_parse_corrections(data: str, expected: tuple[str, ...]) -> None:
    assert spelling._parse_corrections(data) == expected


# --- what is found ---------------------------------------------------------------


def test_misson_in_link_text() -> None:
    assert default_speller().check("GitLab misson") == [
        Misspelling(offset=7, word="misson", suggestion="mission", candidates=("mission",))
    ]


@pytest.mark.parametrize(
    ("word", "suggestion"),
    [("teh", "the"), ("recieve", "receive"), ("occured", "occurred"), ("seperate", "separate")],
)
def test_real_dictionary_entries(word: str, suggestion: str) -> None:
    assert found(f"We {word} it.") == [(3, word, suggestion)]


def test_case_is_adapted() -> None:
    assert found("Misson MISSON misson") == [
        (0, "Misson", "Mission"),
        (7, "MISSON", "MISSION"),
        (14, "misson", "mission"),
    ]
    assert found("Recieve") == [(0, "Recieve", "Receive")]


def test_correction_keeps_its_own_capitals() -> None:
    # acsii->ASCII: a lower-case word takes the correction as the dictionary writes it.
    assert found("plain acsii text") == [(6, "acsii", "ASCII")]


def test_several_candidates() -> None:
    (m,) = default_speller().check("the aache")  # aache->cache, ache,
    assert m.suggestion == "cache"
    assert m.candidates == ("cache", "ache")
    (m,) = default_speller().check("Aache")
    assert m.candidates == ("Cache", "Ache")


def test_inner_capitals_and_short_acronyms_are_not_looked_up() -> None:
    assert words("TeH mIsson misSon GitLab macOS") == []
    # ALL-CAPS words under four characters are acronyms (OT, UE, ACI are keys).
    assert words("OT UE ACI TEH") == []
    assert words("ot teh") == ["ot", "teh"]


def test_apostrophes() -> None:
    assert found("It doens't work") == [(3, "doens't", "doesn't")]
    assert found("It doens’t work") == [(3, "doens’t", "doesn’t")]
    # a possessive is looked up without its 's; quotes are not part of the word
    assert found("teh's 'teh' ‘recieve’") == [
        (0, "teh", "the"),
        (7, "teh", "the"),
        (13, "recieve", "receive"),
    ]


def test_hyphenated_words() -> None:
    # looked up whole first (auto-detet is a key), then part by part
    assert found("auto-detet") == [(0, "auto-detet", "auto-detect")]
    assert found("well-teh-known") == [(5, "teh", "the")]
    assert found("Recieve-only") == [(0, "Recieve", "Receive")]


def test_punctuation_around_words() -> None:
    text = '(teh), "recieve"; occured. Misson! [teh]'
    result = default_speller().check(text)
    assert [m.word for m in result] == ["teh", "recieve", "occured", "Misson", "teh"]
    for m in result:
        assert text[m.offset : m.offset + len(m.word)] == m.word


def test_repeated_word_every_offset() -> None:
    text = "teh teh\tteh\nteh  teh"
    assert [m.offset for m in default_speller().check(text)] == [0, 4, 8, 12, 17]


def test_results_are_in_offset_order() -> None:
    text = "occured then teh then recieve then teh"
    offsets = [m.offset for m in default_speller().check(text)]
    assert offsets == sorted(offsets) == [0, 13, 22, 35]


def test_correct_text_and_unknown_words_are_not_reported() -> None:
    text = "The quick brown fox jumps over the lazy dog. Kubectl, Zarf and Xyzzyq are fine."
    assert words(text) == []


# --- what is not found -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "foo.md",
        "teh.md",
        "misson.html",
        "teh_var",
        "_teh",
        "my_misson_file",
        "example.com/misson",
        "https://example.com/teh",
        "see /usr/share/teh/",
        "docs/misson/index.md",
        "C:\\teh\\recieve",
        "teh@example.com",
        "mailto:teh@example.com",
        "teh2",
        "2teh",
        "teh-2",
        "v1.teh",
        "--recieve",
        "-teh",
        "key=teh",
        "#teh",
        "{{teh}}",
        "<teh>",
        "`teh`",
        "std::teh",
        "$teh",
        "100%teh",
    ],
)
def test_identifiers_paths_urls_emails_not_reported(text: str) -> None:
    assert words(text) == []
    assert words(f"Some words, then {text} and more.") == []


def test_only_the_code_like_chunk_is_skipped() -> None:
    assert found("teh foo.md teh") == [(0, "teh", "the"), (11, "teh", "the")]


def test_allow_list() -> None:
    sp = Speller(allow=["Teh", "MISSON", "auto-detet"])
    assert words("teh Teh TEHS misson Misson recieve auto-detet", sp) == ["recieve"]
    # the default speller is not affected
    assert words("teh misson") == ["teh", "misson"]


def test_allow_list_curly_apostrophe() -> None:
    sp = Speller(allow=["doens’t"])
    assert words("doens't doens’t", sp) == []


# --- CJK ----------------------------------------------------------------------------


def test_cjk_text_is_never_reported() -> None:
    assert (
        words("これは日本語の文章です。漢字とひらがなとカタカナ。한국어 문장입니다. 中文句子。")
        == []
    )
    assert words("ＧｉｔＬａｂ　ｍｉｓｓｏｎ") == []  # full-width forms


def test_english_words_inside_cjk_text() -> None:
    text = "これはtehです。GitLabのmissonを参照。"
    assert found(text) == [(3, "teh", "the"), (16, "misson", "mission")]
    assert words("詳細はexample.com/missonを参照") == []
    assert words("ファイルteh_var.mdを開く") == []


def test_other_scripts() -> None:
    assert words("Ελληνικά кириллица naïve café İteh tehé") == []


# --- long texts (located by one regex) -------------------------------------------


def test_long_text_matches_short_text_results() -> None:
    para = "GitLab misson: teh docs, foo.md and recieve. "
    text = para * 2000
    assert len(text) >= spelling._REGEX_LOCATE_MIN
    result = Speller().check(text)
    assert len(result) == 3 * 2000
    for m in result:
        assert text[m.offset : m.offset + len(m.word)] == m.word
    expected = [(m.offset, m.word) for m in Speller().check(para)]
    assert [(m.offset, m.word) for m in result[:3]] == expected


def test_cache_does_not_change_results() -> None:
    sp = Speller()
    first = sp.check("teh misson and good words")
    assert sp.check("teh misson and good words") == first
    assert sp.check("good words and misson") == [Misspelling(15, "misson", "mission", ("mission",))]


# --- properties -------------------------------------------------------------------

_TYPOS = ["teh", "misson", "recieve", "occured", "Teh", "MISSON", "doens't", "auto-detet"]
_PIECES = [
    *_TYPOS,
    "the",
    "GitLab",
    "foo.md",
    "teh_var",
    "x/teh",
    "teh2",
    "-",
    "'",
    "’",
    ".",
    "(",
    ")",
    "日本",
    "の",
    "é",
    "İ",
    "2",
    "_",
    "/",
    " ",
    "\n",
    "\t",
    "\u3000",
    "a",
    "s",
]

_texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(_PIECES), max_size=40).map("".join),
)


def _reference(speller: Speller, text: str) -> list[Misspelling]:
    """The same analysis, chunk by chunk, without the screening and caches."""
    out: list[Misspelling] = []
    for chunk in re.finditer(r"\S+", text):
        for rel, word, key in speller._analyse(chunk.group()):
            out.append(speller._misspelling(chunk.start() + rel, word, key))
    return out


@settings(max_examples=400, deadline=None)
@given(_texts)
def test_check_never_raises_and_offsets_are_consistent(text: str) -> None:
    sp = default_speller()
    result = sp.check(text)
    for m in result:
        assert text[m.offset : m.offset + len(m.word)] == m.word
        assert m.suggestion == m.candidates[0]
        assert m.word
    offsets = [m.offset for m in result]
    assert offsets == sorted(offsets)
    assert len(set(offsets)) == len(offsets)
    assert result == _reference(sp, text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_long_text_path_agrees(text: str) -> None:
    with mock.patch.object(spelling, "_REGEX_LOCATE_MIN", 0):
        assert Speller().check(text) == _reference(default_speller(), text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*_TYPOS, "the", "GitLab", "ok"]), max_size=30))
def test_every_typo_word_is_found_at_its_offset(parts: list[str]) -> None:
    text = " ".join(parts)
    expected = []
    pos = 0
    for part in parts:
        if part in _TYPOS:
            expected.append((pos, part))
        pos += len(part) + 1
    assert [(m.offset, m.word) for m in default_speller().check(text)] == expected


def test_a_run_keeps_the_keys_in_its_cache_folder(tmp_path: Path) -> None:
    """Through the command, in fresh processes: the first run keeps the keys,
    the next reads them and finds the same; --no-cache keeps nothing."""
    page = "---\ntitle: Home\n---\n\n## The accomodation\n\nSee [the recieved docs](/).\n"
    write_site(tmp_path, {"content/_index.md": page}, {})

    def run(*args: str) -> list[tuple[int, str, str]]:
        proc = subprocess.run(
            [sys.executable, "-m", "handbook_lint", "check", "--format", "json", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        return [
            (f["line"], f["message"], f["suggestion"]) for f in json.loads(proc.stdout)["findings"]
        ]

    cold = run("--no-cache")
    assert not (tmp_path / ".handbook-lint-cache").exists()
    assert len(cold) == 2 and {s for _, _, s in cold} == {"accommodation", "received"}
    assert run() == cold
    assert len(list((tmp_path / ".handbook-lint-cache").glob("codespell-keys-*.marshal"))) == 1
    (tmp_path / "content/_index.md").write_text(page.replace("/).", "/) now."), "utf-8")
    assert run() == cold  # (parsed again, the keys read back)


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_words_of_a_piece_are_those_of_the_letter_class_with_cjk(text: str) -> None:
    """Words are found in pieces between CJK characters, with a letter class
    that leaves the CJK ranges out (a tenth of the compile time): the same
    words as with them."""
    with_cjk = re.compile(rf"{spelling._LETTER}+(?:[{spelling._JOINERS}]{spelling._LETTER}+)*")
    token_re, _, piece_re, _ = spelling.patterns()
    for piece in piece_re.finditer(text):
        found = [m.span() for m in token_re.finditer(piece.group())]
        assert found == [m.span() for m in with_cjk.finditer(piece.group())]
