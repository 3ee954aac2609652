"""The markdown-it-py parser as handbook-lint runs it: the same tokens as
markdown-it-py's own, for less work.

Five shortcuts, none of which changes what a page's facts say (the proof is
`tests/test_fast_parse.py` over fixtures and fuzzed text, and
`bench/facts_equal.py` over every page of both corpora):

* **Rules are asked only when they can match.** markdown-it-py tries every
  block rule at every line (and every inline rule at every delimiter), and
  each one returns False at once unless the line starts with (the position
  holds) its own character. In each chain, the rules keyed by one character
  (`#` for a heading, `>` for a quote, `[` for a link ...) become one rule that
  reads the character once and asks only those that start with it, in their
  order. A guard in front of the other rules looks first at what they require
  (the next line's `|`, `-` or `:` for a table, four columns of indent for
  code, a line of the paragraph that starts with `=` or `-` for a setext
  heading, three of its first character on the line for a thematic break).
  The answers are the same. One side effect is not: mdit-py-plugins'
  `footnote_ref` puts an empty `footnotes` entry in the env before it looks at
  its character; it now does that only at a `[`. Nothing here reads that
  entry (only `env["references"]`), and tokens and facts are unchanged.
* **Link destinations are found by one search** (`_link_destination`) where
  markdown-it-py reads one character at a time; a destination in `<...>`, or
  with a backslash or a parenthesis, still goes to its reader.
* **Inline parsing only where a fact can come from.** A paragraph's inline
  parse yields its links, raw HTML, footnote references, code spans around a
  shortcode, bare URLs and `[text][label]` left as text; headings and terms are
  parsed whole for their ids. Content holding none of the characters those
  start with (`[`, `<`, `&`, `\\`, `@`, `://`, `www.`, a masked shortcode, and
  `:` when term ids are on) can yield no fact, so it is not parsed when the
  caller says prose text is not wanted (`env[SKIP_PLAIN]`). Entities and
  backslash escapes are triggers because they are the only way a text token
  can hold a character its source line does not.
* **Line endings are normalised only when there is a CR or a NUL** (the
  page's CRLF were made LF before), not by replacing every line feed by itself.
* **Block rules run with globals of their own** (copies of the rule functions,
  `_localized`; markdown-it-py's modules are not changed): a table row is split
  at its pipes by `_split_cells` (one `str.split` when no pipe is escaped)
  where `escapedSplit` reads it one character at a time, and `LOGGER.debug`,
  called on entering each rule at each line, is a `_QuietLogger`'s no-op.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from types import FunctionType, MethodType, SimpleNamespace
from typing import Any, Literal

from markdown_it import MarkdownIt, helpers
from markdown_it.common.utils import unescapeAll
from markdown_it.parser_block import ParserBlock
from markdown_it.ruler import Ruler
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore, normalize
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import OptionsDict
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

from handbook_lint.parsing.shortcodes import PLACEHOLDER_START

BlockRule = Callable[[StateBlock, int, int, bool], bool]
InlineRule = Callable[[StateInline, bool], bool]

# Key of the parse env: when present, inline content is parsed only where a fact
# can come from; its value says whether `:` is a trigger (definition term ids).
SKIP_PLAIN = "handbook_lint.skip_plain"

# The character a rule requires first on its line (after indentation).
_FIRST_CHARACTER = {
    "fence": "`~",
    "blockquote": ">",
    "hr": "*-_",
    "list": "*-+0123456789",
    "footnote_def": "[",
    "reference": "[",
    "html_block": "<",
    "heading": "#",
}
# The character each inline rule requires at its position (every rule after
# `text`, which takes the run of characters none of them starts with).
_INLINE_FIRST_CHARACTER = {
    "newline": "\n",
    "escape": "\\",
    "backticks": "`",
    "strikethrough": "~",
    "emphasis": "_*",
    "link": "[",
    "image": "!",
    "footnote_inline": "^",
    "footnote_ref": "[",
    "autolink": "<",
    "html_inline": "<",
    "entity": "&",
}
# Blocks whose inline content is always parsed: the text makes the id.
_WHOLE = frozenset({"heading_open", "dt_open"})


def markdown(fast: bool = True) -> MarkdownIt:
    """The parser: CommonMark with raw HTML, tables, strikethrough, footnotes
    and definition lists; destinations kept as written."""
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.use(footnote_plugin).use(deflist_plugin)
    # Keep destinations as written: no percent-encoding, no scheme filtering.
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    if fast:
        _guard_block_rules(md)
        _dispatch_on_first_character(md.inline.ruler, _INLINE_FIRST_CHARACTER, _inline_dispatcher)
        # (this parser's helpers only: markdown_it.helpers stays as it is)
        md.options = _Options(md.options._options)
        if _MAKES_TOKENS:
            md.block.parse = MethodType(_parse_blocks, md.block)  # type: ignore[method-assign]
        own = {name: getattr(helpers, name) for name in dir(helpers) if not name.startswith("_")}
        own["parseLinkDestination"] = _link_destination
        md.helpers = SimpleNamespace(**own)  # type: ignore[assignment]
        md.core.ruler.at("inline", _inline_where_needed)
        md.core.ruler.at("normalize", _normalize_if_needed)
    return md


class _QuietLogger:
    """A logger whose `debug` does nothing, for the block rules: each says it is
    entering at each line it is asked about (a method call with five arguments,
    a third of a million times per thousand pages). The rest is the real one's."""

    __slots__ = ("real",)  # (an instance without it: no recursion in __getattr__)

    debug = staticmethod("".format)  # (a C function that takes any arguments)

    def __init__(self, real: logging.Logger) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


