"""Stable fingerprints for findings (Code Quality, SARIF, and the baseline).

A fingerprint hashes the rule, the path, the finding's own message and an
occurrence counter (the n-th finding with that same rule, path and message).
No line or column goes in, so a fingerprint survives unrelated edits that move
the finding up or down; the counter keeps two identical findings in one file
apart.
"""

from __future__ import annotations

import hashlib
from collections import Counter

from handbook_lint.checks.registry import Finding

_LENGTH = 32  # hex characters kept of the sha256 digest


def fingerprints(findings: list[Finding]) -> list[str]:
    """One fingerprint per finding, in the same order as `findings`."""
    seen: Counter[tuple[str, str, str]] = Counter()
    result = []
    for f in findings:
        key = (f.rule, f.path, f.message)
        occurrence = seen[key]
        seen[key] += 1
        # NUL separates the parts: it cannot occur in any of them ambiguously.
        data = "\0".join((f.rule, f.path, f.message, str(occurrence)))
        result.append(hashlib.sha256(data.encode("utf-8")).hexdigest()[:_LENGTH])
    return result
