"""Which site each path belongs to: the nearest `.handbook-lint.yaml` found from
the path's own folder upward (as ruff and markdownlint-cli2 find theirs), so a
site in `site/` or `docs/` is linted from the repository root."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from handbook_lint.config import CONFIG_NAME


@dataclass
class SiteGroup:
    """The paths of one run that belong to one site."""

    config: Path | None  # the site's config file (None: the defaults, rooted at `root`)
    root: Path
    paths: list[str] = field(default_factory=list)  # as named on the command line


def config_for(path: Path) -> Path | None:
    """The config of the site `path` belongs to: the first `.handbook-lint.yaml`
    in its folder or above. `path` need not exist (a deleted file): the search
    starts at its nearest existing folder."""
    folder = path if path.is_dir() else path.parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    for candidate in [folder, *folder.parents]:
        found = candidate / CONFIG_NAME
        if found.is_file():
            return found
    return None


def group(
    paths: list[str], cwd: Path, explicit: Path | None
) -> tuple[list[SiteGroup], list[str], bool]:
    """The sites of `paths`, the paths of no site, and whether no config was found
    at all (then every path belongs to the defaults' site at `cwd`)."""
    if explicit is not None:
        return [SiteGroup(explicit, explicit.resolve().parent, list(paths))], [], False
    groups: dict[Path, SiteGroup] = {}
    orphans: list[str] = []
    for raw in paths:
        found = config_for((cwd / raw).resolve() if not Path(raw).is_absolute() else Path(raw))
        if found is None:
            orphans.append(raw)
            continue
        key = found.resolve()
        groups.setdefault(key, SiteGroup(found, key.parent)).paths.append(raw)
    if not paths:
        found = config_for(cwd.resolve())
        if found is not None:
            return [SiteGroup(found, found.resolve().parent)], [], False
        return [SiteGroup(None, cwd.resolve())], [], True
    if not groups:
        return [SiteGroup(None, cwd.resolve(), orphans)], [], True
    return list(groups.values()), orphans, False
