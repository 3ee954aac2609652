"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

`::error file=PATH,line=L,col=C,title=RULE::MESSAGE`, with `::warning` for
warnings and `::notice` for info.
"""

from __future__ import annotations

from typing import TextIO

from handbook_lint.report.model import Report, full_message

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message, as the Actions runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property's value: as data, plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def write(report: Report, out: TextIO) -> None:
    for f in report.findings:
        props = [f"file={escape_property(f.path)}"]
        if f.line > 0:
            props.append(f"line={f.line}")
        if f.column > 0:
            props.append(f"col={f.column}")
        props.append(f"title={escape_property(f.rule)}")
        message = full_message(f)
        command = COMMANDS.get(f.severity, "warning")
        out.write(f"::{command} {','.join(props)}::{escape_data(message)}\n")
