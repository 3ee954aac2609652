"""`--baseline` / `--write-baseline`: report only findings that are new.

A baseline is the fingerprints of the findings a run had (see
report/fingerprint.py: rule, path, message and an occurrence counter, no line
numbers), so findings that only moved stay known.
"""

from __future__ import annotations

import json
from pathlib import Path

from handbook_lint import __version__
from handbook_lint.atomic import atomic_write
from handbook_lint.checks.registry import Finding
from handbook_lint.report.fingerprint import fingerprints


class BaselineError(Exception):
    pass


def write_baseline(path: Path, findings: list[Finding]) -> None:
    payload = {
        "tool": "handbook-lint",
        "version": __version__,
        "fingerprints": sorted(set(fingerprints(findings))),
    }
    atomic_write(path, json.dumps(payload, indent=1) + "\n")


def read_baseline(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise BaselineError(f"{path}: not a handbook-lint baseline (invalid JSON: {exc})") from None
    prints = data.get("fingerprints") if isinstance(data, dict) else None
    if not isinstance(prints, list) or not all(isinstance(p, str) for p in prints):
        raise BaselineError(f"{path}: not a handbook-lint baseline (no 'fingerprints' list)")
    return set(prints)


def new_findings(findings: list[Finding], known: set[str]) -> list[Finding]:
    """The findings whose fingerprints `known` lacks (paths as the baseline has them)."""
    return [
        f for f, print_ in zip(findings, fingerprints(findings), strict=True) if print_ not in known
    ]
