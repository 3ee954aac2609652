"""YAML values the linter cannot use (shared by the config loaders and the
front matter parser): a scalar a loader cannot construct, and data that refers
to itself through an alias, expands without bound (an alias bomb) or nests
too deep."""

from __future__ import annotations

from typing import Any

import yaml


def bad_value(text: str, loader: Any) -> tuple[int | None, str | None]:
    """The line and text of the first scalar of a YAML text that `loader`
    cannot construct (a tag or an implicit type it cannot read), if any."""
    try:
        root = yaml.compose(text, Loader=loader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None, None
    todo = [root] if root is not None else []
    seen: set[int] = set()
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                loader("").construct_object(node, deep=True)
            except Exception:  # (whatever a constructor raises: this is the value)
                return node.start_mark.line + 1, str(node.value)
        elif isinstance(node, yaml.MappingNode):
            todo += [part for pair in reversed(node.value) for part in reversed(pair)]
        elif isinstance(node, yaml.SequenceNode):
            todo += list(reversed(node.value))
    return None, None


# What a document may hold, its aliases expanded: beyond this it is an alias
# bomb (`b: [*a, *a, ...]` nine times over) or deeper than any page needs.
MAX_NODES = 100_000
MAX_DEPTH = 100


class Budget:
    """Values counted across one document (every key of it)."""

    def __init__(self) -> None:
        self.count = 0


def unbounded(value: Any, budget: Budget | None = None) -> str | None:
    """Why `value` cannot be used as data: it holds itself through an alias,
    expands past MAX_NODES values (counted over `budget`, a whole document), or
    nests past MAX_DEPTH. None when it is fine. Tuples count (`!!pairs`)."""
    budget = budget or Budget()
    stack: list[tuple[Any, int, frozenset[int]]] = [(value, 0, frozenset())]
    while stack:
        item, depth, path = stack.pop()
        budget.count += 1
        if budget.count > MAX_NODES:
            return f"expands to more than {MAX_NODES:,} values through YAML aliases"
        if not isinstance(item, dict | list | tuple | set):
            continue
        if id(item) in path:
            return "refers to itself through a YAML alias"
        if depth >= MAX_DEPTH:
            return f"is nested more than {MAX_DEPTH} levels deep"
        inner = path | {id(item)}
        children = [*item.keys(), *item.values()] if isinstance(item, dict) else list(item)
        stack.extend((child, depth + 1, inner) for child in children)
    return None
