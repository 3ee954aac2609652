"""What every reporter receives."""

from __future__ import annotations

from dataclasses import dataclass, field

from handbook_lint.rules import Finding


@dataclass
class Report:
    findings: list[Finding]
    files: int
    version: str
    color: bool = False
    quiet: bool = False  # only findings, no summary line
    extra: list[str] = field(default_factory=list)  # extra lines after the findings (text only)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)
