"""Tests for handbook_lint.parsing.anchors (Hugo/Goldmark heading ids)."""

from __future__ import annotations

import importlib.util
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

if importlib.util.find_spec("handbook_lint") is None:  # not installed: use the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from handbook_lint.parsing.anchors import STYLES, AnchorRegistry, sanitize
from handbook_lint.parsing.attributes import parse_attributes
from handbook_lint.parsing.markdown import ParseSettings, parse_page

# --- sanitize: github (Hugo's default) ----------------------------------------

GITHUB_CASES = [
    # From the brief and Hugo's autoid_test.go (generated on github.com).
    ("Many   spaces  here", "many---spaces--here"),
    ("Trailing hyphen-", "trailing-hyphen-"),
    ("1+2=3", "123"),
    ("Forward/slash", "forwardslash"),
    ("Backward\\slash", "backwardslash"),
    ("God is good: 神真美好", "god-is-good-神真美好"),
    ("Resumé", "resumé"),
    ("Tab\tSpace", "tabspace"),
    ("Let's try this, shall we?", "lets-try-this-shall-we"),
    ("  leading", "leading"),
    ("Trailing Space ", "trailing-space"),
    ("Number 32", "number-32"),
    ("Question?", "question"),
    ('Special !"#$%&(parens)=?´* chars', "special-parens-chars"),
    ("One-Hyphen", "one-hyphen"),
    ("Multiple--Hyphens", "multiple--hyphens"),
    ("Under_score", "under_score"),
    ("Nonbreaking\u00a0Space", "nonbreakingspace"),
    # Unicode letters (any L*) and decimal digits (Nd) are kept, lowercased.
    ("Ελληνικά Κείμενα", "ελληνικά-κείμενα"),
    ("Кириллица", "кириллица"),
    ("Straße", "straße"),
    ("Arabic digits ٣٤", "arabic-digits-٣٤"),
    ("Devanagari ४२", "devanagari-४२"),
    ("한국어 제목", "한국어-제목"),
    ("ǅemal", "ǆemal"),  # titlecase letter (Lt)
    ("İstanbul", "istanbul"),  # Go's ToLower(U+0130) is a plain 'i'
    ("ＡＢＣ", "ａｂｃ"),  # fullwidth letters are letters
    # Numbers that are not Nd, symbols, emoji and marks are dropped.
    ("Chapter Ⅻ", "chapter-"),
    ("E = mc²", "e--mc"),
    ("½ cup", "-cup"),
    ("Rocket 🚀 launch", "rocket--launch"),
    ("Flag 🇳🇱", "flag-"),
    ("Resume\u0301", "resume"),  # a decomposed accent is a mark (Mn)
    ("Copyright © 2024", "copyright--2024"),
    ("snake_case_name", "snake_case_name"),
    ("__dunder__", "__dunder__"),
    ("C++ & C#", "c--c"),
    ("v1.2.3 (2024-01-02)", "v123-2024-01-02"),
    ("`code` and *emphasis*", "code-and-emphasis"),
    # Only '-' and ASCII space become '-'; nothing is collapsed or trimmed after.
    ("-leading and trailing-", "-leading-and-trailing-"),
    ("a - b", "a---b"),
    ("en–dash em—dash", "endash-emdash"),
    ("line\nbreak", "linebreak"),
    # Trimming is Go's unicode.IsSpace, before anything else.
    ("\u3000Ideographic\u3000", "ideographic"),
    ("\u00a0 \u2003Mixed\t \n", "mixed"),
    ("\x1fUnit separator", "unit-separator"),  # not whitespace to Go: dropped
    ("\x1f lead", "-lead"),  # ...so the space after it is not trimmed
    ("   ", ""),
    ("", ""),
    ("?!", ""),
]


@pytest.mark.parametrize(("text", "expected"), GITHUB_CASES)
def test_sanitize_github(text: str, expected: str) -> None:
    assert sanitize(text) == expected
    assert sanitize(text, "github") == expected


# --- sanitize: github-ascii ---------------------------------------------------

ASCII_CASES = [
    ("Resumé", "resume"),
    ("神真美好", ""),
    ("god is神真美好 good", "god-is-good"),
    ("God is good: 神真美好", "god-is-good-"),
    ("Crème Brûlée", "creme-brulee"),
    ("Ångström", "angstrom"),
    ("Straße", "strae"),  # ß does not decompose
    ("Øresund", "resund"),  # neither does Ø
    ("ﬁle", "le"),  # Hugo uses NFD, not NFKD: the ligature stays and is dropped
    ("ＡＢＣ abc", "-abc"),  # fullwidth only decomposes under NFKD
    ("Resume\u0301", "resume"),
    ("İstanbul", "istanbul"),
    ("\u3000 Spaced \u3000", "spaced"),
    ("Many   spaces  here", "many---spaces--here"),
    ("Under_score", "under_score"),
    ("Let's try this, shall we?", "lets-try-this-shall-we"),
]


