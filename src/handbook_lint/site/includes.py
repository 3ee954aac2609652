"""The one walk through include calls: a file's events in document order, with
each include call replaced by the events of the file it includes, recursively.

Every use of the include graph goes through `expand`: the files a page
includes (the index), its anchors in rendered order (ids are numbered across
included files), its headings where the call stands (required sections), and
include cycles. A call that resolves to nothing stays a call; one that comes
back to a file on the way down is a cycle and is not entered. The walk keeps
its own stack, so a deep chain of includes cannot exhaust Python's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

INCLUDE = "include"  # the event kind of an include call: (INCLUDE, target, line)

# (kind, value, line): an include call, or anything else a file holds in order.
Event = tuple[str, Any, int]


@dataclass(frozen=True, slots=True)
class Step:
    """One event as it appears in the expanded page."""

    kind: str  # the event's kind, or "enter" (a file included), or "cycle"
    value: Any  # the event's value; for "enter" and "cycle", the file
    line: int  # the event's line in `file`
    file: str  # the file the event is in
    chain: tuple[str, ...]  # the files from the page down to `file`
    call_line: int  # the line of the page's own include call it sits under (0: the page's)


def expand(
    start: str,
    events_of: Callable[[str], Iterable[Event] | None],
    resolve: Callable[[str, str], str | None],
    once: bool = False,
) -> Iterator[Step]:
    """The events of `start` with include calls expanded in place. An include
    call that resolves yields an "enter" step, then the included file's events;
    one that resolves to a file already on the chain yields a "cycle" step
    (its value is the file; the chain says how); one that resolves to nothing
    yields the call itself.

    As Hugo renders it, a file included twice is expanded twice. With `once`,
    a file is entered only the first time (its later calls yield nothing): for
    walks that ask which files are reached, or whether a cycle is, without
    paying for every path to them."""
    entered: set[str] = set()
    # Each frame: (path, chain, call line, the file's remaining events).
    stack: list[tuple[str, tuple[str, ...], int, Iterator[Event]]] = [
        (start, (start,), 0, iter(events_of(start) or ()))
    ]
    while stack:
        path, chain, call_line, events = stack[-1]
        event = next(events, None)
        if event is None:
            stack.pop()
            continue
        kind, value, line = event
        if kind != INCLUDE:
            yield Step(kind, value, line, path, chain, call_line)
            continue
        top = call_line or line
        found = resolve(path, value) if value else None
        if found is None:
            yield Step(kind, value, line, path, chain, call_line)
        elif found in chain:
            yield Step("cycle", found, line, path, chain, top)
        elif once and found in entered:
            continue
        else:
            entered.add(found)
            yield Step("enter", found, line, path, chain, top)
            stack.append((found, (*chain, found), top, iter(events_of(found) or ())))
