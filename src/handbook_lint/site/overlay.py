"""A site as git sees it: the working tree, with some files' bytes read from git
and some files taken away.

The linter builds two such views to learn what a change introduced: the site
now (without the files git does not track, and under `--staged` with the
index's version of files that have unstaged edits) and the site before the
change (the touched files put back as they were, the added ones taken away).
Everything else is the working tree, shared by both views and the cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from handbook_lint.engine.git import SiteChanges


@dataclass(frozen=True)
class Overlay:
    """A view of the site as git has it, now or before a change: some files'
    bytes from git, some files taken away, the rest the working tree."""

    files: dict[str, bytes]  # site-relative path -> its bytes in this view
    absent: frozenset[str]  # site-relative paths that do not exist in this view

    @classmethod
    def now(cls, changes: SiteChanges) -> Overlay | None:
        """The site as the change has it (None: the working tree as it is)."""
        if not changes.untracked and not changes.unstaged:
            return None
        return cls(changes.read_now(), frozenset(changes.untracked))

    @classmethod
    def before(cls, changes: SiteChanges) -> Overlay:
        """The site as it was before the change."""
        gone = changes.untracked | changes.added | set(changes.renamed.values())
        return cls(changes.read_before(), frozenset(gone))

    def listing(self, paths: Iterable[str], folder: str) -> list[str]:
        """A listing of `folder` (paths relative to the site root) made on disk,
        turned into the listing of this view."""
        kept = [p for p in paths if p not in self.absent]
        have = set(kept)
        prefix = "" if folder in ("", ".") else folder.strip("/") + "/"
        kept += [
            p
            for p in self.files
            if p.startswith(prefix) and p not in have and not p.startswith("../")
        ]
        return sorted(kept)

    def knows(self, path: str) -> bool | None:
        """Whether `path` exists in this view, when the overlay decides it (None:
        as on disk)."""
        if path in self.files:
            return True
        if path in self.absent:
            return False
        return None
