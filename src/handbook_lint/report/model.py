"""What every reporter receives."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from urllib.parse import quote

from handbook_lint.checks.registry import Finding


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a reporter may say about a rule (SARIF lists these as rule descriptors)."""

    name: str
    severity: str  # the rule's default severity: error, warning or info
    summary: str = ""
    help_uri: str | None = None  # where the rule's documentation lives, as given by the caller
    help: str = ""  # the rule's documentation (Markdown)


@dataclass(frozen=True)
class Source:
    """Where the linted files are on a forge: `url` is a template with `{path}`
    (relative to the repository's top) and `{line}`; `top` is the repository's
    folder and `cwd` the working directory finding paths are relative to (both
    absolute)."""

    url: str
    top: str
    cwd: str

    def repo_path(self, path: str) -> str | None:
        """A finding's path relative to the repository's top (None: outside it)."""
        full = posixpath.normpath(posixpath.join(self.cwd, path))
        inside = posixpath.relpath(full, self.top)
        return None if inside == ".." or inside.startswith("../") else inside

    def link(self, path: str, line: int) -> str | None:
        inside = self.repo_path(path)
        if inside is None:
            return None
        return self.url.replace("{path}", quote(inside)).replace("{line}", f"{max(line, 1)}")


@dataclass
class Report:
    """What a reporter writes: the findings, and how to show them."""

    findings: list[Finding]
    files: int
    version: str
    color: bool = False
    quiet: bool = False  # only findings, no summary line
    extra: list[str] = field(default_factory=list)  # extra lines after the findings (text only)
    rules: dict[str, RuleInfo] = field(default_factory=dict)  # rule name -> metadata
    # A run over a change (--diff-base, --staged): what it was compared with, and
    # how many findings of the changed files were there already (not reported).
    compared_with: str | None = None
    not_counted: int = 0
    new: int = 0  # findings the change introduced (the others: files linted whole, old ones)
    old_listed: int = 0  # old findings of the changed files that are listed (--all-in-changed)
    in_baseline: int = 0  # findings the baseline hid
    unverified: int = 0  # links into content mounted from sources missing here
    # About the run, for the reports people read (html, markdown): the site's
    # name, its commit, when the run started (ISO 8601) and how long it took,
    # the settings that shaped it (name -> value as given).
    site: str = ""
    commit: str | None = None
    started: str = ""
    seconds: float | None = None
    settings: dict[str, str] = field(default_factory=dict)
    # Where a finding's line is on the forge (None: no repository known).
    source: Source | None = None
    max_rows: int = 50  # markdown: the rows shown before "and N more"

    def source_link(self, f: Finding) -> str | None:
        return self.source.link(f.path, f.line) if self.source is not None else None

    def docs_link(self, rule: str) -> str | None:
        info = self.rules.get(rule)
        return info.help_uri if info is not None else None

    def web_docs_link(self, rule: str) -> str | None:
        """The rule's documentation when it is on the web: what a comment, an
        issue or a page can link to (a file:// Markdown file is of no use there)."""
        url = self.docs_link(rule)
        return url if url and url.startswith(("https://", "http://")) else None

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)


def full_message(f: Finding) -> str:
    """The message with the suggestion, as every format shows it."""
    return f"{f.text} (did you mean '{f.suggestion}'?)" if f.suggestion else f.text


def location(f: Finding) -> str:
    """`path:line:col:` (`path:line:` when the finding has no column)."""
    return f"{f.path}:{f.line}:{f.column}:" if f.column else f"{f.path}:{f.line}:"


def fix_kind(f: Finding) -> str | None:
    """ "safe" or "unsafe" when the finding carries a fix (`check --fix`, with
    `--unsafe-fixes` for the unsafe ones), else None."""
    if f.fix is None:
        return None
    return "safe" if f.fix.safe else "unsafe"
