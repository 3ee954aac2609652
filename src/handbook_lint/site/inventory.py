"""Every file of a site or repository, not only its pages: for the rules on media
and CODEOWNERS. Names and sizes only (one `stat` per file that is not
Markdown), never contents.

In a git work tree the files are those git tracks (`git ls-files`, which reads
the index and walks nothing: a few milliseconds for ten thousand files), so a
build's output, `node_modules`, a local scratch file or a submodule's insides
are never reported, and the CODEOWNERS file is matched against what GitLab
sees. Outside git the folder is walked, leaving out hidden folders (but
`.gitlab` and `.github`) and, at the top, what Hugo and npm generate
(`public`, `resources`, `node_modules`).
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

from handbook_lint.walk import Listings, walk

GENERATED = frozenset({"node_modules", "public", "resources"})
KEPT_HIDDEN = frozenset({".gitlab", ".github"})


def repository_top(folder: Path) -> Path | None:
    """The top of the git work tree holding `folder` (None: not in one)."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def list_files(folder: Path) -> list[str]:
    """The files under `folder`, relative to it, sorted: git's in a work tree,
    else walked."""
    return start_listing(folder)()


def start_listing(folder: Path) -> Callable[[], list[str]]:
    """`list_files`, begun: in a work tree git runs beside the caller (reading
    the site's pages meanwhile) until the returned function is called."""
    if repository_top(folder) is not None:
        try:
            proc = subprocess.Popen(
                ["git", "ls-files", "-z", "--cached"],
                cwd=folder,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            pass
        else:

            def finish() -> list[str]:
                out, _ = proc.communicate()
                if proc.returncode != 0:
                    return walked(folder)
                names = out.decode("utf-8", "surrogateescape").split("\0")
                return sorted(n for n in names if n)

            return finish
    return lambda: walked(folder)


def walked(
    folder: Path, skip: frozenset[str] = frozenset(), listings: Listings | None = None
) -> list[str]:
    """The files under `folder` as a walk finds them (see the module doc),
    without entering the folders in `skip` (paths relative to `folder`)."""
    prefix = str(folder).rstrip(os.sep) + os.sep
    out: list[str] = []
    for dirpath, dirnames, filenames in walk(folder, listings=listings):
        base = dirpath + os.sep
        here = base[len(prefix) :].replace(os.sep, "/")
        dirnames[:] = [
            d
            for d in dirnames
            if (not d.startswith(".") or d in KEPT_HIDDEN)
            and not (here == "" and d in GENERATED)
            and here + d not in skip
        ]
        out += [here + n for n in filenames]
    out.sort()
    return out


def file_size(path: str) -> int | None:
    """The size of a regular file (following symlinks), None for anything else."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None
