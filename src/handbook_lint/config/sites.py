"""Which site each path belongs to.

A path's site is the nearest `.handbook-lint.yaml` found from the path's own
folder upward (as ruff and markdownlint-cli2 find theirs); with none, the
nearest folder upward that holds a Hugo configuration (`hugo.toml`,
`config/_default/`, ...), linted by that configuration alone. So a site in
`site/` or `docs/` is linted from the repository's top. A folder with no
site above it stands for the sites below it (`check .` at the top of a
repository whose site is in `site/`). Markdown that belongs to no site (a
README beside it) is left out, with a note.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from handbook_lint.config.hugo import is_site_root
from handbook_lint.config.settings import CONFIG_NAME, find_config
from handbook_lint.walk import walk

# Folders never searched for sites: tools' and builds' own trees, and themes
# (a theme has a Hugo config of its own but is not a site).
_SKIP = frozenset({"node_modules", "public", "resources", "vendor", "__pycache__", "themes"})


@dataclass
class SiteGroup:
    """The paths of one run that belong to one site."""

    config: Path | None  # the site's config file (None: the defaults, rooted at `root`)
    root: Path
    paths: list[str] = field(default_factory=list)  # as named on the command line
    whole: bool = False  # lint the whole site (it was named as a folder above it)


@dataclass
class Sites:
    """The named paths grouped by the site each belongs to, and those of none."""

    groups: list[SiteGroup]
    orphans: list[str]  # named Markdown files of no site
    defaults: bool  # no config anywhere: the defaults' site at the working directory


def find_site(start: Path) -> tuple[Path | None, Path] | None:
    """(config file, root) of the site `start` belongs to: the nearest
    `.handbook-lint.yaml` upward; with none, the nearest folder upward with a
    Hugo configuration (no config file: the Hugo config and the defaults)."""
    found = find_config(start)
    if found is not None:
        return found, found.parent
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    for candidate in [folder, *folder.parents]:
        if is_site_root(candidate):
            return None, candidate
    return None


def sites_below(folder: Path) -> list[tuple[Path | None, Path]]:
    """(config file, root) of the sites inside `folder`: folders with a
    `.handbook-lint.yaml` or a Hugo configuration (not sites inside sites)."""
    found: list[tuple[Path | None, Path]] = []
    for dirpath, dirnames, filenames in walk(folder):
        here = Path(dirpath)
        if CONFIG_NAME in filenames:
            found.append((here / CONFIG_NAME, here))
            dirnames[:] = []
            continue
        if is_site_root(here):
            found.append((None, here))
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP)
    return found


def markdown_outside(folder: Path, roots: list[Path]) -> list[Path]:
    """Markdown files under `folder` that are in none of the site `roots`."""
    out: list[Path] = []
    inside = {r.resolve() for r in roots}
    for dirpath, dirnames, filenames in walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and d not in _SKIP and (here / d).resolve() not in inside
        )
        out += [here / name for name in sorted(filenames) if name.endswith((".md", ".markdown"))]
    return out


def group(paths: list[str], cwd: Path, explicit: Path | None) -> Sites:
    """The sites of `paths` (none: the working directory's)."""
    if explicit is not None:
        return Sites([SiteGroup(explicit, explicit.resolve().parent, list(paths))], [], False)
    groups: dict[Path, SiteGroup] = {}
    orphans: list[str] = []

    def site(config: Path | None, root: Path) -> SiteGroup:
        key = root.resolve()
        return groups.setdefault(key, SiteGroup(config, key))

    for raw in paths or ["."]:
        path = Path(raw) if Path(raw).is_absolute() else cwd / raw
        found = find_site(path)
        if found is not None:
            group_of = site(*found)
            if paths:
                group_of.paths.append(raw)
            continue
        below = sites_below(path) if path.is_dir() else []
        for config, root in below:
            site(config, root).whole = True
        if path.is_dir():
            outside = markdown_outside(path, [root for _, root in below])
            orphans += [os.path.relpath(p, cwd) for p in outside] if below else []
            if not below:
                orphans.append(raw)
        elif path.name.endswith((".md", ".markdown")):
            orphans.append(raw)
    if groups:
        return Sites(list(groups.values()), orphans, False)
    # No config anywhere: the defaults, for a standard Hugo site at the working directory.
    return Sites([SiteGroup(None, cwd.resolve(), list(paths))], [], True)
