"""Common misspellings in link text, headings and (when enabled) prose."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from handbook_lint.checks.context import PageContext
from handbook_lint.checks.registry import Edit, Fix, Problem, list_of_strings, register
from handbook_lint.checks.speller import Speller
from handbook_lint.parsing.facts import Heading, TextSpan


def _likely_name(word: str) -> bool:
    """Names, acronyms and foreign words that happen to be in the misspelling
    list: ALL-CAPS words, words under 4 letters and short capitalised words
    (`Linz`, `Shure`, `Objet`)."""
    if word.isupper() or len(word) < 4:
        return True
    return word[0].isupper() and len(word) < 6


@lru_cache(maxsize=8)
def _speller(words: tuple[str, ...]) -> Speller:
    return Speller(allow=words)


@register(
    "spelling",
    "warning",
    "A common misspelling in link text, a heading or (when enabled) prose.",
    options={"prose": False, "words": []},
    option_docs={
        "prose": "also check the text of paragraphs, lists and tables, not only "
        "link text and headings",
        "words": "project words that are never reported (case-insensitive)",
    },
    validate=list_of_strings("words"),
    fix="safe: replaces the word with its correction, keeping its case (`Misson` to "
    "`Mission`), when the list has exactly one; unsafe in a heading without an `{#id}` "
    "of its own, whose id (which links may use) the fix changes",
)
def spelling(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Looks up every word of link text and headings (and of
    prose when `prose: true`) in codespell's list of common misspellings (a
    maintained list of known wrong spellings, not a full dictionary: unknown
    words and names are never reported). Code spans, code blocks, URLs, HTML
    and shortcode calls are never checked, nor words in identifiers, paths or
    e-mail addresses, nor CJK text, nor a word of a lower-case name of four or
    more hyphenated parts (`wg-incident-respose-management`), nor a word of
    link text that the link's own URL spells the same way (a name). Words
    that are likely names or acronyms are skipped: ALL-CAPS words, words
    under 4 letters and capitalised words under 6 letters. The suggestion is
    the correction. Add project terms (and names) to `words`.

    **Why.** A typo in link text is what readers click; a typo in a heading
    becomes a typo in its anchor, which every link to it must then repeat.

    **Example (bad).**

    ```markdown
    Champions the [GitLab misson](/handbook/company/mission/).
    ```

    **Use instead.**

    ```markdown
    Champions the [GitLab mission](/handbook/company/mission/).
    ```
    """
    speller = _speller(tuple(options["words"]))
    prose = options["prose"]
    for span in ctx.facts.texts:
        if span.kind == "prose" and not prose:
            continue
        for miss in speller.check(span.text):
            if _likely_name(miss.word):
                continue
            if (span.glued_before and miss.offset == 0) or (
                span.glued_after and miss.offset + len(miss.word) == len(span.text)
            ):
                continue  # part of a word split by markup: **P**roduction
            if _slug(span.text, miss.offset, len(miss.word)):
                continue
            if span.kind == "link" and _in_destination(ctx, span.line, miss.word):
                continue
            column = span.column + miss.offset if span.column else 0
            where = {"heading": "heading", "link": "link text"}.get(span.kind, "text")
            fix = None
            if not (span.kind == "link" and _in_label(ctx, span.line, miss.word)):
                fix = _replacement(span, column, miss.word, miss.candidates, ctx.facts.headings)
            yield Problem(
                span.line,
                column,
                f"'{miss.word}' in {where} is a common misspelling",
                suggestion=miss.suggestion,
                fix=fix,
            )


def _slug(text: str, offset: int, length: int) -> bool:
    """The word is part of a lower-case name of four or more hyphenated parts
    (`wg-incident-respose-management`): a channel, a label, a file: its name."""
    start = text.rfind(" ", 0, offset) + 1
    end = text.find(" ", offset + length)
    chunk = text[start : end if end >= 0 else len(text)]
    return chunk.count("-") >= 3 and chunk == chunk.lower()


def _in_destination(ctx: PageContext, line: int, word: str) -> bool:
    """The link's own URL spells the word so (`[Marti Konstant](https://martikonstant.com)`):
    a name, written as its owner writes it."""
    lowered = word.lower()
    return any(link.line == line and lowered in link.target.lower() for link in ctx.facts.links)


def _in_label(ctx: PageContext, line: int, word: str) -> bool:
    """A reference link on the line whose label holds the word (`[Recieve]`, a
    shortcut reference, is its own label): fixing the text would unlink it."""
    lowered = word.lower()
    return any(
        link.line == line and link.kind == "reference" and lowered in link.label.lower()
        for link in ctx.facts.links
    )


def _replacement(
    span: TextSpan,
    column: int,
    word: str,
    candidates: tuple[str, ...],
    headings: list[Heading],
) -> Fix | None:
    """The word replaced by its only correction. A heading's id is made from its
    text: unless the heading names its id, fixing the text moves the id."""
    if len(candidates) != 1 or column < 1 or "\n" in span.text[: column - span.column]:
        return None  # (a word on a later line of the text: its place is not known)
    # A heading's or a definition term's id is made from its text (link text in
    # a heading too). Looked up here, for the rare misspelling with a fix.
    heading = next((h for h in headings if h.line == span.line), None)
    safe = heading.explicit if heading is not None else span.kind not in ("heading", "term")
    return Fix((Edit(span.line, column - 1, word, candidates[0], word=True),), safe)
