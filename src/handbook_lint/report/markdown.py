"""`--format markdown`: the body of a merge-request comment.

A one-line summary, then a table of the findings sorted by file (rule linked
to its documentation, file:line linked to the line on the forge, message,
suggestion), cut after `max_rows` rows with "and N more". Nothing at all when
there is nothing to report, so a job can post the comment only when the file
is not empty.
"""

from __future__ import annotations

import re
from typing import TextIO

from handbook_lint.checks.registry import Finding
from handbook_lint.report.model import Report


def write(report: Report, out: TextIO) -> None:
    findings = sorted(report.findings, key=Finding.sort_key)
    if not findings:
        return
    out.write(summary(report) + "\n")
    shown = findings[: max(report.max_rows, 0)]
    if not shown:
        return
    out.write("\n| Rule | Location | Message | Suggestion |\n| --- | --- | --- | --- |\n")
    for f in shown:
        docs = report.web_docs_link(f.rule)
        rule = f"[{_cell(f.rule)}]({_url(docs)})" if docs else _cell(f.rule)
        where = f"{f.path}:{f.line}"
        link = report.source_link(f)
        location = f"[{_cell(where)}]({_url(link)})" if link else _cell(where)
        suggestion = _code(f.suggestion) if f.suggestion else ""
        out.write(f"| {rule} | {location} | {_cell(f.text)} | {suggestion} |\n")
    if len(findings) > len(shown):
        rest = len(findings) - len(shown)
        out.write(f"\nand {rest:,} more finding{'s' if rest != 1 else ''}.\n")


def summary(report: Report) -> str:
    """**handbook-lint**: 3 new findings (2 errors, 1 warning) in 2 files ..."""
    errors, warnings, infos = (report.count(s) for s in ("error", "warning", "info"))
    files = len({f.path for f in report.findings})
    since = report.compared_with
    parts = [_n(errors, "error"), _n(warnings, "warning")] + ([f"{infos} info"] if infos else [])
    if since and report.old_listed:  # (--all-in-changed: old findings of the files too)
        found = f"{_n(report.new, 'new finding')} and {report.old_listed:,} already there"
    else:
        found = _n(len(report.findings), "new finding" if since else "finding")
    line = f"**handbook-lint**: {found} ({', '.join(parts)}) in {_n(files, 'file')}"
    if since:
        line += f" since {_code(since)}"
        if report.not_counted:
            were = "was" if report.not_counted == 1 else "were"
            line += f" ({report.not_counted:,} already there {were} not counted)"
    if not report.findings[: max(report.max_rows, 0)]:
        line += " (not listed: `--max-rows 0`)"
    return line + "."


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


# A word GitLab would make a reference (`@user` notifies, `#12`, `!3`, `~label`,
# `%milestone`, `$snippet`) or an entity (`&amp;`): shown as code, inert.
_REFERENCE = re.compile(r"(?<![\w`])[@#!~%$&][\w][^\s`|]*")


def _cell(text: str) -> str:
    """Text safe in a table cell: one line, no `|` closing the cell, no Markdown
    or HTML of its own (a page's message may quote `*`, `<`, `[`, `~~`), and no
    GitLab reference or HTML entity (as code instead)."""
    text = " ".join(text.split())
    out = []
    at = 0
    for match in _REFERENCE.finditer(text):
        out.append(_escape(text[at : match.start()]))
        out.append(_code(match.group()))
        at = match.end()
    out.append(_escape(text[at:]))
    return "".join(out)


def _escape(text: str) -> str:
    for char in "\\`*_[]<>|#~&@!$%":
        text = text.replace(char, "\\" + char)
    return text


def _code(text: str) -> str:
    """A code span that holds `text` whatever backticks it has, safe in a cell."""
    text = " ".join(text.split()).replace("|", "\\|")
    ticks = 1
    while "`" * ticks in text:
        ticks += 1
    fence = "`" * ticks
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _url(url: str) -> str:
    """A link destination that cannot end the link early."""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("|", "%7C")
