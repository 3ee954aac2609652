"""Inline suppressions: `<!-- handbook-lint-disable RULE -->` and friends.

    <!-- handbook-lint-disable RULE ... -->      until the matching enable (or the end)
    <!-- handbook-lint-enable RULE ... -->
    <!-- handbook-lint-disable-next-line RULE --> the line after the comment
    <!-- handbook-lint-disable-file RULE -->      the whole file

Without RULE a directive covers every rule. A suppression that suppresses
nothing is reported as `suppression-unused`, so they do not rot.
"""

from __future__ import annotations

from dataclasses import dataclass

from handbook_lint.checks.registry import Finding

UNUSED = "suppression-unused"


@dataclass
class Suppression:
    """One inline directive and the lines it silences."""

    kind: str
    rules: tuple[str, ...]  # empty: every rule
    line: int  # where the directive is
    column: int
    start: int
    end: int  # inclusive; 0 = end of file
    used: bool = False

    def covers(self, finding: Finding) -> bool:
        if self.rules and finding.rule not in self.rules:
            return False
        return self.spans(finding.line)

    def spans(self, line: int) -> bool:
        return self.start <= line and (self.end == 0 or line <= self.end)


def suppressions(directives: list[tuple[str, tuple[str, ...], int, int]]) -> list[Suppression]:
    out: list[Suppression] = []
    open_ranges: list[Suppression] = []
    for kind, rules, line, column in directives:
        if kind == "disable-file":
            out.append(Suppression(kind, rules, line, column, 1, 0))
        elif kind == "disable-next-line":
            out.append(Suppression(kind, rules, line, column, line + 1, line + 1))
        elif kind == "disable":
            item = Suppression(kind, rules, line, column, line, 0)
            out.append(item)
            open_ranges.append(item)
        elif kind == "enable":
            for item in open_ranges:
                if item.end == 0 and (not rules or not item.rules or set(item.rules) & set(rules)):
                    item.end = line
            open_ranges = [item for item in open_ranges if item.end == 0]
    return out


def apply(
    findings: list[Finding],
    directives: list[tuple[str, tuple[str, ...], int, int]],
    path: str,
    known_rules: set[str],
    active_rules: set[str],
    unused_severity: str | None,
    idle: dict[str, set[int]] | None = None,
    optional: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Drop suppressed findings; add `suppression-unused` for those that did nothing
    (only when every rule they name ran, so --select does not make them look unused).
    `idle` maps rules to lines where they could have reported but could not tell
    (external link rules without --external, or for links whose state this run
    does not know): a directive whose range holds such a line is not unused.
    `optional`: rules off by default that did not run, which a directive for
    all rules does not wait for.
    """
    if not directives:
        return findings
    items = suppressions(directives)
    kept: list[Finding] = []
    for finding in findings:
        hit = False
        for item in items:
            if item.covers(finding):
                item.used = True
                hit = True
        if not hit:
            kept.append(finding)
    if unused_severity is None:
        return kept
    for item in items:
        message = _unused_message(item, known_rules, active_rules, idle or {}, optional)
        if message is not None:
            kept.append(Finding(path, item.line, item.column, UNUSED, unused_severity, message))
    return kept


def _unused_message(
    item: Suppression,
    known: set[str],
    active: set[str],
    idle: dict[str, set[int]],
    optional: frozenset[str] = frozenset(),
) -> str | None:
    """Why `item` is reported as unused, or None when it is not."""
    unknown = [r for r in item.rules if r not in known]
    if unknown:
        return f"suppression names unknown rule {', '.join(unknown)}"
    if item.used:
        return None
    for rule in set(item.rules) or known - {UNUSED} - optional:
        lines = idle.get(rule)
        if lines is not None:
            if any(map(item.spans, lines)):
                return None  # the rule could have reported here, had it known
        elif rule not in active:
            return None  # the rule did not run
    what = ", ".join(item.rules) if item.rules else "all rules"
    return f"handbook-lint-{item.kind} ({what}) suppresses nothing"
