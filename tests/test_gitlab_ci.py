"""The merge-request job in docs/ci/gitlab-ci.yml, run for real in a git repo with a
main branch and a feature branch: only what the branch introduced fails it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import write_site

JOB = Path(__file__).parent.parent / "docs" / "ci" / "gitlab-ci.yml"
AUTHOR = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}

MAIN = {
    ".handbook-lint.yaml": "extends: gitlab-handbook\n",
    "content/handbook/_index.md": (
        "---\ntitle: Handbook\n---\n\n"
        "- [Values](/handbook/values/#credit)\n"
        "- [Old broken link, already on main](/handbook/nowhere/)\n"
        "- [Tools](/handbook/tools/)\n"
    ),
    "content/handbook/values.md": "---\ntitle: Values\n---\n\n## Credit\n",
    "content/handbook/tools.md": "---\ntitle: Tools\n---\n\nUse the [handbook](/handbook/).\n",
}


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **AUTHOR},
        check=True,
    )
    return proc.stdout


def run_job(repo: Path) -> tuple[int, str, list[dict]]:  # type: ignore[type-arg]
    script = yaml.safe_load(JOB.read_text("utf-8"))["handbook-lint"]["script"]
    env = {
        **os.environ,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    proc = subprocess.run(
        ["bash", "-e", "-c", "\n".join(script)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    report_path = repo / "gl-code-quality-report.json"
    report = json.loads(report_path.read_text("utf-8")) if report_path.exists() else []
    return proc.returncode, proc.stdout + proc.stderr, report


def make_repos(tmp_path: Path) -> Path:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "-q", "-b", "main")
    write_site(seed, MAIN)
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "main")
    git(seed, "remote", "add", "origin", str(origin))
    git(seed, "push", "-q", "origin", "main")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], check=True)
    git(work, "checkout", "-q", "-b", "feature")
    return work


def test_only_the_branch_findings_fail_the_job(tmp_path: Path) -> None:
    work = make_repos(tmp_path)
    # The branch renames a heading (breaking a link from an unchanged page),
    # deletes a page that another page links, and adds a broken link.
    (work / "content/handbook/values.md").write_text("---\ntitle: Values\n---\n\n## Kindness\n")
    git(work, "rm", "-q", "content/handbook/tools.md")
    write_site(
        work,
        {
            "content/handbook/new.md": "---\ntitle: New\n---\n\n[Tools](/handbook/tools/)\n",
        },
    )
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "feature")

    code, log, report = run_job(work)

    assert code == 1, log
    found = sorted(
        (i["location"]["path"], i["location"]["lines"]["begin"], i["check_name"]) for i in report
    )
    assert found == [
        ("content/handbook/_index.md", 5, "link-anchor-missing"),
        ("content/handbook/_index.md", 7, "link-broken"),
        ("content/handbook/new.md", 5, "link-broken"),
    ]
    assert "/handbook/nowhere/" not in log  # on main already: not this branch's doing
    assert "content/handbook/new.md:5:9: error link-broken" in log  # a readable log too


def test_a_clean_branch_passes_despite_old_findings(tmp_path: Path) -> None:
    work = make_repos(tmp_path)
    write_site(
        work, {"content/handbook/more.md": "---\ntitle: More\n---\n\n[Values](/handbook/values/)\n"}
    )
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "clean")
    code, log, report = run_job(work)
    assert code == 0, log
    assert report == []
