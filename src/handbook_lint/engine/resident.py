"""A site kept loaded between runs (a server's holder keeps one per folder).

A holder loads its folder's site once: every file's summary and hash, the
facts the run decoded, the walks of the disk, each page's URL. A run forked
from it reuses what is still true of that, on the evidence the cache already
goes by: a file whose size, modification time and inode are those it had when
it was loaded (and which had settled then: walk.RACY_SECONDS) has the same
bytes; a folder whose stamp is unchanged has the same names. What changed is
read as a run of its own reads it (from the cache, or parsed). A config or a
rule set that differs in anything leaves the kept site unused; so does a
folder that could not be vouched for (its walks are then made again). When
nothing changed where pages go, the run also takes the finished site and its
index (site/kept.py).

The files' stamps are looked at when the run begins (begin(): the pages that
changed are then parsed while git answers), as a run of its own looks at them
once, early: a file saved during the run is seen by the next one. Nothing here
trusts more than the cache does: the findings are those of a run of its own,
which the tests compare run by run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from handbook_lint.cache.ahead import AHEAD_MAX, Ahead, Items
from handbook_lint.cache.store import _stamp
from handbook_lint.checks.selection import ActiveRule
from handbook_lint.config.settings import Config
from handbook_lint.engine.linter import Linter
from handbook_lint.engine.workers import usable_cpus
from handbook_lint.external.settings import ExternalSettings
from handbook_lint.site.kept import KeptSite
from handbook_lint.site.model import MARKDOWN_SUFFIXES
from handbook_lint.site.overlay import Overlay
from handbook_lint.walk import Stamp, folder_stamp

FileStamp = tuple[int, int, int]  # size, modification time, inode (store._stamp)
T = TypeVar("T")


def _quiet(message: str) -> None:
    pass


def _stamped(path: str, stamp: Callable[[os.stat_result], T]) -> T | None:
    """`stamp` of what `path` is now; None when it cannot be looked at."""
    try:
        return stamp(os.stat(path))
    except (OSError, ValueError):
        return None


@dataclass
class Resident:
    """One folder's site, loaded (see the module doc)."""

    site: tuple[Path | None, Path]  # (config file, root), as SiteGroup has them
    config: Config
    rules: dict[str, ActiveRule]
    loaded: Linter  # (its site and store, as loaded: never used by a run itself)
    files: dict[str, FileStamp]  # the files whose summaries are kept, and their stamps
    # every folder walked, and every folder walked that was missing (None);
    # None: the walks are not kept
    folders: dict[str, Stamp | None] | None
    _unkept: set[str]  # what the loaded store knows of other files, errors too (never reused)
    finished: KeptSite | None  # the site finished, for runs that place every page alike
    # What begin() found for the run about to be made: the kept files that
    # changed (each as it is now: None, gone), and the child parsing the pages
    # among them.
    _changed: dict[str, FileStamp | None] | None = None
    _begun: Ahead | None = None

    @classmethod
    def load(
        cls, site: tuple[Path | None, Path], config: Config, rules: dict[str, ActiveRule]
    ) -> Resident:
        linter = Linter(config, rules, warn=_quiet)
        began = datetime.now(UTC)
        linter.load_site()
        linter.site.all_files()  # (the listing git began: finished, never left running)
        store = linter.store
        # The finished site and its index, for runs whose pages all stay put
        # (site/kept.py); not when the walks are not kept (the files may differ).
        # First: warming the index reads the summaries of files no walk lists
        # (an include outside the include folders), which must be stamped too.
        folders = _folders(linter)
        finished = None
        if folders is not None:
            read = linter._files_read()
            index = linter.index()
            finished = KeptSite.keep(linter.site, index, read, store.summary, linter._files, began)
        # Kept: what had settled before the store first looked at any file (its
        # modification and change times both older, as the cache's states).
        settled, prefix = store._settled, f"{config.root}/"
        files: dict[str, FileStamp] = {}
        for path, stamp in store._stamps.items():
            if path not in store.summaries or path in store.errors:
                continue
            try:
                st = os.stat(prefix + path)
            except (OSError, ValueError):
                continue
            if _stamp(st) == stamp and max(st.st_mtime_ns, st.st_ctime_ns) < settled:
                files[path] = stamp
        known = store.hashes.keys() | store.summaries.keys() | store._blobs.keys()
        known |= store._facts.keys() | store._hashed | store.errors.keys()
        unkept = known - files.keys()  # (an error is never kept: the file may read now)
        return cls(site, config, rules, linter, files, folders, unkept, finished)

    def begin(self, jobs: int | None) -> None:
        """At the start of a run made from the kept site, before it knows what it
        will read (git has not answered, its config is not read): the kept
        files that changed since the load, and the pages among them parsed
        ahead as they are on disk, on another core (ahead.py). The linter made
        next for the run takes both; a run that makes none (another config)
        leaves the child to end with it."""
        self._changed = self._stamps_changed()
        store = self.loaded.store
        there = (p for p, now in self._changed.items() if now is not None)  # (not gone)
        pages = sorted(p for p in there if p.endswith(MARKDOWN_SUFFIXES))
        if store.cache is not None and (jobs or usable_cpus()) > 1 and len(pages) <= AHEAD_MAX:
            items: Items = [(p, None) for p in pages]
            self._begun = Ahead.start(store.root, store.settings, store.taxonomies, items)

    def end(self) -> None:
        """The run is over: what begin() found is not for another (a run that
        made no linter from the kept site leaves it; its child is stopped)."""
        begun, self._changed, self._begun = self._begun, None, None
        if begun is not None:
            begun.stop()

    def _stamps_changed(self) -> dict[str, FileStamp | None]:
        """The kept files whose stamp is not the one kept, with their stamp now
        (None: gone)."""
        prefix = f"{self.config.root}/"
        stamps = ((p, kept, _stamped(prefix + p, _stamp)) for p, kept in self.files.items())
        return {p: now for p, kept, now in stamps if now != kept}

    def linter(
        self,
        config: Config,
        rules: dict[str, ActiveRule],
        select: list[str] | None,
        ignore: list[str] | None,
        jobs: int | None,
        progress: bool,
        warn: Callable[[str], None],
        external: ExternalSettings | None,
        overlay: Overlay | None,
    ) -> Linter | None:
        """A linter of the site as it is now (`overlay`: the view of a change),
        made from what is kept; None when the config or the rules differ."""
        kept = self.loaded
        cache = kept.store.cache
        changed, begun = self._changed, self._begun
        if config != self.config or rules != self.rules or cache is None or cache.db is None:
            self.end()
            return None
        self._changed = self._begun = None  # (this linter's: the store stops the child)
        # Kept summaries not read whole at load (no finished site was kept) read
        # their anchors and links when first asked, through this Cache
        # (codec.bound): it is the run's, with a connection of its own (forked)
        # and the run's warnings. (A new Cache left them a closed connection:
        # each such page was parsed again, 2 s a run.)
        cache.warn = warn
        cache.reopen()
        if changed is None:  # (no begin(): looked at now)
            changed = self._stamps_changed()
        drop = self._unkept | changed.keys()
        if overlay is not None:  # (a file the view takes from git is read from there)
            drop |= overlay.files.keys() | overlay.absent
        store = kept.store.sharing(overlay, drop, jobs or usable_cpus(), progress)
        store.aheads = [begun] if begun is not None else []
        # (a kept file's stamp was just looked at: hashed, as hash_files would)
        store._stamps = {p: s for p, s in self.files.items() if p not in drop}
        store._hashed = self.files.keys() - drop
        walks = self.folders is not None and all(
            _stamped(f, folder_stamp) == s for f, s in self.folders.items()
        )
        now = kept.site.sharing(overlay, walks)
        return Linter(
            config,
            rules,
            select,
            ignore,
            jobs=jobs,
            progress=progress,
            warn=warn,
            external=external,
            overlay=overlay,
            store=store,
            site=now,
            kept=self.finished if walks else None,
        )


def _folders(linter: Linter) -> dict[str, Stamp | None] | None:
    """Every folder the site's walks entered, with the stamp the walk vouched
    with; None when one was not vouched for (it changed in the last seconds,
    or holds a symlink), or could not be read."""
    listings, site = linter.store._listings, linter.site
    if listings is None or any(problems for _, _, problems in site._disk.values()):
        return None  # (a folder that could not be read may be readable now)
    out: dict[str, Stamp | None] = {}
    for folder in site.visited:
        known = listings.walked.get(folder)
        if known is None:
            return None
        out[folder] = known[0]
    for walked in site._disk:  # (a folder missing then may be there now)
        path = str(site.root / walked)
        if path not in out:
            if _stamped(path, folder_stamp) is not None:
                return None  # (there but not walked: a file, or a symlink)
            out[path] = None
    return out
