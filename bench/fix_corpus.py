"""`check --fix` over copies of the corpora: what it fixes, what it leaves, what
it costs, and (hugo-docs) that real Hugo renders the same pages after it.

    python bench/fix_corpus.py                     # both corpora, 3 timing pairs
    python bench/fix_corpus.py --corpus hugo-docs --runs 5 --hugo

For each corpus, in a fresh git repository of its own:

1. findings before (JSON), then `check --fix`, then findings after: the
   findings fixed per rule, findings that are new after the fix (must be 0),
   fixable findings left, and `git diff --shortstat`;
2. a second `check --fix` must change nothing (`git diff` unchanged);
3. the same from a clean tree with `--fix --unsafe-fixes`;
4. timing, as interleaved pairs from a cold cache on a clean tree: a plain
   `check` and a `check --fix` (the fix run lints, writes, lints again);
5. with `--hugo` (hugo-docs only, needs the gohugoio/hugoDocs mirror): the
   site built by real Hugo before and after the fixes, page by page.

The hugo-docs preset reports nothing on its corpus, so this script also runs
hugo-docs with `list-numbering: {style: ordered}` on top of the preset: about
200 lists to renumber, whose rendering must not change.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from bench import CORPORA, unpack  # noqa: E402

LINT = [sys.executable, "-m", "handbook_lint", "check", "-q"]
EXTRA = {"hugo-docs": "rules:\n  list-numbering: {style: ordered}\n"}

Key = tuple[str, str, str]


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def lint(root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.perf_counter()
    proc = subprocess.run([*LINT, *args], cwd=root, capture_output=True, text=True)
    return proc, time.perf_counter() - start


def findings(root: Path) -> list[dict[str, Any]]:
    proc, _ = lint(root, "--format", "json")
    found: list[dict[str, Any]] = json.loads(proc.stdout)["findings"]
    return found


def keyed(found: list[dict[str, Any]]) -> collections.Counter[Key]:
    """Findings without line or column: a fix moves lines, not problems."""
    return collections.Counter((f["rule"], f["path"], f["message"]) for f in found)


def clean(root: Path) -> None:
    git(root, "checkout", "-q", ".")
    shutil.rmtree(root / ".handbook-lint-cache", ignore_errors=True)


def fix_round(root: Path, unsafe: bool) -> dict[str, Any]:
    clean(root)
    before = findings(root)
    flags = ["--fix", "--unsafe-fixes"] if unsafe else ["--fix"]
    proc, seconds = lint(root, *flags)
    after = findings(root)
    gone, new = keyed(before) - keyed(after), keyed(after) - keyed(before)
    fixable = [f for f in after if f["fix"] and (f["fix"]["safe"] or unsafe)]
    stat = git(root, "diff", "--shortstat").strip()
    diff = git(root, "diff")
    again, _ = lint(root, *flags)
    row = {
        "mode": "--fix --unsafe-fixes" if unsafe else "--fix",
        "before": len(before),
        "after": len(after),
        "gone_by_rule": dict(collections.Counter(k[0] for k in gone.elements())),
        "new": [list(k) for k in new.elements()],
        "fixable_left": [(f["rule"], f["path"], f["line"], f["message"]) for f in fixable],
        "diff_stat": stat,
        "note": proc.stderr.strip().splitlines()[-3:],
        "second_run_changes": git(root, "diff") != diff,
        "second_run_note": again.stderr.strip().splitlines()[-1:],
        "seconds": seconds,
    }
    print(f"  {row['mode']}: {row['before']} findings -> {row['after']}")
    print(f"    fixed (gone) by rule: {row['gone_by_rule']}")
    print(f"    new findings after the fix: {len(row['new'])}")
    for item in row["new"][:10]:
        print(f"      NEW {item}")
    print(f"    fixable findings left: {len(fixable)}")
    for item in row["fixable_left"][:10]:
        print(f"      LEFT {item}")
    print(f"    git diff --shortstat: {stat}")
    print(f"    second --fix changed files: {row['second_run_changes']}  {row['second_run_note']}")
    return row


def timing(root: Path, runs: int) -> dict[str, Any]:
    plain: list[float] = []
    fixing: list[float] = []
    for _ in range(runs):  # interleaved pairs, each from a clean tree and a cold cache
        clean(root)
        plain.append(lint(root)[1])
        clean(root)
        fixing.append(lint(root, "--fix")[1])
    clean(root)
    ratios = [f / p for f, p in zip(fixing, plain, strict=True)]
    row = {
        "plain_s": statistics.median(plain),
        "plain_range": (min(plain), max(plain)),
        "fix_s": statistics.median(fixing),
        "fix_range": (min(fixing), max(fixing)),
        "ratio": statistics.median(ratios),
        "ratio_range": (min(ratios), max(ratios)),
    }
    print(
        f"  cold plain check: median {row['plain_s']:.2f} s ({min(plain):.2f}-{max(plain):.2f}); "
        f"cold --fix: median {row['fix_s']:.2f} s ({min(fixing):.2f}-{max(fixing):.2f}); "
        f"--fix / plain: median {row['ratio']:.2f} ({min(ratios):.2f}-{max(ratios):.2f}), "
        f"{runs} pairs"
    )
    return row


def hugo_same(root: Path, into: Path) -> dict[str, Any]:
    """Build hugo-docs with its own layouts before and after --fix; compare pages."""
    import hugo_corpus
    import hugo_oracle as oracle

    clean(root)
    built = {}
    for label in ("before", "after"):
        if label == "after":
            lint(root, "--fix")
        (into / label).mkdir(parents=True)
        site, _ = hugo_corpus.hugodocs_site(root, into / label, hugo_corpus.HUGODOCS_GIT)
        public = into / label / "public"
        oracle.build(site, public)
        built[label] = {str(p.relative_to(public)): p.read_bytes() for p in public.rglob("*.html")}
    clean(root)
    before, after = built["before"], built["after"]
    differ = sorted(p for p in before.keys() & after.keys() if before[p] != after[p])
    row = {
        "pages_before": len(before),
        "pages_after": len(after),
        "only_before": sorted(before.keys() - after.keys()),
        "only_after": sorted(after.keys() - before.keys()),
        "differ": differ,
    }
    print(
        f"  Hugo: {len(before)} pages before, {len(after)} after; "
        f"{len(row['only_before']) + len(row['only_after'])} not in both; "
        f"{len(differ)} render differently"
    )
    for page in differ[:10]:
        print(f"    DIFFERS {page}")
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), action="append")
    parser.add_argument("--runs", type=int, default=3, help="timing pairs (default 3)")
    parser.add_argument("--hugo", action="store_true", help="hugo-docs: build before and after")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="fix-corpus-") as tmp:
        for name in args.corpus or sorted(CORPORA):
            print(f"{name}:", flush=True)
            root = unpack(name, Path(tmp))
            extra = EXTRA.get(name)
            if extra:
                config = root / ".handbook-lint.yaml"
                config.write_text(config.read_text("utf-8") + extra, "utf-8")
                print(f"  (preset plus: {extra.strip()})")
            (root / ".gitignore").write_text(".handbook-lint-cache/\n", "utf-8")
            git(root, "init", "-q")
            git(root, "add", "-A")
            git(root, "commit", "-qm", "corpus")
            rows: dict[str, Any] = {
                "safe": fix_round(root, unsafe=False),
                "unsafe": fix_round(root, unsafe=True),
                "timing": timing(root, args.runs),
            }
            if args.hugo and name == "hugo-docs":
                rows["hugo"] = hugo_same(root, Path(tmp) / "hugo")
            results[name] = rows
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str), "utf-8")
    bad = any(r["safe"]["new"] or r["safe"]["second_run_changes"] for r in results.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
