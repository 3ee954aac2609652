"""The three ways of use, timed on a git repository of a real handbook.

    python bench/workflows.py                    # gitlab-handbook-ja from ../shared/corpora
    python bench/workflows.py --runs 7 --corpus hugo-docs

In a fresh git repository of the corpus, with the pre-commit hook installed
from the README's snippet (this project at its HEAD commit):

- the first commit of the whole site through the hook, with a cold cache;
- a one-page commit (a paragraph added) with a warm cache, through the hook,
  and the hook's command alone (`handbook-lint check --staged PAGE`);
- a merge-request run (`check --diff-base main` on a branch that edits a page,
  an include file and deletes a page), against a plain warm `check` of the
  whole site (with nothing changed, and with one page edited so that every
  page is checked again), measured as interleaved runs in the same loop.

Medians with min and max; the machine's noise is the spread.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from gitrepo import AUTHOR, PRE_COMMIT, precommit_config, project_rev  # noqa: E402

from bench import CORPORA, unpack  # noqa: E402

LINT = [sys.executable, "-m", "handbook_lint", "check", "-q"]


def sh(cwd: Path, *cmd: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd),
        cwd=cwd,
        env={**os.environ, **AUTHOR, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


def clock(cwd: Path, *cmd: str, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    sh(cwd, *cmd, env=env)
    return time.perf_counter() - start


def show(label: str, times: list[float]) -> float:
    median = statistics.median(times)
    print(
        f"{label:<44} median {median:6.2f} s  (min {min(times):.2f}, max {max(times):.2f}, "
        f"{len(times)} runs)"
    )
    return median


def make_repo(source: Path, where: Path, preset: str, rev: str, env: dict[str, str]) -> Path:
    repo = where / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    shutil.copytree(source, repo)
    shutil.rmtree(repo / ".handbook-lint-cache", ignore_errors=True)
    (repo / ".handbook-lint.yaml").write_text(f"extends: {preset}\n", "utf-8")
    sh(repo, "git", "init", "-q", "-b", "main")
    (repo / ".pre-commit-config.yaml").write_text(precommit_config(rev), "utf-8")
    sh(repo, PRE_COMMIT, "install", env=env)
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="gitlab-handbook-ja", choices=sorted(CORPORA))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rev = project_rev()
    if rev is None:
        sys.exit("the project must be a git checkout with a commit")
    _, preset, page = CORPORA[args.corpus]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        source = unpack(args.corpus, tmp / "corpus")
        env = {"PRE_COMMIT_HOME": str(tmp / "pre-commit-home")}
        # The hook's environment is built once (pre-commit caches it), not timed.
        make_repo(source, tmp, preset, rev, env)
        sh(tmp / "repo", PRE_COMMIT, "install-hooks", env=env)

        first = []
        for _ in range(args.runs):
            repo = make_repo(source, tmp, preset, rev, env)
            sh(repo, "git", "add", "-A")
            first.append(clock(repo, "git", "commit", "-q", "-m", "first", env=env))
        show("first commit, cold cache (through the hook)", first)

        # The first commit's findings refused it when the site has any: commit
        # without the hook, then warm the cache.
        sh(repo, "git", "commit", "-q", "--no-verify", "-m", "first", env=env)
        sh(repo, *LINT)
        target = repo / page
        one, alone = [], []
        for i in range(args.runs):
            target.write_text(target.read_text("utf-8") + f"\nA new paragraph {i}.\n", "utf-8")
            sh(repo, "git", "add", str(target))
            alone.append(clock(repo, *LINT, "--staged", page))
            one.append(clock(repo, "git", "commit", "-q", "-m", f"edit {i}", env=env))
        show("one-page commit, warm (through the hook)", one)
        show("  the hook's command alone", alone)

        sh(repo, "git", "checkout", "-q", "-b", "feature")
        text = target.read_text("utf-8")
        target.write_text(text.replace("\n## ", "\n## Renamed ", 1), "utf-8")
        includes = sorted((repo / "assets").rglob("*.md")) or sorted(
            (repo / "content").rglob("*.md")
        )
        includes[0].write_text(includes[0].read_text("utf-8") + "\n[x](/nowhere/)\n", "utf-8")
        pages = sorted((repo / "content").rglob("*.md"))
        pages[len(pages) // 2].unlink()
        sh(repo, "git", "add", "-A")
        sh(repo, "git", "commit", "-q", "--no-verify", "-m", "feature")
        sh(repo, *LINT)
        merge, cached, plain = [], [], []
        other = pages[0]
        for i in range(args.runs):
            merge.append(clock(repo, *LINT, "--diff-base", "main"))
            cached.append(clock(repo, *LINT))
            # A warm run that must check every page again: one file edited.
            other.write_text(other.read_text("utf-8") + f"\n<!-- {i} -->\n", "utf-8")
            plain.append(clock(repo, *LINT))
        m = show("merge-request run (--diff-base main), warm", merge)
        show("plain warm run, nothing changed (cached findings)", cached)
        p = show("plain warm run, one page edited (every page checked)", plain)
        ratios = sorted(a / b for a, b in zip(merge, plain, strict=True))
        print(
            f"merge-request / plain warm with one page edited, per pair: median "
            f"{statistics.median(ratios):.2f} (min {ratios[0]:.2f}, max {ratios[-1]:.2f}); "
            f"of medians {m / p:.2f}"
        )


if __name__ == "__main__":
    main()
