"""Hugo's globs (gobwas/glob with `/` as the separator, lowercased), for the
`files` filters of mounts and the `path` of cascade targets.

`*` and `?` stay within one path segment, `**` matches across segments (also
inside one: `/**.md` is any `.md` file below), `{a,b}` are alternatives (with
wildcards inside), `[abc]`, `[!abc]` and `[a-z]` are character classes, and a
backslash escapes. Hugo lowercases both the pattern and the path.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache

NEGATION = "! "  # a `files` entry that excludes


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    return re.compile(translate(pattern.lower()) + r"\Z", re.DOTALL)


def matches(path: str, pattern: str) -> bool:
    return compile_glob(pattern).match(path.lower()) is not None


def translate(pattern: str, optional_folders: bool = False) -> str:
    """A glob as a regular expression (not anchored at the end). With
    `optional_folders`, `**/` also matches no folder (`a/**/b` matches `a/b`),
    as gitignore-style globs do."""
    out: list[str] = []
    i, n = 0, len(pattern)
    depth = 0  # inside {...}
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if optional_folders and pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith("!")
                body = body[1:] if negate else body
                out.append(f"[{'^' if negate else ''}{body.replace(chr(92), chr(92) * 2)}]")
                i = end + 1
                continue
        elif ch == "{":
            depth += 1
            out.append("(?:")
        elif ch == "}" and depth:
            depth -= 1
            out.append(")")
        elif ch == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out) + ")" * depth


class FilesFilter:
    """A mount's `files` filter as Hugo applies it while walking the mount: the
    entries in order, the first that matches decides; a folder is walked when
    no exclusion takes it and, if there are inclusions, when it leads to one;
    with inclusions, a file must match one. Paths are relative to the mount's
    source."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        # (kind, pattern): "in", "out", or "dir" (a folder that leads to an inclusion)
        self.entries: list[tuple[str, str]] = []
        for raw in patterns:
            excluded = raw.startswith(NEGATION)
            pattern = raw[len(NEGATION) :] if excluded else raw
            pattern = pattern if pattern.startswith("/") else "/" + pattern
            self.entries.append(("out" if excluded else "in", pattern))
            if not excluded:
                parts = posixpath.dirname(pattern).split("/")
                for i in range(len(parts)):
                    self.entries.append(("dir", "/" + "/".join(p for p in parts[: i + 1] if p)))

    def _match(self, path: str, folder: bool) -> bool:
        has_include = False
        for kind, pattern in self.entries:
            if kind == "out":
                if matches(path, pattern):
                    return False
            elif kind == "in":
                if matches(path, pattern):
                    return True
                has_include = True
            elif folder and matches(path, pattern):
                return True
        return not has_include

    def admits(self, relative: str) -> bool:
        """A file at `relative` (to the mount's source) is mounted: every folder
        on the way is walked, and the file passes."""
        parts = relative.strip("/").split("/")
        for i in range(1, len(parts)):
            if not self._match("/" + "/".join(parts[:i]), True):
                return False
        return self._match("/" + "/".join(parts), False)


@lru_cache(maxsize=256)
def files_filter(patterns: tuple[str, ...]) -> FilesFilter:
    return FilesFilter(patterns)