# A pipe that separates table cells: one no backslash stands before.
_CELL_PIPE = re.compile(r"(?<!\\)\|")


def _split_cells(row: str) -> list[str]:
    """markdown-it-py's `escapedSplit`: `row` split at its pipes but those that
    follow a backslash, whose backslash goes (`\\|` is a `|` in its cell)."""
    if "\\|" not in row:
        return row.split("|")
    return [cell.replace("\\|", "|") for cell in _CELL_PIPE.split(row)]


def _localized(ruler: Ruler[Any]) -> None:
    """Each block rule (a plain function) whose module has a `LOGGER` or (the
    table rule) an `escapedSplit` is replaced by a copy of itself whose globals
    name a `_QuietLogger` of that logger and `_split_cells` instead; the module
    and the parsers of other callers keep the originals. The copies' globals
    are the module's as they are when the parser is made (what a rule reads of
    them is never rebound; a mutable value is shared). Before the guards and
    the dispatch (`_guard_block_rules`): they wrap the copies, and `ruler.at`
    would drop their chains."""
    for rule in ruler.__rules__:
        fn = rule.fn
        if not isinstance(fn, FunctionType):
            continue
        names = fn.__globals__
        own: dict[str, Any] = {}
        if isinstance(names.get("LOGGER"), logging.Logger):
            own["LOGGER"] = _QuietLogger(names["LOGGER"])
        if rule.name == "table" and "escapedSplit" in names:
            own["escapedSplit"] = _split_cells
        if own:
            ruler.at(rule.name, _with_globals(fn, own), {"alt": list(rule.alt)})


def _with_globals(fn: FunctionType, own: dict[str, Any]) -> FunctionType:
    copy = FunctionType(
        fn.__code__, {**fn.__globals__, **own}, fn.__name__, fn.__defaults__, fn.__closure__
    )
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__qualname__ = fn.__qualname__
    return copy


def _guard_block_rules(md: MarkdownIt) -> None:
    ruler = md.block.ruler
    _localized(ruler)
    for rule in list(ruler.__rules__):
        guarded: BlockRule | None = None
        if rule.name == "table":
            guarded = _table(rule.fn)
        elif rule.name == "code":
            guarded = _code(rule.fn)
        elif rule.name == "deflist":
            guarded = _deflist(rule.fn)
        elif rule.name == "lheading":
            guarded = _setext(rule.fn)
        elif rule.name == "hr":
            guarded = _hr(rule.fn)
        if guarded is not None:
            ruler.at(rule.name, guarded, {"alt": list(rule.alt)})
    _dispatch_on_first_character(ruler, _FIRST_CHARACTER, _block_dispatcher)