@pytest.mark.parametrize(("text", "expected"), ASCII_CASES)
def test_sanitize_github_ascii(text: str, expected: str) -> None:
    assert sanitize(text, "github-ascii") == expected


# --- sanitize: blackfriday ----------------------------------------------------

BLACKFRIDAY_CASES = [
    ("Let's try this, shall we?", "let-s-try-this-shall-we"),
    ("Many   spaces  here", "many-spaces-here"),
    ("Trailing hyphen-", "trailing-hyphen"),
    ("--Leading", "leading"),
    ("1+2=3", "1-2-3"),
    ("Under_score", "under-score"),  # '_' is not a letter here
    ("God is good: 神真美好", "god-is-good-神真美好"),
    ("Resumé", "resumé"),
    ("Chapter Ⅻ", "chapter-ⅻ"),  # unicode.IsNumber: any N*
    ("E = mc²", "e-mc²"),
    ("Rocket 🚀 launch", "rocket-launch"),
    ("  padded  ", "padded"),
    ("?!", ""),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), BLACKFRIDAY_CASES)
def test_sanitize_blackfriday(text: str, expected: str) -> None:
    assert sanitize(text, "blackfriday") == expected


@pytest.mark.parametrize("style", ["GitHub", "markdown", "", "github_ascii", "pandoc"])
def test_sanitize_rejects_unknown_style(style: str) -> None:
    with pytest.raises(ValueError, match="unknown anchor style"):
        sanitize("Title", style)


def test_sanitize_is_repeatable() -> None:
    # The per-character tables are filled lazily; results must not change.
    texts = ["Ünïcödé 神 ٣ 🚀", "Résumé", "Ⅻ²"]
    first = [sanitize(t, s) for s in STYLES for t in texts]
    assert [sanitize(t, s) for s in STYLES for t in texts] == first


# --- AnchorRegistry -----------------------------------------------------------


def allocate(texts: list[str], style: str = "github") -> list[str]:
    registry = AnchorRegistry()
    return [registry.auto(text, style) for text in texts]


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["Foo", "Foo", "Foo 1"], ["foo", "foo-1", "foo-1-1"]),
        (["Foo", "Foo", "Foo", "Foo"], ["foo", "foo-1", "foo-2", "foo-3"]),
        (["Foo 1", "Foo", "Foo"], ["foo-1", "foo", "foo-2"]),
        (["Foo 2", "Foo", "Foo", "Foo"], ["foo-2", "foo", "foo-1", "foo-3"]),
        (["Foo", "Foo", "Foo-1", "Foo 1"], ["foo", "foo-1", "foo-1-1", "foo-1-2"]),
        (["A", "a", "A!"], ["a", "a-1", "a-2"]),
        (["", "?", "🚀", "Heading"], ["heading", "heading-1", "heading-2", "heading-3"]),
        (["Heading", ""], ["heading", "heading-1"]),
        (["Intro", "Setup", "Intro"], ["intro", "setup", "intro-1"]),
    ],
)
def test_auto_dedupes_like_goldmark(texts: list[str], expected: list[str]) -> None:
    assert allocate(texts) == expected


def test_auto_uses_the_style() -> None:
    registry = AnchorRegistry()
    assert registry.auto("Résumé", "github-ascii") == "resume"
    assert registry.auto("Resume", "github-ascii") == "resume-1"
    assert registry.auto("神真美好", "github-ascii") == "heading"
    assert registry.auto("Let's go", "blackfriday") == "let-s-go"
    with pytest.raises(ValueError):
        registry.auto("Title", "nope")


def test_explicit_is_kept_verbatim_and_blocks_later_auto_ids() -> None:
    registry = AnchorRegistry()
    assert registry.auto("Foo") == "foo"
    assert registry.explicit("foo") == "foo"  # duplicate, but explicit ids are never renamed
    assert registry.explicit("Custom ID!") == "Custom ID!"  # not sanitized either
    assert registry.auto("Foo") == "foo-1"
    assert registry.explicit("bar") == "bar"
    assert registry.auto("Bar") == "bar-1"
    assert "Custom ID!" in registry


def test_explicit_numbered_id_is_skipped_by_auto() -> None:
    registry = AnchorRegistry()
    registry.explicit("foo-1")
    assert [registry.auto("Foo") for _ in range(3)] == ["foo", "foo-2", "foo-3"]


