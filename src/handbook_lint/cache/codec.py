"""Page facts to bytes and back, for the cache and for worker processes.

`marshal` is used on plain tuples, lists, dicts and scalars only: it is fast
and, unlike pickle, loading never runs code, so a cache file someone else
wrote (a CI cache shared between branches) cannot execute anything. Dates
from front matter are tagged so they come back as dates.
"""

from __future__ import annotations

import datetime
import marshal
from dataclasses import astuple
from typing import Any

from handbook_lint.checks.registry import Finding
from handbook_lint.parsing.facts import (
    Block,
    FrontMatter,
    Heading,
    Include,
    Link,
    ListBlock,
    ListItem,
    PageFacts,
    PageSummary,
    TextSpan,
)

FORMAT = 6  # bump when the encoded shape changes
_TAG = "\x00hl:"


def _plain(value: Any) -> Any:
    """Front matter values as marshal-able data (dates tagged)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.datetime):
        return (_TAG + "datetime", value.isoformat())
    if isinstance(value, datetime.date):
        return (_TAG + "date", value.isoformat())
    if isinstance(value, datetime.time):
        return (_TAG + "time", value.isoformat())
    if isinstance(value, str | int | float | bool | bytes) or value is None:
        return value
    if isinstance(value, set | frozenset | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        kind, text = value
        if kind == _TAG + "datetime":
            return datetime.datetime.fromisoformat(text)
        if kind == _TAG + "date":
            return datetime.date.fromisoformat(text)
        if kind == _TAG + "time":
            return datetime.time.fromisoformat(text)
    return value


def encode(facts: PageFacts) -> bytes:
    fm = facts.front_matter
    data = (
        FORMAT,
        facts.path,
        facts.line_count,
        facts.empty,
        (
            fm.format,
            _plain(fm.data),
            fm.key_lines,
            fm.start_line,
            fm.end_line,
            fm.error,
            fm.error_line,
        ),
        [(h.level, h.text, h.anchor, h.line, h.explicit, h.unstable) for h in facts.headings],
        facts.html_anchors,
        facts.anchor_events,
        [(lk.target, lk.line, lk.column, lk.kind, lk.text, lk.label) for lk in facts.links],
        facts.ref_definitions,
        facts.undefined_refs,
        [(t.line, t.column, t.text, t.kind, t.glued_before, t.glued_after) for t in facts.texts],
        facts.directives,
        [(i.target, i.line, i.column, i.source, i.error) for i in facts.includes],
        facts.shortcodes,
        [
            (
                lst.ordered,
                lst.line,
                lst.end_line,
                lst.depth,
                [
                    (it.line, it.indent, it.marker, it.number, it.delimiter, it.content_column)
                    for it in lst.items
                ],
            )
            for lst in facts.lists
        ],
        [(b.kind, b.line, b.end_line, b.depth, b.indent) for b in facts.blocks],
    )
    return marshal.dumps(data)


class DecodeError(Exception):
    pass


def decode(blob: bytes) -> PageFacts:
    try:
        data = marshal.loads(blob)
        if not isinstance(data, tuple) or data[0] != FORMAT:
            raise DecodeError("unknown cache format")
        (
            _,
            path,
            line_count,
            empty,
            fm,
            headings,
            html_anchors,
            anchor_events,
            links,
            refs,
            undefined,
            texts,
            directives,
            includes,
            shortcode_names,
            lists,
            blocks,
        ) = data
        front = FrontMatter(fm[0], _restore(fm[1]), fm[2], fm[3], fm[4], fm[5], fm[6])
        return PageFacts(
            path=path,
            line_count=line_count,
            front_matter=front,
            empty=empty,
            headings=[Heading(*h) for h in headings],
            html_anchors=[tuple(a) for a in html_anchors],
            anchor_events=[tuple(e) for e in anchor_events],
            links=[Link(*lk) for lk in links],
            ref_definitions={k: tuple(v) for k, v in refs.items()},
            undefined_refs=[tuple(u) for u in undefined],
            texts=[TextSpan(*t) for t in texts],
            directives=[(d[0], tuple(d[1]), d[2], d[3]) for d in directives],
            includes=[Include(*i) for i in includes],
            shortcodes=list(shortcode_names),
            lists=[
                ListBlock(o, ln, end, depth, [ListItem(*it) for it in items])
                for o, ln, end, depth, items in lists
            ],
            blocks=[Block(*b) for b in blocks],
        )
    except (ValueError, TypeError, EOFError, IndexError, KeyError) as exc:
        raise DecodeError(f"bad cache entry: {exc}") from None


# -- page summaries and a run's findings (the other two things the cache holds) --


def encode_summary(summary: PageSummary) -> bytes:
    return marshal.dumps(
        (
            summary.path,
            _plain(summary.meta),
            summary.anchor_events,
            summary.unstable,
            summary.includes,
            summary.links,
        )
    )


def decode_summary(blob: bytes) -> PageSummary:
    path, meta, events, unstable, includes, links = marshal.loads(blob)
    return PageSummary(path, _restore(meta), [tuple(e) for e in events], unstable, includes, links)


def encode_findings(findings: list[Finding]) -> bytes:
    return marshal.dumps([astuple(f) for f in findings])


def decode_findings(blob: bytes) -> list[Finding] | None:
    try:
        return [Finding(*row) for row in marshal.loads(blob)]
    except (ValueError, TypeError, EOFError):
        return None
