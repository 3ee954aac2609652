"""List structure: numbering style, lists split in two, content that does not nest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from handbook_lint.checks.context import PageContext
from handbook_lint.checks.registry import Edit, Fix, OptionError, Problem, register
from handbook_lint.parsing.facts import Block, ListBlock, ListItem, PageFacts

STYLES = ("one", "ordered", "one-or-ordered")
# Blocks that, standing between two ordered lists, show the list was split by
# content meant to sit inside an item (code, a table, a quote, raw HTML).
_SPLITTERS = frozenset({"fence", "code", "html", "table", "blockquote"})
# HTML that frames sections rather than sitting in a step: a closing tag, a
# comment (CommonMark's way to end a list on purpose) or a container's opening
# tag. Lists on either side of it are separate lists.
_CONTAINERS = frozenset(
    {"details", "summary", "div", "section", "article", "aside", "nav", "header", "footer"}
    | {"main", "figure", "form", "fieldset", "center", "ul", "ol", "dl", "table"}
)


def _boundary(block: Block) -> bool:
    tag = block.tag
    return block.kind == "html" and (not tag or tag.startswith(("/", "!")) or tag in _CONTAINERS)


def _list_blocks(ctx: PageContext) -> dict[int, int]:
    """Index of each list's block in facts.blocks, keyed by the list's line
    (computed once per page, in the page's shared memo: every list rule asks)."""
    index: dict[int, int] | None = ctx.shared.get("list_blocks")
    if index is None:
        blocks = ctx.facts.blocks
        index = ctx.shared["list_blocks"] = {
            b.line: i for i, b in enumerate(blocks) if b.kind == "list"
        }
    return index


def previous_list(
    facts: PageFacts, blocks_at: dict[int, int], lst: ListBlock
) -> tuple[ListBlock, list[Block]] | None:
    """The ordered list this one was split from, with the blocks in between.

    Walks back over the blocks at the same depth; stops at a heading, a rule,
    a paragraph (text between lists means two lists were meant) or a list
    that is not ordered.
    """
    index = blocks_at.get(lst.line)
    if index is None:
        return None
    between: list[Block] = []
    for block in reversed(facts.blocks[:index]):
        if block.depth > lst.depth:
            continue
        if block.depth < lst.depth:
            return None
        if block.kind == "list":
            prev = _list_at(facts, block.line, lst.depth)
            if prev is None or not prev.ordered or not between:
                return None
            return prev, list(reversed(between))
        if block.kind not in _SPLITTERS or _boundary(block):
            return None
        between.append(block)
        if len(between) > 3:
            return None
    return None


def _list_at(facts: PageFacts, line: int, depth: int) -> ListBlock | None:
    for lst in facts.lists:
        if lst.line == line and lst.depth == depth:
            return lst
    return None


def _adjacent_previous(
    facts: PageFacts, blocks_at: dict[int, int], lst: ListBlock
) -> ListBlock | None:
    """The list right before this one at the same depth, with nothing in between."""
    index = blocks_at.get(lst.line)
    if index is None:
        return None
    for block in reversed(facts.blocks[:index]):
        if block.depth > lst.depth:
            continue
        if block.depth == lst.depth and block.kind == "list":
            return _list_at(facts, block.line, lst.depth)
        return None
    return None


def _continues(facts: PageFacts, blocks_at: dict[int, int], lst: ListBlock) -> bool:
    """The list starts at the number after the last ordered list above it at the
    same depth (with no heading in between): a deliberate continuation."""
    index = blocks_at.get(lst.line)
    if index is None or not lst.items:
        return False
    for block in reversed(facts.blocks[:index]):
        if block.depth > lst.depth:
            continue
        if block.depth < lst.depth or block.kind in ("heading", "hr"):
            return False
        if block.kind == "list":
            prev = _list_at(facts, block.line, lst.depth)
            if prev is not None and prev.ordered and prev.items:
                last = prev.items[-1].number
                return last is not None and lst.items[0].number == last + 1
    return False


def _validate_numbering(options: dict[str, Any]) -> None:
    if options["style"] not in STYLES:
        raise OptionError("style", f"must be one of {', '.join(STYLES)}")


@register(
    "list-numbering",
    "warning",
    "Ordered-list numbers do not follow the configured style.",
    options={"style": "one-or-ordered"},
    option_docs={
        "style": "one (every item `1.`), ordered (1, 2, 3) or one-or-ordered "
        "(either, consistently within a list)"
    },
    validate=_validate_numbering,
    fix="safe: renumbers the whole list to its style (every item the first item's number, "
    "or counting up from it), keeping the start number; unsafe when a number changes "
    "width (`9.` to `10.`), which moves the item's text column",
)
def list_numbering(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Checks the numbers of each ordered list against the
    `style` option: `one` wants `1.` on every item, `ordered` wants 1, 2, 3,
    and `one-or-ordered` accepts either as long as one list keeps to one. It
    reports gaps, repeats, a list that does not start at 1, and a list whose
    delimiter (`.` or `)`) differs from the list right above it (CommonMark
    starts a new list when the delimiter changes).

    **Why.** Hugo renders the numbers from the first item only, so a wrong
    number in the source is invisible in review but misleading to the next
    editor, and a changed delimiter silently restarts the list.

    **Example (bad).**

    ```markdown
    1. Fork the project
    2. Make the change
    2. Open a merge request
    ```

    **Use instead.**

    ```markdown
    1. Fork the project
    1. Make the change
    1. Open a merge request
    ```
    """
    style = options["style"]
    facts = ctx.facts
    for lst in facts.lists:
        if not lst.ordered or not lst.items:
            continue
        adjacent = _adjacent_previous(facts, _list_blocks(ctx), lst)
        if (
            adjacent is not None
            and adjacent.ordered
            and adjacent.items
            and adjacent.items[0].delimiter != lst.items[0].delimiter
        ):
            first = lst.items[0]
            yield Problem(
                first.line,
                first.marker_column + 1,
                f"list delimiter '{first.delimiter}' differs from "
                f"'{adjacent.items[0].delimiter}' in the list above: this starts a new list",
            )
        yield from _numbers(lst, style, continued=_continues(facts, _list_blocks(ctx), lst))


def _numbers(lst: ListBlock, style: str, continued: bool) -> Iterator[Problem]:
    items = lst.items
    numbers = [item.number for item in items]
    if any(n is None for n in numbers):
        return
    effective = style
    if style == "one-or-ordered":
        effective = "one" if len(items) < 2 or numbers[1] == numbers[0] else "ordered"
    first = items[0]
    # A list may start at 0; a single item or a list continuing an earlier one
    # (split by paragraphs, as numbered clauses are) may start anywhere.
    if numbers[0] not in (0, 1) and not continued and len(items) > 1:
        yield Problem(first.line, first.marker_column + 1, f"list starts at {numbers[0]}, not 1")
    start = numbers[0]
    assert start is not None
    wanted = [start if effective == "one" else start + i for i in range(len(items))]
    fix = _renumbering(items, wanted)
    if effective == "one":
        for item in items[1:]:
            if item.number != start:
                yield Problem(
                    item.line,
                    item.marker_column + 1,
                    f"item numbered {item.number} in a list numbered "
                    f"{start}. on every item" + (" (style: one)" if style == "one" else ""),
                    suggestion=f"{start}{item.delimiter}",
                    fix=fix,
                )
        return
    expected = start
    for item in items[1:]:
        assert item.number is not None
        expected += 1
        if item.number == expected:
            continue
        if item.number == expected - 1:
            what = f"repeats number {item.number}"
        elif item.number > expected:
            what = f"skips to {item.number}"
        else:
            what = f"goes back to {item.number}"
        yield Problem(
            item.line,
            item.marker_column + 1,
            f"list item {what}; expected {expected}",
            suggestion=f"{expected}{item.delimiter}",
            fix=fix,
        )
        expected = item.number


def _renumbering(items: list[ListItem], wanted: list[int]) -> Fix:
    """The whole list renumbered at once (every finding of the list carries the
    same fix, so one pass settles the list), zero-padded as written (`01.`
    stays two digits). A marker of another width moves the item's text
    and could move what is nested under it: not safe."""
    edits = []
    safe = True
    for item, n in zip(items, wanted, strict=True):
        if item.number == n:
            continue
        digits = item.marker[: -len(item.delimiter)]
        padded = len(digits) > 1 and digits.startswith("0")  # (`01.`: keep the zeros)
        marker = (str(n).zfill(len(digits)) if padded else str(n)) + item.delimiter
        safe = safe and len(marker) == len(item.marker)
        edits.append(Edit(item.line, item.marker_column, item.marker, marker))
    return Fix(tuple(edits), safe)


def _indented(block: Block, by: int) -> tuple[Edit, ...]:
    """Edits that indent every line of `block` by `by` spaces. Each line must
    start with the block's own indent (a line indented less, a heredoc in a
    code block, would end up outside the item: no fix); blank lines stay."""
    old = " " * block.indent
    new = " " * (block.indent + by)
    return tuple(Edit(line, 0, old, new) for line in range(block.line, block.end_line + 1))


@register(
    "list-restart",
    "warning",
    "An ordered list was split in two by content that is not indented under an item.",
    fix="safe: indents the code block, table, quote or HTML between the two parts to the "
    "text of the item above, so the two parts are one list again",
)
def list_restart(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports an ordered list that is the second half of a list
    split by a code block, table, quote or HTML block that was not indented
    under the item above it: the second part either starts again at 1 or
    starts at the number that continues the first part.

    **Why.** Content between items must be indented to the item's text to stay
    in the list. Otherwise Hugo closes the list, renders the block outside it,
    and starts a new list: the numbering restarts, or continues only by luck.

    **Example (bad).**

    ````markdown
    1. Install the tool:

    ```shell
    pip install tool
    ```

    1. Run it.
    ````

    **Use instead.**

    ````markdown
    1. Install the tool:

       ```shell
       pip install tool
       ```

    1. Run it.
    ````
    """
    facts = ctx.facts
    for lst in facts.lists:
        if not lst.ordered or not lst.items:
            continue
        found = previous_list(facts, _list_blocks(ctx), lst)
        if found is None:
            continue
        prev, between = found
        first = lst.items[0]
        if first.delimiter != prev.items[0].delimiter:
            continue
        last = prev.items[-1].number
        what = ", ".join(sorted({b.kind for b in between}))
        column = prev.items[-1].content_column
        edits: list[Edit] = []
        for block in between:
            wanted = column + (4 if block.kind == "code" else 0)  # (indented code: 4 more)
            if block.indent < wanted:
                edits += _indented(block, wanted - block.indent)
        fix = Fix(tuple(edits)) if edits else None
        if last is not None and first.number == last + 1:
            yield Problem(
                first.line,
                first.marker_column + 1,
                f"list continues at {first.number} after a {what} block that is not indented "
                f"under the item above: it renders as a separate list",
                fix=fix,
            )
        elif first.number == 1 == prev.items[0].number:
            yield Problem(
                first.line,
                first.marker_column + 1,
                f"list starts again at 1 after a {what} block that is not indented under the "
                f"item above: indent the block to keep one list",
                fix=fix,
            )


@register(
    "list-indent",
    "warning",
    "Content after a list item is indented less than the item's text, so it does not nest.",
    fix="safe: indents the nested list, paragraph or code block to the item's text column",
)
def list_indent(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports a nested list, paragraph or code block right after
    a list item that is indented (so it was meant to belong to the item) but
    by fewer columns than the item's text starts at, so Markdown does not put
    it inside the item.

    **Why.** The block renders outside the list: a sub-list becomes a new
    top-level list and ends the numbering, a paragraph loses its indentation.

    **Example (bad).** The sub-list is indented 2 spaces, the item's text
    starts at column 4:

    ```markdown
    1. Plan the release
      - write the notes
    ```

    **Use instead.**

    ```markdown
    1. Plan the release
       - write the notes
    ```
    """
    facts = ctx.facts
    blocks = facts.blocks
    index = _list_blocks(ctx)
    for lst in facts.lists:
        if not lst.items:
            continue
        at = index.get(lst.line)
        if at is None:
            continue
        following = _next_sibling(blocks, at, lst.depth)
        if following is None or following.kind in ("heading", "hr"):
            continue
        last = lst.items[-1]
        if lst.depth > 0 and following.kind not in ("list", "fence", "code"):
            # A less indented paragraph after a nested list still sits in the
            # parent item: often what the author meant.
            continue
        # One stray space is a typo, not an attempt to nest.
        if max(last.indent + 1, 2) <= following.indent < last.content_column:
            kind = "nested list" if following.kind == "list" else following.kind
            # An indented code block stays code inside the item 4 columns in.
            wanted = last.content_column + (4 if following.kind == "code" else 0)
            fix: Fix | None = Fix(_indented(following, wanted - following.indent))
            if following.kind == "list" and _ragged(facts, following):
                fix = None  # (an item indented less than the first: no one indent fits)
            yield Problem(
                following.line,
                following.indent + 1,
                f"{kind} indented {following.indent} spaces after a list item whose text "
                f"starts at column {last.content_column + 1}: it is not part of the item "
                f"(indent it {wanted} spaces)",
                fix=fix,
            )


def _ragged(facts: PageFacts, block: Block) -> bool:
    """A list whose items are indented less than its first one."""
    lst = _list_at(facts, block.line, block.depth)
    return lst is not None and any(item.indent < block.indent for item in lst.items)


def _next_sibling(blocks: list[Block], at: int, depth: int) -> Block | None:
    for block in blocks[at + 1 :]:
        if block.depth > depth:
            continue
        return block if block.depth == depth else None
    return None
