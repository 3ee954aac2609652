"""`--format codequality`: GitLab's Code Quality report (a JSON array of issues)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from handbook_lint.report.fingerprint import fingerprints
from handbook_lint.report.model import Report, fix_kind, full_message

# Code Quality severities: info, minor, major, critical, blocker.
SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}


def write(report: Report, out: TextIO) -> None:
    issues: list[dict[str, Any]] = []
    for f, fingerprint in zip(report.findings, fingerprints(report.findings), strict=True):
        description = full_message(f)
        kind = fix_kind(f)
        if kind is not None:  # (not part of the fingerprint: the message is)
            flags = " --unsafe-fixes" if kind == "unsafe" else ""
            description += f" [fixable: handbook-lint check --fix{flags}]"
        issue: dict[str, Any] = {
            "description": description,
            "check_name": f.rule,
            "fingerprint": fingerprint,
            "severity": SEVERITIES.get(f.severity, "minor"),
            "location": {"path": f.path, "lines": {"begin": max(f.line, 1)}},
        }
        docs = report.web_docs_link(f.rule)
        if docs:  # Code Climate's `content.body` (Markdown): where the rule is explained
            issue["content"] = {"body": f"[{f.rule}]({docs})"}
        issues.append(issue)
    out.write(json.dumps(issues, ensure_ascii=False, indent=2))
    out.write("\n")
