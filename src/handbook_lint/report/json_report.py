"""`--format json`: one JSON object (the contract in README.md and the design)."""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # (the C one)
from typing import Any, TextIO

from handbook_lint.checks.registry import Finding, Fix
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
    # (path, rule, severity and message are strings: the C encoder without
    # _value's tests of the type; an int as str() writes it, a bool as json)
    fix, line, column = f.fix, f.line, f.column
    return (
        f'{{\n      "path": {encode_basestring(f.path)},\n'
        f'      "line": {line if type(line) is int else _value(line)},\n'
        f'      "column": {column if type(column) is int else _value(column)},\n'
        f'      "rule": {encode_basestring(f.rule)},\n'
        f'      "severity": {encode_basestring(f.severity)},\n'
        f'      "message": {encode_basestring(f.text)},\n'
        f'      "suggestion": {_value(f.suggestion)},\n'
        f'      "fix": {"null" if fix is None else _fix(fix)}\n    }}'
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


def _fix(fix: Fix) -> str:
    """A finding's fix, three levels down: whether it is safe, and its edits
    with 1-based lines, 0-based columns (in characters) and the text each
    expects to replace. (Written here too: json.dumps with an indent runs the
    Python encoder, which took most of this report's time.)"""
    edits = ",\n          ".join(
        f'{{\n            "line": {_value(e.line)},\n'
        f'            "column": {_value(e.column)},\n'
        f'            "old": {encode_basestring(e.old)},\n'
        f'            "new": {encode_basestring(e.new)},\n'
        f'            "whole_line": {_value(e.whole_line)}\n          }}'
        for e in fix.edits
    )
    listed = f"[\n          {edits}\n        ]" if edits else "[]"
    return f'{{\n        "safe": {_value(fix.safe)},\n        "edits": {listed}\n      }}'
