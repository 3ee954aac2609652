"""`--stats`: what a site's findings add up to (most-linked missing targets, counts per rule)."""

from __future__ import annotations

from collections import Counter, defaultdict

from handbook_lint.checks.registry import Finding


def missing_targets(findings: list[Finding]) -> list[tuple[str, list[Finding]]]:
    """Each missing link target with the findings that link to it, the most
    linked first (what `--stats` and the HTML report list)."""
    places: defaultdict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.target:
            places[f.target].append(f)
    return sorted(places.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def stats_lines(findings: list[Finding], top: int = 20, jobs: str = "") -> list[str]:
    """The `--stats` lines; `jobs` says how many worker processes the run had."""
    targets = missing_targets(findings)
    lines: list[str] = ["", f"Jobs: {jobs}"] if jobs else []
    if targets:
        lines += [
            "",
            f"Most-linked missing targets (top {min(top, len(targets))} of {len(targets)}):",
        ]
        width = max(len(str(len(found))) for _, found in targets)
        for target, found in targets[:top]:
            count, pages = len(found), len({f.path for f in found})
            lines.append(
                f"  {count:>{width}} link{'s' if count != 1 else ' '} from "
                f"{pages:>{width}} page{'s' if pages != 1 else ' '}  "
                f"{target}"
            )
    per_rule = Counter(f.rule for f in findings)
    if per_rule:
        lines += ["", "Findings per rule:"]
        width = max(len(r) for r in per_rule)
        for rule, count in sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {rule:<{width}}  {count}")
    return lines
