"""`--format sarif`: a SARIF 2.1.0 log with one run."""

from __future__ import annotations

import json
from typing import Any, TextIO
from urllib.parse import quote

from handbook_lint.checks.registry import Finding, Fix
from handbook_lint.report.fingerprint import fingerprints
from handbook_lint.report.model import Report, RuleInfo, full_message

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "handbookLint/v1"
# The project has no public home page yet; set this to emit tool.driver.informationUri.
INFORMATION_URI: str | None = None

LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def write(report: Report, out: TextIO) -> None:
    rule_ids = sorted({f.rule for f in report.findings})
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    driver: dict[str, Any] = {"name": "handbook-lint", "version": report.version}
    if INFORMATION_URI:
        driver["informationUri"] = INFORMATION_URI
    driver["rules"] = [_descriptor(rule_id, report) for rule_id in rule_ids]

    results = [
        _result(f, index[f.rule], fingerprint)
        for f, fingerprint in zip(report.findings, fingerprints(report.findings), strict=True)
    ]
    log = {
        "$schema": SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                # Columns count characters (code points), not UTF-16 code units.
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    out.write(json.dumps(log, ensure_ascii=False, indent=2))
    out.write("\n")


def _descriptor(rule_id: str, report: Report) -> dict[str, Any]:
    info = report.rules.get(rule_id)
    if info is None:
        # A rule the caller told us nothing about: take the level it was reported at.
        severity = next(f.severity for f in report.findings if f.rule == rule_id)
        info = RuleInfo(name=rule_id, severity=severity)
    descriptor: dict[str, Any] = {"id": rule_id, "name": info.name}
    if info.summary:
        descriptor["shortDescription"] = {"text": info.summary}
    if info.help:
        descriptor["help"] = {"text": info.summary or info.name, "markdown": info.help}
    if info.help_uri:
        descriptor["helpUri"] = info.help_uri
    descriptor["defaultConfiguration"] = {"level": LEVELS.get(info.severity, "warning")}
    return descriptor


def _result(f: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    text = full_message(f)
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(f.path)}}
    if f.line > 0:
        region: dict[str, int] = {"startLine": f.line}
        if f.column > 0:
            region["startColumn"] = f.column
        physical["region"] = region
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": text},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if f.fix is not None:
        result["fixes"] = [_fix(f.path, f.fix)]
    return result


def _fix(path: str, fix: Fix) -> dict[str, Any]:
    """A SARIF fix: one artifact change, a replacement per edit (columns 1-based,
    in code points as the run declares; a removed line is the region up to the
    start of the next line)."""
    replacements = []
    for e in fix.edits:
        start = {"startLine": e.line, "startColumn": e.column + 1}
        if e.whole_line and not e.new:
            region = {**start, "endLine": e.line + 1, "endColumn": 1}
        else:
            region = {**start, "endLine": e.line, "endColumn": e.column + 1 + len(e.old)}
        replacement: dict[str, Any] = {"deletedRegion": region}
        if e.new:
            replacement["insertedContent"] = {"text": e.new}
        replacements.append(replacement)
    return {
        "description": {"text": "safe fix" if fix.safe else "unsafe fix (--unsafe-fixes)"},
        "artifactChanges": [
            {"artifactLocation": {"uri": artifact_uri(path)}, "replacements": replacements}
        ],
    }


def artifact_uri(path: str) -> str:
    """A relative URI reference for a POSIX `path`: all but `/` and unreserved characters
    percent-encoded (so spaces, non-ASCII, `%`, `#`, `?` and `:` are safe)."""
    return quote(path, safe="/")