def _dispatch_on_first_character(
    ruler: Ruler[Any], first: dict[str, str], dispatcher: Callable[..., Any]
) -> None:
    """In each chain of rules (for blocks: the main one, and those a paragraph,
    a list or a blockquote asks whether a line ends it), the rules of `first`
    that stand together become one: it reads the first character once and asks
    only the rules that can start with it, in their order. Before, the loops
    asked every rule at every line (every delimiter, inline).

    The chains are compiled here and their lists replaced; a later change to the
    ruler compiles them again as they come (the same parse, without this)."""
    names = {rule.fn: rule.name for rule in ruler.__rules__}
    ruler.getRules("")  # (compiles every chain)
    chains = ruler.__cache__ or {}
    for chain, rules in chains.items():
        grouped: list[Any] = []
        run: list[Any] = []
        for rule in [*rules, None]:
            if rule is not None and names.get(rule) in first:
                run.append(rule)
                continue
            if run:
                grouped.append(dispatcher(_by_character([(first[names[r]], r) for r in run])))
                run = []
            if rule is not None:
                grouped.append(rule)
        chains[chain] = grouped


def _by_character(rules: list[tuple[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        character: tuple(rule for characters, rule in rules if character in characters)
        for character in "".join(characters for characters, _ in rules)
    }


def _block_dispatcher(table: dict[str, tuple[BlockRule, ...]]) -> BlockRule:
    def dispatch(state: StateBlock, line: int, end: int, silent: bool) -> bool:
        at = state.bMarks[line] + state.tShift[line]
        if at >= state.eMarks[line]:
            return False
        for rule in table.get(state.src[at], ()):  # noqa: SIM110 (any() of a generator: slower)
            if rule(state, line, end, silent):
                return True
        return False

    return dispatch


def _inline_dispatcher(table: dict[str, tuple[InlineRule, ...]]) -> InlineRule:
    def dispatch(state: StateInline, silent: bool) -> bool:
        for rule in table.get(state.src[state.pos], ()):  # noqa: SIM110 (as above)
            if rule(state, silent):
                return True
        return False

    return dispatch


# Token's fields (in their order), all of which `_Blocks.push` sets.
_TOKEN_FIELDS = (
    "type", "tag", "nesting", "attrs", "map", "level", "children",
    "content", "markup", "info", "meta", "block", "hidden",
)  # fmt: skip

# Another markdown-it-py, whose Token has other fields, makes its tokens itself.
_MAKES_TOKENS = tuple(f.name for f in dataclasses.fields(Token)) == _TOKEN_FIELDS

_new_object = object.__new__


class _Blocks(StateBlock):
    """The block state, pushing tokens made field by field (what StateBlock.push
    does with Token(), whose generated __init__ calls two factories and
    __post_init__, which converts the empty attrs to an empty dict, for each of
    a page's hundreds of tokens: three times the cost)."""

    def push(self, ttype: str, tag: str, nesting: Literal[-1, 0, 1]) -> Token:
        token: Token = _new_object(Token)
        token.type, token.tag, token.nesting = ttype, tag, nesting
        token.attrs, token.map, token.children = {}, None, None
        token.content, token.markup, token.info, token.meta = "", "", "", {}
        token.block, token.hidden = True, False
        if nesting < 0:
            self.level -= 1  # a closing tag
        token.level = self.level
        if nesting > 0:
            self.level += 1  # an opening tag
        self.tokens.append(token)
        return token


def _parse_blocks(
    self: ParserBlock, src: str, md: MarkdownIt, env: Any, tokens: list[Token]
) -> list[Token] | None:
    """ParserBlock.parse, with the state above."""
    if not src:
        return None
    state = _Blocks(src, md, env, tokens)
    self.tokenize(state, state.line, state.lineMax)
    return state.tokens


class _Options(OptionsDict):
    """markdown-it-py's options with a dict's `get`: the Mapping's went through
    `__getitem__` and raised a KeyError for each option not set, and the list
    and strikethrough rules ask for two of those on every call."""

    def get(self, key: str, default: Any = None) -> Any:
        return self._options.get(key, default)


# Where a link destination not in <...> may end, or needs the full scan (a
# backslash escape, parentheses, which nest).
_DESTINATION_STOP = re.compile(r"[\x00-\x20\x7f\\()]")


class _Destination:
    __slots__ = ("ok", "pos", "str")

    def __init__(self, ok: bool, pos: int, text: str) -> None:
        self.ok, self.pos, self.str = ok, pos, text


def _link_destination(string: str, pos: int, maximum: int) -> Any:
    """markdown-it-py's `parseLinkDestination`, which reads a destination one
    character at a time: the common case (not in `<...>`, no backslash and no
    parenthesis before its end) is found by one search; the rest goes to it."""
    if pos < maximum and string[pos] != "<":
        stop = _DESTINATION_STOP.search(string, pos, maximum)
        end = maximum if stop is None else stop.start()
        if stop is None or string[end] not in "\\(":
            # It ends at a space, a control character, a `)` or `maximum`.
            if end == pos:
                return _Destination(False, 0, "")
            return _Destination(True, end, unescapeAll(string[pos:end]))
    return helpers.parseLinkDestination(string, pos, maximum)


def _starts_with(state: StateBlock, line: int, characters: str) -> bool:
    """Line `line` is not blank and its first character (after indentation) is
    one of `characters`."""
    at = state.bMarks[line] + state.tShift[line]
    return at < state.eMarks[line] and state.src[at] in characters


def _table(rule: BlockRule) -> BlockRule:
    """A table needs a next line that starts with `|`, `-` or `:`."""

    def guarded(state: StateBlock, line: int, end: int, silent: bool) -> bool:
        after = line + 1
        return after < end and _starts_with(state, after, "|-:") and rule(state, line, end, silent)

    return guarded


def _code(rule: BlockRule) -> BlockRule:
    """An indented code block needs 4 columns more than the block's indent."""

    def guarded(state: StateBlock, line: int, end: int, silent: bool) -> bool:
        return state.sCount[line] - state.blkIndent >= 4 and rule(state, line, end, silent)

    return guarded


def _hr(rule: BlockRule) -> BlockRule:
    """A thematic break needs three of its first character on its line (the
    rule reads the line one character at a time to learn that a list item's
    `- text` has one)."""

    def guarded(state: StateBlock, line: int, end: int, silent: bool) -> bool:
        at, stop = state.bMarks[line] + state.tShift[line], state.eMarks[line]
        if at < stop and state.src.count(state.src[at], at, stop) < 3:
            return False
        return rule(state, line, end, silent)

    return guarded


def _setext(rule: BlockRule) -> BlockRule:
    """A setext heading needs an underline: a line of the paragraph (before the
    first blank line) that starts with `=` or `-`. The rule itself tries every
    block rule on each line of the paragraph on its way there."""

    def guarded(state: StateBlock, line: int, end: int, silent: bool) -> bool:
        after = line + 1
        while after < end and not state.isEmpty(after):
            if _starts_with(state, after, "-="):
                return rule(state, line, end, silent)
            after += 1
        return False

    return guarded


def _deflist(rule: BlockRule) -> BlockRule:
    """A definition list needs a `:` or `~` line: the next one (past one blank
    line) for a new list; this one, inside a definition, when it checks whether
    a line ends a paragraph."""

    def guarded(state: StateBlock, line: int, end: int, silent: bool) -> bool:
        if silent:
            if state.ddIndent < 0:
                return False
            at = line
        else:
            at = line + 1
            if at < end and state.isEmpty(at):
                at += 1
            if at >= end:
                return False
        return _starts_with(state, at, ":~") and rule(state, line, end, silent)

    return guarded


def _normalize_if_needed(state: StateCore) -> None:
    """markdown-it-py's `normalize` (CR and CRLF to LF, NUL to U+FFFD) when there
    is something to change: its regex replaced every line feed by itself."""
    if "\r" in state.src or "\0" in state.src:
        normalize(state)


def _inline_where_needed(state: StateCore) -> None:
    """markdown-it-py's core `inline` rule, skipping content no fact comes from."""
    skip: Any = state.env.get(SKIP_PLAIN) if isinstance(state.env, dict) else None
    terms = skip == "terms"
    tokens = state.tokens
    parse = state.md.inline.parse
    for i, token in enumerate(tokens):
        if token.type != "inline":
            continue
        if token.children is None:
            token.children = []
        if skip is not None and not (i and tokens[i - 1].type in _WHOLE):
            # Content with none of what a fact starts with (a `:` too when term
            # ids are on). One `in` each, the most frequent first: half the
            # time of one regex search with these alternatives.
            text = token.content
            if not (
                "[" in text
                or "<" in text
                or "&" in text
                or "\\" in text
                or "@" in text
                or PLACEHOLDER_START in text
                or "://" in text
                or "www." in text
                or (terms and ":" in text)
            ):
                continue
        parse(token.content, state.md, state.env, token.children)
