"""The rules, one module per family. Importing this package registers them."""

from handbook_lint.checks import (
    external_links,
    files,
    front_matter,
    includes,
    links,
    lists,
    moves,
    repository,
    sections,
    spelling,
    suppressions,
)

__all__ = [
    "external_links",
    "files",
    "front_matter",
    "includes",
    "links",
    "lists",
    "moves",
    "repository",
    "sections",
    "spelling",
    "suppressions",
]
