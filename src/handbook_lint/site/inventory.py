"""Every file of a site or repository, not only its pages: for the rules on media
and CODEOWNERS. Names and sizes only (one `stat` per file that is not
Markdown), never contents.

The files are found by walking the folder (the site model's walks of the
content, static and assets folders are reused, so a run walks each folder
once), leaving out hidden folders (but `.gitlab` and `.github`) and what Hugo
and npm generate (`public`, `resources`, `node_modules`). In a git work tree,
files git ignores are left out of findings (`ignored`): asking git for the
few reported files costs less than listing every file through git.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from handbook_lint.walk import walk

GENERATED = frozenset({"node_modules", "public", "resources"})
KEPT_HIDDEN = frozenset({".gitlab", ".github"})


def repository_top(folder: Path) -> Path | None:
    """The top of the git work tree holding `folder` (None: not in one)."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def list_files(folder: Path, skip: frozenset[str] = frozenset()) -> list[str]:
    """The files under `folder`, relative to it, sorted; the folders in `skip`
    (relative paths) are not entered."""
    prefix = str(folder).rstrip(os.sep) + os.sep
    out: list[str] = []
    for dirpath, dirnames, filenames in walk(folder):
        base = dirpath + os.sep
        here = base[len(prefix) :].replace(os.sep, "/")
        dirnames[:] = [
            d
            for d in dirnames
            if d not in GENERATED
            and (not d.startswith(".") or d in KEPT_HIDDEN)
            and here + d not in skip
        ]
        out += [here + n for n in filenames]
    out.sort()
    return out


def ignored(top: Path, paths: list[str]) -> set[str]:
    """Which of `paths` (relative to `top`) git ignores (none outside git)."""
    if not paths or repository_top(top) is None:
        return set()
    data = "\0".join(paths).encode("utf-8", "surrogateescape") + b"\0"
    try:
        proc = subprocess.run(
            ["git", "check-ignore", "-z", "--stdin"],
            cwd=top,
            input=data,
            capture_output=True,
            check=False,
        )
    except OSError:
        return set()
    if proc.returncode not in (0, 1):
        return set()
    return {p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p}


def file_size(path: str) -> int | None:
    """The size of a regular file (following symlinks), None for anything else."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None
