"""The rule reference, generated from rule metadata (docs/rules.md)."""

from __future__ import annotations

import json

from handbook_lint.checks.registry import Rule, all_rules

HEADER = """# Rule reference

Generated from the rules' own metadata by
`python -m handbook_lint.checks.reference > docs/rules.md`; do not edit by hand.
Configure a rule in `.handbook-lint.yaml` under `rules:`: `off`, `on`, a
severity (`error`, `warning`, `info`), or a mapping with `severity:` and the
rule's options. A rule marked *off by default* runs once the config names
a severity for it (or `on`). The *fix* column says what `check --fix`
fixes (safe) and what it fixes only with `--unsafe-fixes` (unsafe).

| rule | default severity | fix | what it checks |
| --- | --- | --- | --- |
"""


def rule_markdown(rule: Rule, level: int = 1) -> str:
    head = "#" * level
    default = f"Default severity: **{rule.severity}**."
    if not rule.enabled:
        default += " Off by default."
    lines = [f"{head} {rule.name}", "", default, ""]
    lines += [rule.summary, "", rule.doc, ""]
    if rule.fix:
        kind, _, what = rule.fix.partition(": ")
        lines += [f"**Fix ({kind}).** {what[:1].upper()}{what[1:]}.", ""]
    if rule.options:
        lines += [f"{head}# Options", ""]
        for key, default in rule.options.items():
            shown = json.dumps(default, ensure_ascii=False)
            lines.append(f"- `{key}` (default `{shown}`): {rule.option_docs.get(key, '')}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def reference() -> str:
    rules = all_rules()
    out = [HEADER]
    for name in sorted(rules):
        rule = rules[name]
        severity = rule.severity if rule.enabled else f"{rule.severity} (off by default)"
        fix = rule.fix.partition(": ")[0]
        out.append(f"| [`{name}`](#{name}) | {severity} | {fix} | {rule.summary} |\n")
    for name in sorted(rules):
        out.append("\n" + rule_markdown(rules[name], level=2))
    return "".join(out)


if __name__ == "__main__":
    print(reference(), end="")
