"""`--diff-base REF`: what a branch changed since its merge base with REF."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path


class GitError(Exception):
    pass


@dataclass
class Changes:
    base: str  # the merge-base commit
    changed: set[str] = field(default_factory=set)  # added, modified, renamed-to (site-relative)
    deleted: set[str] = field(default_factory=set)  # deleted or renamed-from (site-relative)


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {proc.stderr.strip() or 'failed'}")
    return proc.stdout


def changes_since(root: Path, ref: str) -> Changes:
    """Files changed between the merge base of REF and HEAD and the working tree,
    as paths relative to `root` (the site root, maybe below the repo's top)."""
    top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    base = _git(root, "merge-base", ref, "HEAD").strip()
    out = _git(root, "diff", "--name-status", "-z", "-M", base, "--")
    prefix = root.resolve().relative_to(top.resolve()).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    changes = Changes(base)
    parts = out.split("\0")
    i = 0
    while i < len(parts) and parts[i]:
        status = parts[i]
        if status[0] in "RC":
            old, new = parts[i + 1], parts[i + 2]
            i += 3
            if status[0] == "R":
                _add(changes.deleted, old, prefix)
            _add(changes.changed, new, prefix)
            continue
        path = parts[i + 1]
        i += 2
        _add(changes.deleted if status[0] == "D" else changes.changed, path, prefix)
    return changes


def _add(target: set[str], path: str, prefix: str) -> None:
    if path.startswith(prefix):
        target.add(path[len(prefix) :])


def show(root: Path, commit: str, path: str) -> str | None:
    """A file's text at a commit (path relative to the site root), or None."""
    try:  # `REV:./PATH` is relative to the working directory: one git call
        return _git(root, "show", f"{commit}:./{path}")
    except GitError:
        return None
