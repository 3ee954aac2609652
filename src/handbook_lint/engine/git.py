"""What a change touched, read from git.

Two kinds of change: a branch against its merge base with a ref (`--diff-base
REF`, the merge-request job), and the staged changes against HEAD (`--staged`,
the pre-commit hook). Either way the result is the list of files the change
added, modified, deleted and renamed, and the commit to read the old versions
from, so the linter can build the site as it was before the change. Files git
does not track (never `git add`ed) are in neither version of the site: a link
to one is broken in the commit.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from handbook_lint.site.codeowners import LOCATIONS as CODEOWNERS_FILES

# git's empty tree: the "before" of a first commit.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_HUNK_RE = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)


class GitError(Exception):
    pass


@dataclass
class Touched:
    """Files a change added, modified, deleted and renamed."""

    modified: set[str] = field(default_factory=set)
    added: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    renamed: dict[str, str] = field(default_factory=dict)  # old path -> new path
    # Not part of either version: untracked files; and tracked files whose
    # working copy is not what is compared (unstaged edits under --staged).
    untracked: set[str] = field(default_factory=set)
    unstaged: set[str] = field(default_factory=set)

    def now(self) -> set[str]:
        """Paths the change wrote: as they are now."""
        return self.modified | self.added | set(self.renamed.values())

    def before(self) -> set[str]:
        """Paths the change touched, as they were before it."""
        return self.modified | self.deleted | set(self.renamed)

    def touched(self) -> set[str]:
        return self.now() | self.before()

    def __bool__(self) -> bool:
        return bool(self.modified or self.added or self.deleted or self.renamed)


@dataclass
class Changes(Touched):
    """One change, with paths relative to the repository's top folder."""

    top: Path = Path(".")
    base: str = ""  # the commit (or tree) holding the files as they were
    label: str = ""  # how to name the base to a user: "origin/main", "HEAD"
    staged: bool = False  # the now side is the index (--staged), not the working tree

    def under(self, root: Path) -> SiteChanges:
        """The part of the change inside `root` (the site root, which may be below
        or above the repository's top), with paths relative to it; and the
        repository's CODEOWNERS file (`../.gitlab/CODEOWNERS` from a site in a
        subfolder), which the site's rules read."""
        top = self.top.resolve()
        root = root.resolve()
        out = SiteChanges(change=self)

        def inside(path: str) -> str | None:
            rel = os.path.relpath(top / path, root).replace(os.sep, "/")
            # (outside the site only GitLab's CODEOWNERS file at the top is its)
            if (rel.startswith("../") or rel == "..") and path not in CODEOWNERS_FILES:
                return None
            out.repo_paths[rel] = path
            return rel

        for name in ("modified", "added", "deleted", "untracked", "unstaged"):
            mine: set[str] = getattr(out, name)
            mine.update(p for p in map(inside, getattr(self, name)) if p is not None)
        for old, new in self.renamed.items():
            was, now = inside(old), inside(new)
            if was is not None and now is not None:
                out.renamed[was] = now
            elif was is not None:  # moved out of the site: gone from it
                out.deleted.add(was)
            elif now is not None:  # moved into the site: new to it
                out.added.add(now)
        return out


@dataclass
class SiteChanges(Touched):
    """A change as one site sees it: paths relative to the site root."""

    change: Changes = field(default_factory=Changes)
    repo_paths: dict[str, str] = field(default_factory=dict)  # site path -> repository path
    _added_lines: dict[str, set[int]] = field(default_factory=dict)
    _new_to_old: dict[str, str] | None = None

    @property
    def label(self) -> str:
        return self.change.label

    def old_path(self, path: str) -> str | None:
        """Where a file that exists now was before the change (None: it is new)."""
        if path in self.added:
            return None
        if self._new_to_old is None:
            self._new_to_old = {new: old for old, new in self.renamed.items()}
        return self._new_to_old.get(path, path)

    def repo_path(self, path: str) -> str:
        return self.repo_paths.get(path, path)

    def read_before(self) -> dict[str, bytes]:
        """The old contents of every file the change modified, deleted or renamed,
        and the compared contents of files with unstaged edits."""
        change = self.change
        out: dict[str, bytes] = {}
        if self.unstaged:  # under --staged, what is compared is the index
            wanted = sorted(self.unstaged - self.before())
            blobs = read_blobs(change.top, "", [self.repo_path(p) for p in wanted])
            out.update({p: blobs[self.repo_path(p)] for p in wanted if self.repo_path(p) in blobs})
        wanted = sorted(self.before())
        blobs = read_blobs(change.top, change.base, [self.repo_path(p) for p in wanted])
        out.update({p: blobs[self.repo_path(p)] for p in wanted if self.repo_path(p) in blobs})
        return out

    def read_now(self) -> dict[str, bytes]:
        """What is compared of files with unstaged edits (--staged): the index."""
        wanted = sorted(self.unstaged)
        blobs = read_blobs(self.change.top, "", [self.repo_path(p) for p in wanted])
        return {p: blobs[self.repo_path(p)] for p in wanted if self.repo_path(p) in blobs}

    def added_lines(self, path: str) -> set[int]:
        """Lines of a file as it is now that the change added or changed."""
        found = self._added_lines.get(path)
        if found is None:
            args = ["diff", "-U0", "--no-color", "--no-ext-diff"]
            if self.change.staged:
                args.append("--cached")
            args += [self.change.base, "--", self.repo_path(path)]
            try:
                out = _git(self.change.top, *args)
            except GitError:
                out = b""
            found = set()
            for match in _HUNK_RE.finditer(out):
                start, count = int(match.group(1)), int(match.group(2) or 1)
                found.update(range(start, start + count))
            self._added_lines[path] = found
        return found


