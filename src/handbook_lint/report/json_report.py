"""`--format json`: one JSON object (the contract in README.md and the design)."""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # (the C one)
from typing import Any, TextIO

from handbook_lint.checks.registry import Finding
from handbook_lint.report.model import Report


def write(report: Report, out: TextIO) -> None:
    summary = _summary(report)
    # Byte for byte what json.dumps(payload, ensure_ascii=False, indent=2) would
    # write; with an indent the json module leaves its C encoder for a Python one,
    # and for the handbook's 6,500 findings that took 60 ms of a 0.5 s warm run. A
    # finding is one template here, its strings through the C string encoder.
    findings = ",\n    ".join(map(_finding, report.findings))
    listed = f"[\n    {findings}\n  ]" if findings else "[]"
    out.write(
        f'{{\n  "tool": "handbook-lint",\n  "version": {_value(report.version)},\n'
        f'  "findings": {listed},\n  "summary": {_nested(summary, 1)}\n}}\n'
    )


def _summary(report: Report) -> dict[str, Any]:
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
    return summary


def _finding(f: Finding) -> str:
    fix = _fix(f)
    return (
        f'{{\n      "path": {_value(f.path)},\n      "line": {_value(f.line)},\n'
        f'      "column": {_value(f.column)},\n      "rule": {_value(f.rule)},\n'
        f'      "severity": {_value(f.severity)},\n      "message": {_value(f.text)},\n'
        f'      "suggestion": {_value(f.suggestion)},\n'
        f'      "fix": {"null" if fix is None else _nested(fix, 3)}\n    }}'
    )


def _value(value: Any) -> str:
    if type(value) is str:
        return encode_basestring(value)
    if type(value) is int:
        return int.__repr__(value)
    if value is None:  # (most findings' suggestion)
        return "null"
    return json.dumps(value, ensure_ascii=False)


def _nested(value: Any, depth: int) -> str:
    """`value` as json.dumps writes it `depth` levels down: its lines indented
    further (a string holds no raw line break)."""
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * depth)


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
