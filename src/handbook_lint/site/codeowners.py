"""GitLab's CODEOWNERS file: its sections, entries and owners, and which files an
entry's pattern matches, as GitLab reads them.

GitLab looks for the file at `CODEOWNERS`, `docs/CODEOWNERS` and
`.gitlab/CODEOWNERS` in the repository (the first found is used). A line is a
comment (`#`), a section header (`[Name]`, `^[Optional]`, `[Name][2]`, then the
section's default owners), or an entry: a path pattern (`\\ ` for a space, `\\#`
for a leading `#`, a leading `!` for an exclusion) and its owners (`@user`,
`@group/subgroup`, `@@role`, an e-mail address). Sections with the same name,
in any case, are one section; entries before the first header are an unnamed
one. A pattern is matched as GitLab's `Gitlab::CodeOwners::File` does: a
pattern that does not start with `/` gets `/**/` before it, one ending in `/`
gets `**/*` after it, a lone `*` is `/**/*`, and the result is matched against
`/` + the file's path with Ruby's `File.fnmatch` (FNM_PATHNAME: `*` and `?`
never match `/`, `**/` matches any number of folders; FNM_DOTMATCH: `*`
matches a leading dot; no braces).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

LOCATIONS = ("CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")

_SECTION_RE = re.compile(r"^(\^)?\[([^\]]*)\](?:\[([^\]]*)\])?(.*)$")
_OWNER_RE = re.compile(r"^(?:@@?[\w.+-]+(?:/[\w.+-]+)*|[^@\s]+@[^@\s]+\.[^@\s]+)$")


@dataclass(frozen=True, slots=True)
class Section:
    name: str  # as first written
    line: int  # its first header (0: the unnamed section)
    optional: bool = False
    approvals: int = 0
    owners: tuple[str, ...] = ()  # default owners


@dataclass(frozen=True, slots=True)
class Entry:
    pattern: str  # as written (escapes kept, without a leading `!`)
    line: int
    section: str  # the section's key: its name lowercased ("" for the unnamed one)
    owners: tuple[str, ...]  # as written on the line
    exclusion: bool = False

    @property
    def normalized(self) -> str:
        return normalize(self.pattern)


@dataclass
class CodeOwners:
    path: str  # where the file is, relative to the site root
    top: str  # the repository folder its patterns are relative to (site-relative, "" = root)
    entries: list[Entry] = field(default_factory=list)
    sections: dict[str, Section] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong)
    _by_section: dict[str, list[Entry]] | None = field(default=None, repr=False)

    def owners_of(self, entry: Entry) -> tuple[str, ...]:
        """The owners an entry gives: its own, else its section's defaults."""
        if entry.owners or entry.exclusion:
            return entry.owners
        section = self.sections.get(entry.section)
        return section.owners if section is not None else ()

    def section_name(self, key: str) -> str:
        section = self.sections.get(key)
        return section.name if section is not None else key

    def governing(self, section: str, repo_path: str) -> Entry | None:
        """The entry of a section that decides a file: the last one matching it
        (an exclusion keeps the file out of the section for good)."""
        by_section = self._by_section
        if by_section is None:
            by_section = self._by_section = {}
            for one in self.entries:
                by_section.setdefault(one.section, []).append(one)
        found: Entry | None = None
        for entry in by_section.get(section, ()):
            if not matcher(entry.pattern)(repo_path):
                continue
            if entry.exclusion:
                return entry
            found = entry
        return found


def parse(text: str, path: str = ".gitlab/CODEOWNERS", top: str = "") -> CodeOwners:
    out = CodeOwners(path, top)
    section = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = _SECTION_RE.match(line) if line.startswith(("[", "^[")) else None
        if header is not None:
            optional, name, approvals, rest = header.groups()
            name = name.strip()
            if not name:
                out.problems.append((number, "a section header without a name"))
                continue
            count = 0
            if approvals is not None:
                if not approvals.isdigit() or int(approvals) < 1:
                    out.problems.append(
                        (number, f"[{approvals}] after [{name}] is not a number of approvals")
                    )
                else:
                    count = int(approvals)
            owners = tuple(rest.split())
            bad = [o for o in owners if not _OWNER_RE.match(o)]
            if bad:
                out.problems.append(
                    (number, f"{bad[0]!r} is not an owner (@user, @group, @@role or an e-mail)")
                )
            section = name.lower()
            have = out.sections.get(section)
            if have is None:
                out.sections[section] = Section(name, number, bool(optional), count, owners)
            else:  # sections of one name are combined; one required one makes it required
                out.sections[section] = Section(
                    have.name,
                    have.line,
                    have.optional and bool(optional),
                    max(have.approvals, count),
                    have.owners or owners,
                )
            continue
        pattern, rest = _split_pattern(line)
        exclusion = pattern.startswith("!")
        if exclusion:
            pattern = pattern[1:]
        if not pattern:
            continue
        owners = tuple(o for o in rest.split() if _OWNER_RE.match(o))
        entry = Entry(pattern, number, section, owners, exclusion)
        if not owners and not exclusion and not out.owners_of(entry):
            out.problems.append(
                (number, f"{pattern!r} has no owners (and its section no default owners)")
            )
        out.entries.append(entry)
    return out


