"""`--format text`: `path:line:col: severity rule message`, then a summary line."""

from __future__ import annotations

from typing import TextIO

from handbook_lint.report.model import Report, full_message, location

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
        line = f"{where} {severity} {rule} {full_message(f)}"
        out.write(line + "\n")
    if not report.quiet:
        out.write(summary(report) + "\n")
    for extra in report.extra:
        out.write(extra + "\n")


def summary(report: Report) -> str:
    errors, warnings, infos = (report.count(s) for s in ("error", "warning", "info"))
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    new = "new " if report.compared_with else ""
    if not report.findings:
        line = f"{files} checked: no {new}problems"
    else:
        parts = [
            f"{errors} error{'s' if errors != 1 else ''}",
            f"{warnings} warning{'s' if warnings != 1 else ''}",
        ]
        if infos:
            parts.append(f"{infos} info")
        count = len(report.findings)
        head = f"{count} new finding{'s' if count != 1 else ''}: " if new else ""
        line = f"{files} checked: {head}" + ", ".join(parts)
    if report.compared_with and report.not_counted:
        line += f" ({report.not_counted} already on {report.compared_with} were not counted)"
    return line
