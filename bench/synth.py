"""Generate a synthetic handbook site of N pages (for scaling benchmarks).

Pages look like handbook pages: YAML front matter, headings, `1.`-numbered
lists, links between pages (with anchors, some broken on purpose), includes,
a few reference links. Deterministic for a given N.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

WORDS = [
    "team",
    "handbook",
    "process",
    "review",
    "merge",
    "request",
    "release",
    "values",
    "iteration",
    "results",
    "collaboration",
    "transparency",
    "efficiency",
    "diversity",
    "inclusion",
    "customer",
    "product",
    "engineering",
    "support",
    "security",
    "infrastructure",
    "onboarding",
    "hiring",
    "manager",
    "direct",
    "report",
    "feedback",
    "goal",
]


def sentence(rng: random.Random, n: int = 14) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def page_url(i: int, per_section: int) -> str:
    return f"/handbook/section-{i // per_section}/page-{i}/"


def generate(root: Path, pages: int, per_section: int = 100, seed: int = 1) -> None:
    rng = random.Random(seed)
    content = root / "content" / "handbook"
    includes = root / "assets" / "includes"
    includes.mkdir(parents=True, exist_ok=True)
    for k in range(20):
        (includes / f"snippet-{k}.md").write_text(
            f"### Shared part {k}\n\n1. {sentence(rng)}\n1. {sentence(rng)}\n", encoding="utf-8"
        )
    (root / ".handbook-lint.yaml").write_text("extends: gitlab-handbook\n", encoding="utf-8")
    (root / "content" / "_index.md").parent.mkdir(parents=True, exist_ok=True)
    (root / "content" / "_index.md").write_text("---\ntitle: Home\n---\n", encoding="utf-8")
    sections = (pages + per_section - 1) // per_section
    for s in range(sections):
        folder = content / f"section-{s}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "_index.md").write_text(
            f"---\ntitle: Section {s}\n---\n\n{sentence(rng)}\n", encoding="utf-8"
        )
    for i in range(pages):
        lines = [
            "---",
            f'title: "Page {i}"',
            f'description: "{sentence(rng, 8)}"',
            "---",
            "",
            f'{{{{% include "includes/snippet-{i % 20}.md" %}}}}',
            "",
        ]
        for h in range(6):
            lines += [f"## Topic {h} of page {i}", "", sentence(rng, 30), ""]
            for _ in range(4):
                j = rng.randrange(pages)
                anchor = f"#topic-{rng.randrange(7)}-of-page-{j}" if rng.random() < 0.5 else ""
                lines.append(
                    f"1. {sentence(rng)} See [{rng.choice(WORDS)}]"
                    f"({page_url(j, per_section)}{anchor})."
                )
            lines += [
                "",
                f"Read the [values][values-{h}].",
                "",
                f"[values-{h}]: /handbook/section-0/page-0/",
                "",
            ]
        path = content / f"section-{i // per_section}" / f"page-{i}.md"
        path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--pages", type=int, default=20000)
    args = parser.parse_args()
    generate(args.root, args.pages)


if __name__ == "__main__":
    main()