def test_add_existing_counts_as_used() -> None:
    registry = AnchorRegistry()
    registry.add_existing("install")
    registry.add_existing("install-1")
    assert "install" in registry
    assert "install-2" not in registry
    assert registry.auto("Install") == "install-2"
    assert registry.auto("Install") == "install-3"


def test_contains() -> None:
    registry = AnchorRegistry()
    assert "foo" not in registry
    registry.auto("Foo")
    assert "foo" in registry
    assert "Foo" not in registry  # ids are case-sensitive
    assert len(registry) == 1


def test_registries_are_independent() -> None:
    first, second = AnchorRegistry(), AnchorRegistry()
    assert first.auto("Foo") == "foo"
    assert second.auto("Foo") == "foo"


# --- parse_attributes ---------------------------------------------------------

ATTRIBUTE_CASES: list[tuple[str, str, dict[str, str] | None]] = [
    ("Title {#custom}", "Title", {"id": "custom"}),
    ("Title{#custom}", "Title", {"id": "custom"}),
    ("Title   {#custom}   ", "Title", {"id": "custom"}),
    ("Title\t{#custom}", "Title", {"id": "custom"}),
    ('Title {#id .cls data-x="1"}', "Title", {"id": "id", "class": "cls", "data-x": "1"}),
    ("Title {.a .b}", "Title", {"class": "a b"}),
    ('Title {.a class="b c" .d}', "Title", {"class": "a b c d"}),
    ("Title {#a #b}", "Title", {"id": "b"}),  # the last id wins
    ("Title { #spaced }", "Title", {"id": "spaced"}),
    ("Title {#a, .b}", "Title", {"id": "a", "class": "b"}),
    ("Title {#a:b.c_d-e}", "Title", {"id": "a:b.c_d-e"}),
    ("Title {#über}", "Title", {"id": "über"}),
    ("Title {key=value}", "Title", {"key": "value"}),
    ("Title {key = value}", "Title", {"key": "value"}),
    ("Title {data-n=42 ratio=-1.5e3}", "Title", {"data-n": "42", "ratio": "-1.5e3"}),
    ("Title {flag=true}", "Title", {"flag": "true"}),
    ('Title {hl=[1, 2 "x"]}', "Title", {"hl": '[1, 2 "x"]'}),
    ('Title {title="say \\"hi\\""}', "Title", {"title": 'say "hi"'}),
    ('Title {title="a } b"}', "Title", {"title": "a } b"}),
    ("Title {#}", "Title", {"id": ""}),
    ("Title {}", "Title", {}),
    ("{#only}", "", {"id": "only"}),
    ("Title ## {#x}", "Title", {"id": "x"}),  # ATX closing sequence before the block
    ("Title ## {.c}", "Title", {"class": "c"}),
    ("Use {braces} here {#x}", "Use {braces} here", {"id": "x"}),
    ("Title {#first} {#second}", "Title {#first}", {"id": "second"}),
    ("Title \\\\{#x}", "Title \\\\", {"id": "x"}),  # the backslash is itself escaped
    # Not a (valid, trailing) attribute block: returned unchanged.
    ("Title {{< sc >}}", "Title {{< sc >}}", None),
    ("Title {{% sc %}}", "Title {{% sc %}}", None),
    ("Title {{< sc >}} ", "Title {{< sc >}} ", None),
    ("Title {not attrs}", "Title {not attrs}", None),
    ("Title {foo bar baz}", "Title {foo bar baz}", None),
    ("Title {#a} trailing", "Title {#a} trailing", None),
    ("Title {#a/b}", "Title {#a/b}", None),
    ("Title { }", "Title { }", None),
    ("Title {#a", "Title {#a", None),
    ("Title {key=}", "Title {key=}", None),
    ("Title {key='single'}", "Title {key='single'}", None),  # Goldmark has no '...' values
    ("Title {1key=x}", "Title {1key=x}", None),
    ("Title {class=1}", "Title {class=1}", None),  # a class must be a string
    ("Title {n=1e}", "Title {n=1e}", None),
    ('Title {t="unterminated}', 'Title {t="unterminated}', None),
    ("Title \\{#x}", "Title \\{#x}", None),  # escaped brace
    ("Title {x={#nested}}", "Title {x={#nested}}", None),  # ends with '}}'
    ("Plain title", "Plain title", None),
    ("", "", None),
]


@pytest.mark.parametrize(("text", "expected_text", "expected_attrs"), ATTRIBUTE_CASES)
def test_parse_attributes(
    text: str, expected_text: str, expected_attrs: dict[str, str] | None
) -> None:
    assert parse_attributes(text) == (expected_text, expected_attrs)


