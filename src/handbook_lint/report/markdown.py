"""`--format markdown`: the body of a merge-request comment.

A one-line summary, then a table of the findings sorted by file (rule linked
to its documentation, file:line linked to the line on the forge, message,
suggestion), cut after `max_rows` rows with "and N more". Nothing at all when
there is nothing to report, so a job can post the comment only when the file
is not empty.
"""

from __future__ import annotations

from typing import TextIO

from handbook_lint.checks.registry import Finding
from handbook_lint.report.model import Report


def write(report: Report, out: TextIO) -> None:
    findings = sorted(report.findings, key=Finding.sort_key)
    if not findings:
        return
    out.write(summary(report) + "\n\n")
    out.write("| Rule | Location | Message | Suggestion |\n| --- | --- | --- | --- |\n")
    shown = findings[: max(report.max_rows, 0)]
    for f in shown:
        docs = report.docs_link(f.rule)
        on_web = docs is not None and docs.startswith(("https://", "http://"))
        rule = f"[{_cell(f.rule)}]({_url(docs or '')})" if on_web else _cell(f.rule)
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
    noun = "new finding" if since else "finding"
    parts = [_n(errors, "error"), _n(warnings, "warning")] + ([f"{infos} info"] if infos else [])
    line = (
        f"**handbook-lint**: {_n(len(report.findings), noun)} ({', '.join(parts)}) "
        f"in {_n(files, 'file')}"
    )
    if since:
        line += f" since `{_cell(since)}`"
        if report.not_counted:
            were = "was" if report.not_counted == 1 else "were"
            line += f" ({report.not_counted:,} already there {were} not counted)"
    return line + "."


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _cell(text: str) -> str:
    """Text safe in a table cell: one line, no `|` closing the cell, and no
    Markdown or HTML of its own (a page's message may quote `*`, `<`, `[`)."""
    text = " ".join(text.split())
    for char in "\\`*_[]<>|#":
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
