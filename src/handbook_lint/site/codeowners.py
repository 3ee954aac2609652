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
    """A section of the CODEOWNERS file."""

    name: str  # as first written
    line: int  # its first header (0: the unnamed section)
    optional: bool = False
    approvals: int = 0
    owners: tuple[str, ...] = ()  # default owners


@dataclass(frozen=True, slots=True)
class Entry:
    """One pattern line of the CODEOWNERS file."""

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
    """The CODEOWNERS file as read: its entries, sections and problems."""

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
        if header is None and line.startswith(("[", "^[")) and "]" not in line:
            out.problems.append((number, "a section header without its closing ]"))
            continue
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
        words = rest.split()
        if "#" in words:  # (GitLab has no inline comments; words after a lone # are not owners)
            words = words[: words.index("#")]
        owners = tuple(o for o in words if _OWNER_RE.match(o))
        bad = [w for w in words if not _OWNER_RE.match(w)]
        if bad:
            hint = " (a space in a path is written \\ )" if not owners or bad[0] == words[0] else ""
            out.problems.append(
                (number, f"{bad[0]!r} is not an owner (@user, @group, @@role or an e-mail){hint}")
            )
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


_WILD = re.compile(r"[*?\[\\]")


@lru_cache(maxsize=4096)
def matcher(pattern: str) -> Callable[[str], bool]:
    """A test of a repository path against `pattern` (as written in the file).
    The usual forms (a file, a folder, a name anywhere) are string tests; the
    rest Ruby's File.fnmatch (`fnmatch`)."""
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
    return lambda path: fnmatch(norm, "/" + path)


def matches(pattern: str, repo_path: str) -> bool:
    return matcher(pattern)(repo_path)


def fnmatch(p: str, s: str) -> bool:
    """Ruby's `File.fnmatch(p, s, File::FNM_PATHNAME | File::FNM_DOTMATCH)`, as
    dir.c does it: folder by folder, a `**/` retried one folder further when
    what follows fails, and within a name a `*` retried one character further.
    Time grows with the lengths' product at worst, never exponentially."""
    pi = si = 0
    ptmp = stmp = -1
    while True:
        if p.startswith("**/", pi):
            while p.startswith("**/", pi):
                pi += 3
            ptmp, stmp = pi, si
        matched, pe, se = _segment(p, pi, s, si)
        if matched:
            if pe < len(p) and se < len(s):
                pi, si = pe + 1, se + 1
                continue
            if pe >= len(p) and se >= len(s):
                return True
        if ptmp >= 0:
            slash = s.find("/", stmp)
            if slash >= 0:
                pi, stmp = ptmp, slash + 1
                si = stmp
                continue
        return False


def _segment(p: str, pi: int, s: str, si: int) -> tuple[bool, int, int]:
    """One folder or file name of `s` from `si` against `p` from `pi` (dir.c's
    fnmatch_helper): whether it matches, and where each stops (at a `/` or
    the end; on a match, `s` is skipped to its `/`)."""
    np, ns = len(p), len(s)

    def end_p(i: int) -> bool:
        return i >= np or p[i] == "/"

    def end_s(i: int) -> bool:
        return i >= ns or s[i] == "/"

    def skip(i: int) -> int:
        while not end_s(i):
            i += 1
        return i

    ptmp = stmp = -1
    while True:
        c = p[pi] if pi < np else ""
        if c == "*":
            while pi < np and p[pi] == "*":
                pi += 1
            after = pi + 1 if pi < np and p[pi] == "\\" else pi
            if end_p(after):
                return True, after, skip(si)
            if end_s(si):
                return False, pi, si
            ptmp, stmp = pi, si
            continue
        if c == "?":
            if end_s(si):
                return False, pi, si
            pi, si = pi + 1, si + 1
            continue
        if c == "[":
            if end_s(si):
                return False, pi, si
            after = _bracket(p, pi + 1, s[si])
            if after >= 0:
                pi, si = after, si + 1
                continue
        else:
            if c == "\\":
                pi += 1
            if end_s(si):
                return end_p(pi), pi, si
            if not end_p(pi) and p[pi] == s[si]:
                pi, si = pi + 1, si + 1
                continue
        # failed: the last `*` takes one more character
        if ptmp >= 0:
            pi, stmp = ptmp, stmp + 1
            si = stmp
            continue
        return False, pi, si


def _class_char(p: str, pi: int) -> tuple[str, int]:
    """The character of a `[...]` at `pi` (the one after a backslash) and the
    index after it (past the end, len(p) or more, when the pattern ends)."""
    if p[pi] == "\\":
        pi += 1
    if pi >= len(p):
        return "", len(p) + 1
    return p[pi], pi + 1


def _bracket(p: str, pi: int, c: str) -> int:
    """A `[...]` whose text starts at `pi` (after the `[`) against the character
    `c`: where the pattern goes on after it, or -1 (no match, or not closed).
    As dir.c's bracket: a `]` right after the `[` closes it, a range's ends
    match themselves even when reversed."""
    np = len(p)
    negate = pi < np and p[pi] in "!^"
    if negate:
        pi += 1
    ok = False
    while pi < np and p[pi] != "]":
        first, pi = _class_char(p, pi)
        if pi >= np:
            return -1
        if p[pi] == "-" and pi + 1 < np and p[pi + 1] != "]":
            last, pi = _class_char(p, pi + 1)
            if c in (first, last) or first <= c <= last:
                ok = True
        elif c == first:
            ok = True
    if pi >= np:
        return -1
    return pi + 1 if ok != negate else -1


class FileSet:
    """The files of a repository (paths relative to its top), for asking which
    an entry's pattern matches without testing every file against every entry:
    a pattern with a literal start is tried on the files under it only, one
    ending in a literal name on the files of that name."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = sorted(paths)
        self._indexes: dict[str, dict[str, list[str]]] = {}
        self._folders: list[str] | None = None

    def _candidates(self, normalized: str) -> list[str]:
        """The files a normalised pattern can match (a superset): those under its
        literal start, those in a folder it names, those of its literal name or
        extension; else every file."""
        literal = re.match(r"/([^*?\[\\]*/)", normalized)
        if literal and not normalized.startswith("/**/"):
            prefix = literal.group(1)
            lo = bisect.bisect_left(self.paths, prefix)
            hi = bisect.bisect_left(self.paths, prefix[:-1] + "0")  # "/" + 1
            return self.paths[lo:hi]
        if "[" in normalized:
            return self.paths
        segments = normalized.strip("/").split("/")
        folders = [f for f in segments[:-1] if f != "**" and not _WILD.search(f)]
        if folders:
            return self._index("folders").get(folders[-1], [])
        name = segments[-1]
        if name and not _WILD.search(name):
            return self._index("names").get(name, [])
        rest = name.lstrip("*")
        if "." in rest and not _WILD.search(rest):
            return self._index("extensions").get(rest.rsplit(".", 1)[1], [])
        return self.paths

    def _index(self, kind: str) -> dict[str, list[str]]:
        """Files by a folder in their path, by name, or by extension (built once)."""
        found = self._indexes.get(kind)
        if found is None:
            found = self._indexes[kind] = {}
            for path in self.paths:
                parts = path.split("/")
                if kind == "folders":
                    keys = set(parts[:-1])
                elif kind == "names":
                    keys = {parts[-1]}
                else:
                    keys = {parts[-1].rsplit(".", 1)[1]} if "." in parts[-1] else set()
                for key in keys:
                    found.setdefault(key, []).append(path)
        return found

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
