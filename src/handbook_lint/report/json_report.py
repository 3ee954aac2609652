"""`--format json`: one JSON object, the contract in docs/output.md."""

from __future__ import annotations

import json
from typing import TextIO

from handbook_lint.report.model import Report


def write(report: Report, out: TextIO) -> None:
    payload = {
        "tool": "handbook-lint",
        "version": report.version,
        "findings": [
            {
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "rule": f.rule,
                "severity": f.severity,
                "message": f.message,
                "suggestion": f.suggestion,
            }
            for f in report.findings
        ],
        "summary": {
            "files": report.files,
            "errors": report.count("error"),
            "warnings": report.count("warning"),
            "infos": report.count("info"),
        },
    }
    json.dump(payload, out, ensure_ascii=False, indent=2)
    out.write("\n")
