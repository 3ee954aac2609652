"""A site as it was before a change: the working tree, with the files the change
touched put back as they were (read from git) and the files it added taken away.

The linter builds this second view of the site to learn which findings a change
introduced: the findings after the change minus those before it. Everything the
change did not touch is shared between the two views (and with the cache).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from handbook_lint.gitdiff import SiteChanges


@dataclass(frozen=True)
class Overlay:
    files: dict[str, bytes]  # site-relative path -> its bytes before the change
    absent: frozenset[str]  # site-relative paths that did not exist before the change

    @classmethod
    def before(cls, changes: SiteChanges) -> Overlay:
        return cls(changes.read_before(), frozenset(changes.added | set(changes.renamed.values())))

    def listing(self, paths: Iterable[str], folder: str) -> list[str]:
        """A listing of `folder` (paths relative to the site root) made on disk,
        turned into the listing as it was."""
        kept = [p for p in paths if p not in self.absent]
        have = set(kept)
        prefix = "" if folder in ("", ".") else folder.strip("/") + "/"
        kept += [p for p in self.files if p.startswith(prefix) and p not in have]
        return sorted(kept)

    def knows(self, path: str) -> bool | None:
        """Whether `path` existed before the change, when the overlay decides it
        (None: as on disk)."""
        if path in self.files:
            return True
        if path in self.absent:
            return False
        return None
