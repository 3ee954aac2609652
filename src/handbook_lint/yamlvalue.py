"""Finding the YAML value a loader cannot read (shared by the config loaders
and the front matter parser)."""

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
