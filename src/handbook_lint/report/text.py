"""`--format text`: `path:line:col: severity rule message`, then a summary line."""

from __future__ import annotations

from typing import TextIO

from handbook_lint.report.model import Report, fix_kind, full_message, location

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def write(report: Report, out: TextIO) -> None:
    color = report.color
    for f in report.findings:
        where = location(f)
        severity, rule = f.severity, f.rule
        if color:
            where = f"{_BOLD}{where}{_RESET}"
            severity = f"{_COLORS.get(f.severity, '')}{severity}{_RESET}"
            rule = f"{_DIM}{rule}{_RESET}"
        # ruff's mark for what `--fix` fixes
        mark = " [*]" if fix_kind(f) == "safe" else ""
        line = f"{where} {severity} {rule}{mark} {full_message(f)}"
        out.write(line + "\n")
    if not report.quiet:
        out.write(summary(report) + "\n")
    for extra in report.extra:
        out.write(extra + "\n")


def summary(report: Report) -> str:
    errors, warnings, infos = (report.count(s) for s in ("error", "warning", "info"))
    files = _count(report.files, "file")
    since = report.compared_with
    only_new = since is not None and report.new == len(report.findings)
    if not report.findings:
        line = f"{files} checked: no {'new ' if since else ''}problems"
    else:
        parts = [_count(errors, "error"), _count(warnings, "warning")]
        if infos:
            parts.append(f"{infos} info")
        head = f"{_count(report.new, 'new finding')}: " if only_new else ""
        line = f"{files} checked: {head}" + ", ".join(parts)
    notes = []
    if since is not None and not only_new:
        notes.append(f"{report.new} new since {since}")
    if since is not None and report.old_listed:
        notes.append(f"{report.old_listed} already on {since}")
    if since is not None and report.not_counted:
        notes.append(f"{_were(report.not_counted)} already on {since}, not counted")
    if report.in_baseline:
        notes.append(f"{_were(report.in_baseline)} in the baseline, not counted")
    line += f" ({'; '.join(notes)})" if notes else ""
    kinds = [fix_kind(f) for f in report.findings]
    safe, unsafe = kinds.count("safe"), kinds.count("unsafe")
    fixable = [f"[*] {safe} fixable with --fix"] if safe else []
    if unsafe:
        fixable.append(f"{unsafe} {'more' if safe else 'fixable'} with --fix --unsafe-fixes")
    if fixable:
        line += "\n" + ", ".join(fixable)
    return line


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _were(n: int) -> str:
    return f"{n} {'was' if n == 1 else 'were'}"
