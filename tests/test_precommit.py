"""The pre-commit hook, through the real pre-commit framework and real git commits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_site

PROJECT = Path(__file__).parent.parent
PRE_COMMIT = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")

SITE = {
    ".handbook-lint.yaml": "extends: gitlab-handbook\n",
    "content/handbook/_index.md": "---\ntitle: Handbook\n---\n\nSee [values](/handbook/values/).\n",
    "content/handbook/values.md": "---\ntitle: Values\n---\n\n## Credit\n\n## Iteration\n",
    "README.md": "# Not a page of the site\n\nNo front matter here, and that is fine.\n",
}


def git(
    repo: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run git in `repo` as a test author (with `env` added to the environment)."""
    return subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **_author(), **(env or {})},
        capture_output=True,
        text=True,
        check=check,
    )


@pytest.fixture(scope="session")
def project_rev() -> str:
    proc = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=PROJECT, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip("the project is not a git checkout with a commit")
    return proc.stdout.strip()


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def test_hook_refuses_a_broken_anchor_and_passes_a_clean_commit(
    tmp_path: Path, project_rev: str, pre_commit_home: Path
) -> None:
    repo = tmp_path / "handbook"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_site(repo, SITE)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {PROJECT}\n    rev: {project_rev}\n    hooks:\n"
        "      - id: handbook-lint\n",
        encoding="utf-8",
    )
    hooks = {"PRE_COMMIT_HOME": str(pre_commit_home)}
    subprocess.run(
        [PRE_COMMIT, "install"],
        cwd=repo,
        env={**os.environ, **hooks},
        check=True,
        capture_output=True,
    )
    git(repo, "add", "-A")
    first = git(repo, "commit", "-q", "-m", "site", check=False, env=hooks)
    assert first.returncode == 0, first.stdout + first.stderr

    # A broken anchor into an unchanged page is refused, with the finding shown.
    page = repo / "content/handbook/_index.md"
    page.write_text(page.read_text() + "\nRead about [credit](/handbook/values/#credt).\n")
    git(repo, "add", "-A")
    bad = git(repo, "commit", "-m", "broken anchor", check=False, env=hooks)
    assert bad.returncode != 0
    output = bad.stdout + bad.stderr
    assert (
        "content/handbook/_index.md:7:21: error link-anchor-missing no anchor #credt on "
        "/handbook/values/ (did you mean '#credit'?)"
    ) in output
    assert git(repo, "log", "--oneline").stdout.count("\n") == 1

    # Fixed: a valid link into an unchanged page passes.
    page.write_text(page.read_text().replace("#credt", "#credit"))
    git(repo, "add", "-A")
    good = git(repo, "commit", "-m", "fixed", check=False, env=hooks)
    assert good.returncode == 0, good.stdout + good.stderr
    assert git(repo, "log", "--oneline").stdout.count("\n") == 2


def _author() -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
