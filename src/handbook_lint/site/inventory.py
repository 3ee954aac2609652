"""Every file of a site or repository, not only its pages: for the rules on media
and CODEOWNERS. Names and sizes only (one `stat` per file that is not
Markdown), never contents.

In a git work tree the files are git's: tracked ones and untracked ones that
are not ignored (`git ls-files --cached --others --exclude-standard`), so a
built `public/` or `node_modules/` is never counted. Outside git the folder is
walked, leaving out hidden folders (but `.gitlab` and `.github`), `.git`, and
what Hugo and npm generate (`public`, `resources`, `node_modules`).
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


def list_files(folder: Path) -> list[str]:
    """The files under `folder`, relative to it, sorted."""
    if repository_top(folder) is not None:
        found = _git_files(folder)
        if found is not None:
            return found
    return _walked(folder)


def _git_files(folder: Path) -> list[str] | None:
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=folder,
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    names = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    # (a file deleted from the working tree stays in the index until staged)
    return sorted({n for n in names if n and os.path.lexists(os.path.join(folder, n))})


def _walked(folder: Path) -> list[str]:
    prefix = str(folder).rstrip(os.sep) + os.sep
    out: list[str] = []
    for dirpath, dirnames, filenames in walk(folder):
        dirnames[:] = [
            d
            for d in dirnames
            if d not in GENERATED and (not d.startswith(".") or d in KEPT_HIDDEN)
        ]
        base = dirpath + os.sep
        out += [(base + n)[len(prefix) :].replace(os.sep, "/") for n in filenames]
    out.sort()
    return out


def file_size(path: str) -> int | None:
    """The size of a regular file (following symlinks), None for anything else."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None
