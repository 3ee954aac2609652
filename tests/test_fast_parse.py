"""The parse shortcuts (parsing/mdit.py) change no fact.

For every page here (the fixtures, the example site, fuzzed text), the facts of
the fast parse are byte for byte those of markdown-it-py as it comes, under
each combination of parse settings the presets use. bench/facts_equal.py makes
the same comparison over every page of both corpora.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import FunctionType, SimpleNamespace

import fuzzing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it.helpers import parseLinkDestination
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.table import escapedSplit
from markdown_it.token import Token

from handbook_lint.cache import codec
from handbook_lint.parsing import mdit
from handbook_lint.parsing.markdown import ParseSettings, parse_page
from handbook_lint.parsing.shortcodes import PLACEHOLDER_START

NAME = "module"  # (a global of this module, for the copied rule)

# More with FAST_PARSE_EXAMPLES=20000 (this proof has found nothing at 20,000).
EXAMPLES = int(os.environ.get("FAST_PARSE_EXAMPLES", "300"))
# The old regexes of what a fact in inline content can start with: a proof that
# the chain of `in` in _inline_where_needed says the same.
_TRIGGERS = re.compile(rf"[\[<&\\@{PLACEHOLDER_START}]|://|www\.")
_TRIGGERS_TERMS = re.compile(rf"[\[<&\\@:{PLACEHOLDER_START}]|://|www\.")
TRIGGERING = f"[<&\\@:/w.x{PLACEHOLDER_START}"
# What block and inline rules start with, and what normalize changes.
MARKUP = "[]<>&\\@:`#*-_|~!^ \n\t>1.xw/\r\0="
ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(
    p
    for folder in (ROOT / "tests" / "fixtures", ROOT / "examples")
    for p in folder.rglob("*.md")
    if ".handbook-lint-cache" not in p.parts
)
# The settings the presets make (default, gitlab-handbook, hugo-docs), and each
# with prose spelling on (which turns the inline shortcut off).
SETTINGS = [
    ParseSettings(),
    ParseSettings(raw_prefixes=("assets/includes/",)),
    ParseSettings(definition_term_ids=True),
    ParseSettings(heading_ids="github-ascii", heading_text="source"),
    ParseSettings(heading_ids="blackfriday", typographer=False, linkify=False),
    ParseSettings(prose=True),
    ParseSettings(definition_term_ids=True, prose=True),
]


def same_facts(text: str, path: str, parse: ParseSettings) -> bool:
    fast = codec.encode(parse_page(text, path, parse))
    return fast == codec.encode(parse_page(text, path, parse, full=True))


def test_there_are_pages_to_compare() -> None:
    assert len(PAGES) >= 50


@pytest.mark.parametrize("parse", SETTINGS, ids=repr)
def test_fast_parse_has_the_facts_of_a_full_parse_on_every_fixture(parse: ParseSettings) -> None:
    differ = [
        str(p.relative_to(ROOT))
        for p in PAGES
        if not same_facts(p.read_text("utf-8", errors="replace"), p.name, parse)
    ]
    assert differ == []


@settings(max_examples=EXAMPLES // 2, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    extra=st.text(st.sampled_from(list("[]()<>&\\@:`#*-_|~!^{}\n \tx1.\r\0"))) | st.text(),
    parse=st.sampled_from(SETTINGS),
)
def test_fast_parse_has_the_facts_of_a_full_parse_on_fuzzed_text(
    seed: int, extra: str, parse: ParseSettings
) -> None:
    rng = random.Random(seed)
    text = fuzzing.mutate_page(rng, fuzzing.SEED_PAGES)
    at = rng.randrange(len(text) + 1)
    assert same_facts(text[:at] + extra + text[at:], "content/p.md", parse)


@given(text=st.text(alphabet=st.sampled_from(list(MARKUP)), max_size=80))
@settings(max_examples=EXAMPLES, deadline=None)
def test_the_fast_parser_gives_markdown_it_pys_tokens(text: str) -> None:
    """Tokens, not only facts: the guarded, dispatching parser and markdown-it-py
    agree (block and inline rules)."""
    fast, plain = mdit.markdown(), mdit.markdown(fast=False)
    assert [t.as_dict() for t in fast.parse(text)] == [t.as_dict() for t in plain.parse(text)]


def test_the_shortcuts_are_taken() -> None:
    """A paragraph with nothing a fact comes from is not parsed inline; one with
    a link, a heading and a term are (else the proof above proves nothing)."""
    md = mdit.markdown()
    env = {mdit.SKIP_PLAIN: "plain"}
    text = "Plain words only.\n\nA [link](/x/).\n\n# Plain heading\n\nterm\n: its definition\n"
    inline = [t for t in md.parse(text, env) if t.type == "inline"]
    assert [bool(t.children) for t in inline] == [False, True, True, True, False]
    # With no skip in the env (prose spelling, or another caller), everything is.
    assert all(t.children for t in md.parse(text, {}) if t.type == "inline")
    calls: list[int] = []
    md = mdit.markdown(fast=False)
    for rule in md.block.ruler.__rules__:
        if rule.name == "heading":
            rule.fn = _counting(rule.fn, calls)
    mdit._guard_block_rules(md)  # (the guard goes in front of the counting rule)
    md.parse("one\n\ntwo\n\n# three\n")
    assert calls == [4]  # called only at the line that starts with `#`


def _counting(real: mdit.BlockRule, calls: list[int]) -> mdit.BlockRule:
    def rule(state: StateBlock, line: int, end: int, silent: bool) -> bool:
        calls.append(line)
        return real(state, line, end, silent)

    return rule


@given(
    text=st.text(alphabet=st.sampled_from(list("ab()<>\\ \t\n\x00\x7f&;#x:/.")), max_size=40),
    pos=st.integers(0, 45),
    cut=st.integers(0, 45),
)
@settings(max_examples=EXAMPLES, deadline=None)
def test_a_link_destination_is_read_as_markdown_it_reads_it(text: str, pos: int, cut: int) -> None:
    """The searching reader of destinations and markdown-it-py's one agree on
    where a destination ends and what it says, for any text and bounds."""
    maximum = min(cut, len(text))
    ours = mdit._link_destination(text, pos, maximum)
    theirs = parseLinkDestination(text, pos, maximum)
    assert (ours.ok, ours.pos, ours.str) == (theirs.ok, theirs.pos, theirs.str)


def test_a_table_row_is_split_as_markdown_it_splits_it() -> None:
    """Every row of pipes, backslashes and text up to 8 characters (9,841)."""
    for size in range(9):
        for row in map("".join, itertools.product("|\\a", repeat=size)):
            assert mdit._split_cells(row) == escapedSplit(row), row


def test_inline_content_is_parsed_where_a_fact_can_start() -> None:
    """Content is parsed inline when it holds one of what a fact starts with
    (a `:` too with term ids), and only then: every text of up to 4 of the
    characters they are made of (22,621)."""
    texts = (
        "".join(chars) for size in range(5) for chars in itertools.product(TRIGGERING, repeat=size)
    )
    for text, (skip, triggers) in itertools.product(
        texts, (("plain", _TRIGGERS), ("terms", _TRIGGERS_TERMS))
    ):
        parsed: list[str] = []
        token = Token("inline", "", 0, content=text)
        state = SimpleNamespace(
            env={mdit.SKIP_PLAIN: skip},
            tokens=[Token("paragraph_open", "p", 1), token],
            md=SimpleNamespace(inline=SimpleNamespace(parse=_recorder(parsed))),
        )
        mdit._inline_where_needed(state)  # type: ignore[arg-type]
        assert parsed == ([text] if triggers.search(text) else []), (text, skip)


def _recorder(parsed: list[str]) -> Callable[..., None]:
    def parse(content: str, *_: object) -> None:
        parsed.append(content)

    return parse


def test_a_rule_copied_with_globals_of_its_own_keeps_its_defaults_and_closure() -> None:
    def make(scale: int) -> Callable[..., tuple[int, int, int, str]]:
        def rule(a: int, b: int = 2, *, c: int = 3) -> tuple[int, int, int, str]:
            return a * scale, b, c, NAME

        return rule

    rule = make(10)
    assert isinstance(rule, FunctionType)
    copy = mdit._with_globals(rule, {"NAME": "own"})
    assert copy(1) == (10, 2, 3, "own")
    assert copy(1, 5, c=7) == (10, 5, 7, "own")
    assert copy.__qualname__ == rule.__qualname__
    assert rule(1) == (10, 2, 3, NAME)  # (the original keeps its module's)


def test_the_rules_run_with_globals_of_their_own(caplog: pytest.LogCaptureFixture) -> None:
    """The fast parser's block rules log nothing and split table rows with
    `_split_cells`; markdown-it-py's modules, and a parser made without the
    shortcuts, keep their own (which log at DEBUG)."""
    text = "# Title\n\n| a | b \\| c |\n| - | - |\n| 1 | 2 |\n\n- item\n"
    caplog.set_level(logging.DEBUG, logger="markdown_it")
    localized = mdit.markdown(fast=False)
    mdit._localized(localized.block.ruler)
    table = next(r.fn for r in localized.block.ruler.__rules__ if r.name == "table")
    assert table.__globals__["escapedSplit"] is mdit._split_cells
    assert table.__globals__["__name__"] == "markdown_it.rules_block.table"
    fast = mdit.markdown()
    fast.parse(text)
    assert caplog.records == []
    # (the package's names `table` and `paragraph` are the rules, not the modules)
    assert sys.modules["markdown_it.rules_block.table"].escapedSplit is escapedSplit
    assert isinstance(sys.modules["markdown_it.rules_block.paragraph"].LOGGER, logging.Logger)
    cells = [t.content for t in fast.parse(text) if t.type == "inline"][1:4]
    assert cells == ["a", "b | c", "1"]
    mdit.markdown(fast=False).parse(text)
    assert any("entering paragraph" in r.getMessage() for r in caplog.records)
    # What else a rule asks of its logger is the real logger's.
    caplog.clear()
    quiet = mdit._QuietLogger(logging.getLogger("markdown_it.rules_block.list"))
    quiet.debug("entering %s", 1)
    assert caplog.records == []
    quiet.warning("a warning")
    assert [r.getMessage() for r in caplog.records] == ["a warning"]
    assert quiet.name == "markdown_it.rules_block.list"
