"""What a change touched, read from git.

Two kinds of change: a branch against its merge base with a ref (`--diff-base
REF`, the merge-request job), and the staged changes against HEAD (`--staged`,
the pre-commit hook). Either way the result is the list of files the change
added, modified, deleted and renamed, and the commit to read the old versions
from, so the linter can build the site as it was before the change.
"""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# git's empty tree: the "before" of a first commit.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class GitError(Exception):
    pass


@dataclass
class Changes:
    """One change, with paths relative to the repository's top folder."""

    top: Path
    base: str  # the commit (or tree) holding the files as they were
    label: str  # how to name the base to a user: "origin/main", "HEAD"
    modified: set[str] = field(default_factory=set)
    added: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    renamed: dict[str, str] = field(default_factory=dict)  # old path -> new path

    def under(self, root: Path) -> SiteChanges:
        """The part of the change inside `root`, with paths relative to it."""
        prefix = root.resolve().relative_to(self.top.resolve()).as_posix()
        prefix = "" if prefix == "." else prefix + "/"

        def inside(paths: set[str]) -> set[str]:
            return {p[len(prefix) :] for p in paths if p.startswith(prefix)}

        out = SiteChanges(self, prefix)
        out.modified = inside(self.modified)
        out.added = inside(self.added)
        out.deleted = inside(self.deleted)
        for old, new in self.renamed.items():
            if old.startswith(prefix) and new.startswith(prefix):
                out.renamed[old[len(prefix) :]] = new[len(prefix) :]
            elif old.startswith(prefix):  # moved out of the site: gone from it
                out.deleted.add(old[len(prefix) :])
            elif new.startswith(prefix):  # moved into the site: new to it
                out.added.add(new[len(prefix) :])
        return out


@dataclass
class SiteChanges:
    """A change as one site sees it: paths relative to the site root."""

    change: Changes
    prefix: str  # the site root's path inside the repository ("" or "site/")
    modified: set[str] = field(default_factory=set)
    added: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    renamed: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.change.label

    def now(self) -> set[str]:
        """Paths the change wrote: as they are now."""
        return self.modified | self.added | set(self.renamed.values())

    def before(self) -> set[str]:
        """Paths the change touched, as they were before it."""
        return self.modified | self.deleted | set(self.renamed)

    def old_path(self, path: str) -> str | None:
        """Where a file that exists now was before the change (None: it is new)."""
        if path in self.added:
            return None
        for old, new in self.renamed.items():
            if new == path:
                return old
        return path

    def __bool__(self) -> bool:
        return bool(self.modified or self.added or self.deleted or self.renamed)

    def read_before(self) -> dict[str, bytes]:
        """The old contents of every file the change modified, deleted or renamed."""
        wanted = sorted(self.before())
        blobs = read_blobs(self.change.top, self.change.base, [self.prefix + p for p in wanted])
        return {p: blobs[self.prefix + p] for p in wanted if self.prefix + p in blobs}


def _git(cwd: Path, *args: str, data: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True, check=False)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip() or "failed"
        raise GitError(f"git {' '.join(args)}: {message}")
    return proc.stdout


def top_level(cwd: Path) -> Path:
    return Path(_git(cwd, "rev-parse", "--show-toplevel").decode("utf-8").strip())


def changes_since(cwd: Path, ref: str) -> Changes:
    """What the branch changed since its merge base with `ref`: committed and not
    yet committed changes (the working tree against the merge base)."""
    top = top_level(cwd)
    base = _git(top, "merge-base", ref, "HEAD").decode("ascii").strip()
    out = _git(top, "diff", "--name-status", "-z", "-M", base, "--")
    return _parse_name_status(out, Changes(top, base, ref))


def staged_changes(cwd: Path) -> Changes:
    """What the staged changes change against HEAD (everything staged when the
    repository has no commit yet)."""
    top = top_level(cwd)
    try:
        _git(top, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
        base, label = "HEAD", "HEAD"
    except GitError:
        base, label = EMPTY_TREE, "the empty repository"
    out = _git(top, "diff", "--cached", "--name-status", "-z", "-M", base, "--")
    return _parse_name_status(out, Changes(top, base, label))


def _parse_name_status(out: bytes, changes: Changes) -> Changes:
    parts = out.decode("utf-8", "surrogateescape").split("\0")
    i = 0
    while i < len(parts) and parts[i]:
        status = parts[i][0]
        if status in "RC":
            old, new = parts[i + 1], parts[i + 2]
            i += 3
            if status == "R":
                changes.renamed[old] = new
            else:
                changes.added.add(new)
            continue
        path = parts[i + 1]
        i += 2
        if status == "A":
            changes.added.add(path)
        elif status == "D":
            changes.deleted.add(path)
        else:  # M, T (type change), U (unmerged)
            changes.modified.add(path)
    return changes


def read_blobs(top: Path, commit: str, paths: list[str]) -> dict[str, bytes]:
    """Files at `commit` (paths relative to the top), read in one `git cat-file`;
    a path missing there is left out."""
    simple = [p for p in paths if "\n" not in p]
    out: dict[str, bytes] = {}
    if simple:
        data = "".join(f"{commit}:{p}\n" for p in simple).encode("utf-8", "surrogateescape")
        raw = _git(top, "cat-file", "--batch", data=data)
        at = 0
        for path in simple:
            end = raw.index(b"\n", at)
            line = raw[at:end]
            at = end + 1
            if line.endswith((b" missing", b" ambiguous")):
                continue  # not in that commit (the line echoes the name asked for)
            _sha, kind, size = line.split()
            if kind == b"blob":
                out[path] = raw[at : at + int(size)]
            at += int(size) + 1
    for path in paths:
        if "\n" in path:
            with contextlib.suppress(GitError):
                out[path] = _git(top, "show", f"{commit}:{path}")
    return out
