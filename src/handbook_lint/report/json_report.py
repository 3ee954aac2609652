"""`--format json`: one JSON object (the contract in README.md and the design)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from handbook_lint.checks.registry import Finding
from handbook_lint.report.model import Report


def write(report: Report, out: TextIO) -> None:
    summary: dict[str, Any] = {
        "files": report.files,
        "errors": report.count("error"),
        "warnings": report.count("warning"),
        "infos": report.count("info"),
    }
    if report.compared_with:
        summary["compared_with"] = report.compared_with
        summary["new"] = report.new
        summary["not_counted"] = report.not_counted
        summary["old_listed"] = report.old_listed
    if report.in_baseline:
        summary["in_baseline"] = report.in_baseline
    if report.unverified:
        summary["unverified"] = report.unverified
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
                "message": f.text,
                "suggestion": f.suggestion,
                "fix": _fix(f),
            }
            for f in report.findings
        ],
        "summary": summary,
    }
    # (one write: json.dump wrote each piece on its own, a quarter of a warm run)
    out.write(json.dumps(payload, ensure_ascii=False, indent=2))
    out.write("\n")


def _fix(f: Finding) -> dict[str, Any] | None:
    """The finding's fix: edits with 1-based lines, 0-based columns (in
    characters) and the text each expects to replace."""
    if f.fix is None:
        return None
    return {
        "safe": f.fix.safe,
        "edits": [
            {
                "line": e.line,
                "column": e.column,
                "old": e.old,
                "new": e.new,
                "whole_line": e.whole_line,
            }
            for e in f.fix.edits
        ],
    }
