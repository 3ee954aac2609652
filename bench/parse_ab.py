"""The parser of a git revision against the working tree's, in one process.

    python bench/parse_ab.py --base REV                 # the handbook corpus
    python bench/parse_ab.py --base REV --corpus PATH   # an unpacked Hugo site

A change to parsing/mdit.py worth 2% of the parse is smaller than the noise of
whole runs on a busy machine (their CPU moves by 5-10% between phases). Here
both parsers run in one process, alternating on 40-page chunks of the same
inputs (each page as `parse_page` hands it to markdown-it-py), so a phase of
the machine falls on both. It prints, per round, the CPU of each side and
their ratio, then the median ratio and that of two identical parsers (the
harness's own bias: compare against it, not against 1.0). The tokens of the
two must be equal on every page, or it says which differ and exits 1.

The base's parsing/mdit.py is loaded from git as a module of its own; the rest
of the package is the working tree's. bench/facts_equal.py is the proof that
facts do not change; this only measures.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from facts_equal import pages_of, settings_of  # noqa: E402

from bench import unpack  # noqa: E402
from handbook_lint.parsing import markdown, mdit  # noqa: E402

CHUNK = 40


def base_module(revision: str) -> ModuleType:
    """parsing/mdit.py as it is at `revision`, imported as `mdit_base`."""
    source = subprocess.run(
        ["git", "show", f"{revision}:src/handbook_lint/parsing/mdit.py"],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="handbook-lint-ab-"))
    path = folder / "mdit_base.py"
    path.write_text(source, "utf-8")
    spec = importlib.util.spec_from_file_location("mdit_base", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mdit_base"] = module
    spec.loader.exec_module(module)
    return module


def inputs_of(root: Path, preset: str | None) -> list[tuple[str, dict[str, Any]]]:
    """What each page's parse hands markdown-it-py: (source, env)."""
    settings = settings_of(root, preset)
    real = markdown._markdown()
    seen: list[tuple[str, dict[str, Any]]] = []

    class Recording:
        def parse(self, src: str, env: dict[str, Any] | None = None) -> Any:
            env = {} if env is None else env
            seen.append((src, dict(env)))
            return real.parse(src, env)

    markdown._MD = Recording()
    try:
        for path in pages_of(root):
            text, _ = markdown.read_page(root / path)
            if text is not None:
                markdown.parse_page(text, path, settings)
    finally:
        markdown._MD = real
    return seen


def signature(tokens: list[Any]) -> list[Any]:
    return [(t.as_dict(children=False), signature(t.children or [])) for t in tokens]


def rounds(a: Any, b: Any, inputs: list[tuple[str, dict[str, Any]]], count: int) -> list[float]:
    """B's CPU over A's per round, the two alternating on each chunk."""
    chunks = [inputs[i : i + CHUNK] for i in range(0, len(inputs), CHUNK)]
    ratios = []
    for number in range(count):
        spent = [0.0, 0.0]
        for k, chunk in enumerate(chunks):
            order = [(0, a), (1, b)] if (k + number) % 2 == 0 else [(1, b), (0, a)]
            for side, parser in order:
                start = time.process_time()
                for src, env in chunk:
                    parser.parse(src, dict(env))
                spent[side] += time.process_time() - start
        ratios.append(spent[1] / spent[0])
        print(f"  round {number + 1}: A {spent[0]:.2f} s, B {spent[1]:.2f} s, B/A {ratios[-1]:.3f}")
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", required=True, help="the git revision to compare with")
    parser.add_argument("--corpus", type=Path, help="an unpacked site (default: the handbook)")
    parser.add_argument("--preset", default="gitlab-handbook", help="the preset it extends")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    root = args.corpus or unpack(
        "gitlab-handbook-ja", Path(tempfile.mkdtemp(prefix="handbook-lint-ab-"))
    )
    inputs = inputs_of(root, args.preset or None)
    base = base_module(args.base).markdown(fast=True)
    ours = mdit.markdown(fast=True)
    differ = [
        i
        for i, (src, env) in enumerate(inputs)
        if signature(base.parse(src, dict(env))) != signature(ours.parse(src, dict(env)))
    ]
    print(f"{root.name}: {len(inputs)} parses, {len(differ)} with other tokens")
    if differ:
        return 1
    print(f"A: {args.base}, B: the working tree")
    changed = rounds(base, ours, inputs, args.rounds)
    print("A and B: two identical parsers of the working tree (the harness's bias)")
    same = rounds(mdit.markdown(fast=True), ours, inputs, max(2, args.rounds // 2))
    for name, ratios in (("B/A", changed), ("identical", same)):
        print(
            f"median {name}: {statistics.median(ratios):.3f} "
            f"({min(ratios):.3f}-{max(ratios):.3f}, {len(ratios)} rounds)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