def test_attributes_then_auto_id() -> None:
    registry = AnchorRegistry()
    ids = []
    for raw in ["Intro", "Intro {#intro}", "Intro {.note}", "Setup {#custom}", "Custom"]:
        text, attrs = parse_attributes(raw)
        if attrs is not None and "id" in attrs:
            ids.append(registry.explicit(attrs["id"]))
        else:
            ids.append(registry.auto(text))
    assert ids == ["intro", "intro", "intro-1", "custom", "custom-1"]


# --- properties ---------------------------------------------------------------


def _is_github_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    return ch in "-_" or category[0] == "L" or category == "Nd"


@given(st.text(), st.sampled_from(STYLES))
def test_sanitize_never_raises_and_is_idempotent(text: str, style: str) -> None:
    once = sanitize(text, style)
    if once:
        assert sanitize(once, style) == once


@given(st.text())
def test_github_output_alphabet(text: str) -> None:
    result = sanitize(text)
    assert all(_is_github_char(ch) for ch in result)
    assert sanitize(result) == result


@given(st.text())
def test_github_ascii_output_alphabet(text: str) -> None:
    result = sanitize(text, "github-ascii")
    assert result.isascii()
    assert all(ch in "-_" or ch.isalnum() for ch in result)
    assert result == result.lower()


@given(st.text())
def test_blackfriday_output_shape(text: str) -> None:
    result = sanitize(text, "blackfriday")
    assert not result.startswith("-")
    assert not result.endswith("-")
    assert "--" not in result
    assert "_" not in result


_OPS = st.lists(
    st.tuples(
        st.sampled_from(["auto", "auto", "auto", "explicit", "existing"]),
        st.one_of(
            st.sampled_from(["Foo", "foo", "Foo 1", "foo-1", "foo-2", "", "?", "heading-1"]),
            st.text(max_size=8),
        ),
    ),
    max_size=40,
)


@given(_OPS)
def test_auto_ids_are_unique(ops: list[tuple[str, str]]) -> None:
    registry = AnchorRegistry()
    used: set[str] = set()
    for op, value in ops:
        if op == "auto":
            anchor = registry.auto(value)
            assert anchor
            assert anchor not in used
            used.add(anchor)
        elif op == "explicit":
            assert registry.explicit(value) == value
            used.add(value)
        else:
            registry.add_existing(value)
            used.add(value)
        assert all(a in registry for a in used)


@given(_OPS)
def test_auto_matches_goldmark_reference(ops: list[tuple[str, str]]) -> None:
    # Goldmark's loop: try base, then base-1, base-2, ... against every id so far.
    used: set[str] = set()
    registry = AnchorRegistry()
    for op, value in ops:
        if op != "auto":
            used.add(value)
            registry.add_existing(value)
            continue
        base = sanitize(value) or "heading"
        expected, i = base, 0
        while expected in used:
            i += 1
            expected = f"{base}-{i}"
        used.add(expected)
        assert registry.auto(value) == expected


@given(st.text())
def test_parse_attributes_never_raises(text: str) -> None:
    stripped, attrs = parse_attributes(text)
    if attrs is None:
        assert stripped == text
    else:
        assert text.startswith(stripped)
        assert len(stripped) < len(text)


@given(
    st.text(max_size=20),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_:.-]{0,10}", fullmatch=True),
    st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,6}", fullmatch=True), max_size=3),
)
def test_parse_attributes_round_trip(title: str, anchor: str, classes: list[str]) -> None:
    # One line of heading text without braces or backslashes of its own.
    title = title.replace("{", "").replace("\\", "").replace("\n", " ").strip(" \t\v\f\r")
    block = " ".join([f"#{anchor}", *(f".{c}" for c in classes)])
    stripped, attrs = parse_attributes(f"{title} {{{block}}}")
    assert attrs is not None
    assert attrs["id"] == anchor
    assert attrs.get("class", "") == " ".join(classes)
    assert title.startswith(stripped)


PIECES = [*"ab _*~[]!`'\"-.:@/#<>&;x\\", "www.", "https://e.co/x", "a@b.co", "&#39;", "&amp;"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=20).map("".join))
def test_any_heading_gets_an_id_hugo_could_make(text: str) -> None:
    """Whatever the heading holds: no crash, and the id (if any) uses only the
    characters Goldmark's github ids keep."""
    facts = parse_page(f"## {text}\n\n**{text}** x\n", "p.md", ParseSettings())
    for kind, value, _ in facts.anchor_events:
        if kind == "auto":
            assert value == "heading" or all(c.isalnum() or c in "-_" for c in value), value