def _split_pattern(line: str) -> tuple[str, str]:
    """The pattern (up to the first white space no backslash escapes) and the rest."""
    if "\\" not in line:
        pattern, _, rest = line.partition(" ")
        if "\t" not in pattern:
            return pattern, rest
    i = 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line):
            i += 2
            continue
        if line[i].isspace():
            return line[:i], line[i:]
        i += 1
    return line, ""


def normalize(pattern: str) -> str:
    """The pattern as GitLab matches it (see the module doc)."""
    if pattern.startswith("\\#"):
        pattern = pattern[1:]
    pattern = re.sub(r"\\\s+", " ", pattern)
    if pattern == "*":
        return "/**/*"
    if not pattern.startswith("/"):
        pattern = "/**/" + pattern
    if pattern.endswith("/"):
        pattern += "**/*"
    while "/**/**/" in pattern:  # (the same match, written once)
        pattern = pattern.replace("/**/**/", "/**/")
    return pattern


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A regular expression that matches `/` + a path when `pattern` (as written
    in the file) does."""
    return re.compile(_fnmatch_regex(normalize(pattern)), re.S)


_WILD = re.compile(r"[*?\[\\]")


@lru_cache(maxsize=4096)
def matcher(pattern: str) -> Callable[[str], bool]:
    """A test of a repository path against `pattern` (as written in the file).
    The usual forms (a file, a folder, a name anywhere) are string tests; the
    rest a regular expression (compiling one costs more than a thousand tests)."""
    norm = normalize(pattern)
    if norm == "/**/*":
        return bool
    anywhere = norm.startswith("/**/")
    body = norm[4:] if anywhere else norm[1:]
    folder = body.endswith("/**/*")
    if folder:
        body = body[:-5]
    if body and not _WILD.search(body) and "/**/" not in "/" + body + "/":
        if folder and anywhere:
            inner = "/" + body + "/"
            return lambda path: inner in "/" + path
        if folder:
            start = body + "/"
            return lambda path: path.startswith(start)
        if anywhere:
            end = "/" + body
            return lambda path: path == body or path.endswith(end)
        return lambda path: path == body
    regex = compile_pattern(pattern)
    return lambda path: regex.fullmatch("/" + path) is not None


def matches(pattern: str, repo_path: str) -> bool:
    return matcher(pattern)(repo_path)


def _fnmatch_regex(pattern: str) -> str:
    """Ruby's File.fnmatch with FNM_PATHNAME | FNM_DOTMATCH, as a regex."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        at_segment = i == 0 or pattern[i - 1] == "/"
        if c == "*" and at_segment and pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif c == "*":
            while i < n and pattern[i] == "*":
                i += 1
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end, cls = _bracket(pattern, i)
            if end < 0:
                out.append(re.escape(c))
                i += 1
            else:
                out.append(cls)
                i = end
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _bracket(pattern: str, start: int) -> tuple[int, str]:
    """A `[...]` class at `start`: (the index after it, its regex), or (-1, "")
    when it is not closed. A reversed range (`[z-a]`) matches nothing."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] in "!^"
    if negate:
        i += 1
    chars: list[str] = []  # single characters and ranges, as one regex class body
    first = True
    while i < len(pattern):
        c = pattern[i]
        if c == "]" and not first:
            body = "".join(chars)
            if negate:
                return i + 1, f"[^/{body}]"
            return i + 1, f"(?!/)[{body}]" if body else "(?!)"
        if c == "\\" and i + 1 < len(pattern):
            c = pattern[i + 1]
            i += 1
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            end = pattern[i + 2]
            if end == "\\" and i + 3 < len(pattern):
                end = pattern[i + 3]
                i += 1
            if c <= end:
                chars.append(f"{re.escape(c)}-{re.escape(end)}")
            i += 3
        else:
            chars.append(re.escape(c))
            i += 1
        first = False
    return -1, ""


class FileSet:
    """The files of a repository (paths relative to its top), for asking which
    an entry's pattern matches without testing every file against every entry:
    a pattern with a literal start is tried on the files under it only, one
    ending in a literal name on the files of that name."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = sorted(paths)
        self._by_name: dict[str, list[str]] | None = None
        self._folders: list[str] | None = None

    def _candidates(self, normalized: str) -> list[str]:
        literal = re.match(r"/([^*?\[\\]*/)", normalized)
        if literal and not normalized.startswith("/**/"):
            prefix = literal.group(1)
            lo = bisect.bisect_left(self.paths, prefix)
            hi = bisect.bisect_left(self.paths, prefix[:-1] + "0")  # "/" + 1
            return self.paths[lo:hi]
        name = normalized.rsplit("/", 1)[-1]
        if name and not _WILD.search(name) and "[" not in normalized:
            if self._by_name is None:
                self._by_name = {}
                for path in self.paths:
                    self._by_name.setdefault(path.rsplit("/", 1)[-1], []).append(path)
            return self._by_name.get(name, [])
        return self.paths

    def any_match(self, pattern: str) -> bool:
        test = matcher(pattern)
        return any(test(p) for p in self._candidates(normalize(pattern)))

    def is_folder(self, pattern: str) -> bool:
        """The pattern (without a trailing `/`) names a folder that holds files:
        GitLab matches it against files only, so it owns nothing."""
        if self._folders is None:
            folders: set[str] = set()
            for path in self.paths:
                parts = path.split("/")[:-1]
                for k in range(1, len(parts) + 1):
                    folders.add("/".join(parts[:k]))
            self._folders = sorted(folders)
        test = matcher(pattern)
        return any(test(f) for f in self._folders)