def _git(cwd: Path, *args: str, data: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True, check=False)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip() or "failed"
        raise GitError(f"git {' '.join(args)}: {message}")
    return proc.stdout


def _git_at_once(cwd: Path, *commands: tuple[str, ...]) -> list[bytes | GitError]:
    """Several git commands run side by side (each is mostly a process start
    and a read of the index): what each printed, or its GitError."""
    procs: list[subprocess.Popen[bytes] | GitError] = []
    try:
        for args in commands:
            try:
                procs.append(
                    subprocess.Popen(
                        ["git", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
                    )
                )
            except OSError as exc:
                procs.append(GitError(f"cannot run git: {exc}"))
        out: list[bytes | GitError] = []
        for args, proc in zip(commands, procs, strict=True):
            if isinstance(proc, GitError):
                out.append(proc)
                continue
            stdout, stderr = proc.communicate()
            if proc.returncode != 0:
                message = stderr.decode("utf-8", "replace").strip() or "failed"
                out.append(GitError(f"git {' '.join(args)}: {message}"))
            else:
                out.append(stdout)
        return out
    finally:  # (stopped on the way: none left running)
        for proc in procs:
            if not isinstance(proc, GitError) and proc.poll() is None:
                proc.kill()
                proc.communicate()  # (and its pipes closed)


def _ok(result: bytes | GitError) -> bytes:
    if isinstance(result, GitError):
        raise result
    return result


def output(cwd: Path, *args: str) -> str:
    """What `git ARGS` prints in `cwd`, stripped (GitError when it fails)."""
    return _git(cwd, *args).decode("utf-8", "surrogateescape").strip()


def _paths(out: bytes) -> set[str]:
    return {p for p in out.decode("utf-8", "surrogateescape").split("\0") if p}


def top_level(cwd: Path) -> Path:
    return Path(_git(cwd, "rev-parse", "--show-toplevel").decode("utf-8").strip())


def changes_since(cwd: Path, ref: str) -> Changes:
    """What the branch changed since its merge base with `ref`: committed and not
    yet committed changes (the working tree against the merge base)."""
    top = top_level(cwd)
    merge_base, untracked = _git_at_once(
        top, ("merge-base", ref, "HEAD"), ("ls-files", "-z", "--others", "--exclude-standard")
    )
    base = _ok(merge_base).decode("ascii").strip()
    out = _git(top, "diff", "--name-status", "-z", "-M", base, "--")
    changes = _parse_name_status(out, Changes(top=top, base=base, label=ref))
    changes.untracked = _paths(_ok(untracked))
    return changes


def staged_changes(cwd: Path) -> Changes:
    """What the staged changes change against HEAD (everything staged when the
    repository has no commit yet). The index is what is compared: unstaged
    edits and untracked files are not part of the commit."""
    top = top_level(cwd)
    head, diff, untracked, unstaged = _git_at_once(
        top,
        ("rev-parse", "--verify", "--quiet", "HEAD^{commit}"),
        ("diff", "--cached", "--name-status", "-z", "-M", "HEAD", "--"),
        ("ls-files", "-z", "--others", "--exclude-standard"),
        ("diff", "--name-only", "-z", "--"),
    )
    base, label = "HEAD", "HEAD"
    if isinstance(head, GitError):
        base, label = EMPTY_TREE, "the empty repository"
        diff = _git(top, "diff", "--cached", "--name-status", "-z", "-M", base, "--")
    changes = _parse_name_status(_ok(diff), Changes(top=top, base=base, label=label, staged=True))
    changes.untracked = _paths(_ok(untracked))
    changes.unstaged = _paths(_ok(unstaged))
    return changes


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
    """Files at `commit` ("": the index), paths relative to the top, read in one
    `git cat-file`; a path missing there is left out."""
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
