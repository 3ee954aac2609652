"""`--stats`: what a site's findings add up to (most-linked missing targets, counts per rule)."""

from __future__ import annotations

from collections import Counter, defaultdict

from handbook_lint.checks.registry import Finding


def stats_lines(findings: list[Finding], top: int = 20) -> list[str]:
    links: Counter[str] = Counter()
    pages: defaultdict[str, set[str]] = defaultdict(set)
    for f in findings:
        if f.target:
            links[f.target] += 1
            pages[f.target].add(f.path)
    lines: list[str] = []
    if links:
        lines += ["", f"Most-linked missing targets (top {min(top, len(links))} of {len(links)}):"]
        width = max(len(str(n)) for n in links.values())
        for target, count in sorted(links.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
            lines.append(
                f"  {count:>{width}} link{'s' if count != 1 else ' '} from "
                f"{len(pages[target]):>{width}} page{'s' if len(pages[target]) != 1 else ' '}  "
                f"{target}"
            )
    per_rule = Counter(f.rule for f in findings)
    if per_rule:
        lines += ["", "Findings per rule:"]
        width = max(len(r) for r in per_rule)
        for rule, count in sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {rule:<{width}}  {count}")
    return lines
