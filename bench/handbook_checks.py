"""What the handbook's own checks (media, CODEOWNERS, controlled documents) cost.

    python bench/handbook_checks.py               # gitlab-handbook-ja, 7 runs
    python bench/handbook_checks.py --runs 9 --images 8000

The corpus has no media and no CODEOWNERS file, so the benchmark gives it what
the GitLab handbook's repository holds: `--images` images under static/images/
(sparse files, 2% of them 500 KB or more), a few misplaced images, PDFs and
videos, and a .gitlab/CODEOWNERS file with a section per handbook folder (one
entry per folder two levels down, default owners, some entries owned by
people) and a [Controlled-Documents] section listing the corpus's controlled
documents but one, plus an entry for a page that is not one. It commits it
all to a fresh git repository and times, as interleaved pairs in one loop:

- a warm full run with nothing changed, with the checks (the preset) and
  without them (`--ignore` of the seven rules): the overhead the issue caps
  at 5%;
- a warm one-page `--staged` run (the pre-commit hook's command), both ways;
- a cold run (`--no-cache`), both ways;
- the same warm pair outside git (the folder walked, not `git ls-files`).

It prints the findings of the checks per rule, then medians with min and max
of each side and of the per-pair ratio (the noise is the ratio's spread), in
wall time and in CPU time (user + system of the run).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import unpack  # noqa: E402

CHECKS = (
    "media-location,media-size,codeowners-syntax,codeowners-unmatched,"
    "codeowners-duplicate,codeowners-required-owner,controlled-document"
)
LINT = [sys.executable, "-m", "handbook_lint", "check", "-q"]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@example.com",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@example.com",
}


def sh(cwd: Path, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd), cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True
    )


def clock(cwd: Path, *cmd: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one run: the CPU time (user + system of the child)
    is what the checks add; it moves less than the wall time on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    sh(cwd, *cmd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def sized(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.truncate(size)


def furnish(site: Path, images: int, rng: random.Random) -> None:
    """Media and a CODEOWNERS file like the handbook's."""
    sections = sorted(p.name for p in (site / "content/handbook").iterdir() if p.is_dir())
    for i in range(images):
        size = rng.randint(520_000, 900_000) if rng.random() < 0.02 else rng.randint(5_000, 400_000)
        sized(site / f"static/images/{sections[i % len(sections)]}/image-{i}.png", size)
    for i in range(5):
        sized(site / f"content/handbook/{sections[i]}/diagram-{i}.png", 30_000)
        sized(site / f"static/pdfs/report-{i}.pdf", 200_000)
    sized(site / "static/videos/intro.mp4", 4_000_000)
    sized(site / "static/handbook-dump.zip", 16_000_000)
    lines = ["* @gitlab-com/content-sites", ""]
    for name in sections:
        lines.append(f"[{name}] @gitlab-com/content-sites")
        lines.append(f"/content/handbook/{name}/")
        below = sorted(p for p in (site / "content/handbook" / name).iterdir() if p.is_dir())
        for k, folder in enumerate(below):
            owner = "@someone" if k % 7 == 3 else ""
            lines.append(f"/content/handbook/{name}/{folder.name}/ {owner}".rstrip())
        lines.append("")
    controlled = sorted(
        p.relative_to(site).as_posix()
        for p in (site / "content").rglob("*.md")
        if "\ncontrolled_document: true" in p.read_text("utf-8", "replace")
    )
    lines.append("[Controlled-Documents] @gitlab-com/egroup")
    lines += [f"/{p}" for p in controlled[1:]]
    lines.append("/content/handbook/values/_index.md")
    lines.append("/content/handbook/moved-away.md")
    (site / ".gitlab").mkdir(exist_ok=True)
    (site / ".gitlab/CODEOWNERS").write_text("\n".join(lines) + "\n", "utf-8")
    print(
        f"furnished: {images} images, {len(lines)} CODEOWNERS lines, "
        f"{len(controlled)} controlled documents"
    )


def pairs(label: str, cwd: Path, runs: int, with_: list[str], without: list[str]) -> None:
    sh(cwd, *with_)
    sh(cwd, *without)
    a: list[tuple[float, float]] = []
    b: list[tuple[float, float]] = []
    for _ in range(runs):
        a.append(clock(cwd, *with_))
        b.append(clock(cwd, *without))
    print(label)
    for k, kind in ((0, "wall"), (1, "CPU")):
        x = [t[k] for t in a]
        y = [t[k] for t in b]
        ratios = [p / q for p, q in zip(x, y, strict=True)]
        print(
            f"  {kind:<5} with {statistics.median(x):6.3f} s ({min(x):.3f}-{max(x):.3f})  "
            f"without {statistics.median(y):6.3f} s ({min(y):.3f}-{max(y):.3f})  "
            f"ratio {statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})"
        )


def inside(repo: Path, runs: int) -> None:
    """In one process, what a warm run spends on the checks' inputs (every
    file's name, the sizes, CODEOWNERS: the result cache's key), against the
    site's own loading (discovery and every page's summary from the cache)."""
    from handbook_lint.checks.selection import active_rules
    from handbook_lint.config.settings import load_config
    from handbook_lint.engine.linter import Linter

    config = load_config(repo / ".handbook-lint.yaml")
    Linter(config, active_rules(config), jobs=1).run()  # (fills the cache)
    load, state = [], []
    for _ in range(runs):
        linter = Linter(config, active_rules(config), jobs=1)
        start = time.perf_counter()
        linter.load_site()
        middle = time.perf_counter()
        linter._repository_state()
        load.append(middle - start)
        state.append(time.perf_counter() - middle)
    print(
        f"in one process: loading the site {statistics.median(load) * 1000:.0f} ms "
        f"({min(load) * 1000:.0f}-{max(load) * 1000:.0f}), the checks' inputs "
        f"{statistics.median(state) * 1000:.1f} ms ({min(state) * 1000:.1f}-"
        f"{max(state) * 1000:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--images", type=int, default=5000)
    args = parser.parse_args()
    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        source = unpack("gitlab-handbook-ja", tmp / "corpus")
        repo = tmp / "repo"
        shutil.copytree(source, repo)
        shutil.rmtree(repo / ".handbook-lint-cache", ignore_errors=True)
        furnish(repo, args.images, rng)
        plain = tmp / "plain"  # the same files outside git
        shutil.copytree(repo, plain)
        sh(repo, "git", "init", "-q", "-b", "main")
        sh(repo, "git", "add", "-A")
        sh(repo, "git", "commit", "-q", "-m", "handbook")

        out = sh(repo, *LINT, "--no-cache", "--format", "json", "--select", CHECKS)
        counts = Counter(f["rule"] for f in json.loads(out.stdout)["findings"])
        print("findings of the checks:", dict(sorted(counts.items())))

        inside(repo, args.runs)
        ignore = ["--ignore", CHECKS]
        pairs("warm full run, nothing changed (git)", repo, args.runs, LINT, [*LINT, *ignore])
        pairs("warm full run, nothing changed (walked)", plain, args.runs, LINT, [*LINT, *ignore])
        page = repo / "content/handbook/values/_index.md"
        page.write_text(page.read_text("utf-8") + "\nA new paragraph.\n", "utf-8")
        sh(repo, "git", "add", "-A")
        staged = [*LINT, "--staged", "content/handbook/values/_index.md"]
        pairs("one-page --staged, warm (the hook)", repo, args.runs, staged, [*staged, *ignore])
        cold = [*LINT, "--no-cache"]
        pairs("cold full run (--no-cache)", repo, max(3, args.runs // 2), cold, [*cold, *ignore])


if __name__ == "__main__":
    main()
