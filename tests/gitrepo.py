"""A handbook's git repository for the workflow tests: the fixture site copied
into a fresh repository (at its top or in a subfolder), the pre-commit hook
installed from the README's snippet, and the merge-request job from
docs/ci/gitlab-ci.yml run for real against a bare origin."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "handbook-repo"
README = PROJECT / "README.md"
JOB_FILE = PROJECT / "docs" / "ci" / "gitlab-ci.yml"
PRE_COMMIT = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
AUTHOR = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def git(
    repo: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **AUTHOR, **(env or {})},
        capture_output=True,
        text=True,
        check=check,
    )


def readme_block(heading: str, language: str) -> str:
    """The first fenced `language` block after `heading` in README.md."""
    text = README.read_text("utf-8")
    at = text.index(heading)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(text, at)
    assert match is not None, f"no {language} block after {heading!r} in README.md"
    return match.group(1)


def precommit_config(rev: str, section: str = "### As a pre-commit hook") -> str:
    """The README's pre-commit snippet (in `section`) with its two placeholders
    filled in, as the README tells a user to: the git URL of handbook-lint and a
    commit of it."""
    data = yaml.safe_load(readme_block(section, "yaml"))
    (entry,) = data["repos"]
    hooks = [h["id"] for h in entry["hooks"]]
    assert hooks in (["handbook-lint"], ["handbook-lint-fix", "handbook-lint"]), hooks
    entry["repo"], entry["rev"] = str(PROJECT), rev
    return yaml.safe_dump(data, sort_keys=False)


def project_rev() -> str | None:
    proc = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=PROJECT, capture_output=True, text=True, check=False
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


class Handbook:
    """A git repository holding the fixture site in `site_dir` ("" = its top)."""

    def __init__(self, top: Path, site_dir: str = "", hooks_home: Path | None = None) -> None:
        self.top = top
        self.site = top / site_dir if site_dir else top
        self.env = {"PRE_COMMIT_HOME": str(hooks_home)} if hooks_home else {}
        top.mkdir(parents=True, exist_ok=True)
        git(top, "init", "-q", "-b", "main")
        shutil.copytree(FIXTURE, self.site, dirs_exist_ok=True)
        if site_dir:  # a README beside the site, at the repository's top
            (top / "README.md").write_text("# The repository\n\nNo front matter.\n", "utf-8")

    def install_hook(self, rev: str, section: str = "### As a pre-commit hook") -> None:
        self.install_config(precommit_config(rev, section))

    def install_config(self, config: str) -> None:
        """`config` as the repository's .pre-commit-config.yaml, installed."""
        (self.top / ".pre-commit-config.yaml").write_text(config, "utf-8")
        subprocess.run(
            [PRE_COMMIT, "install"],
            cwd=self.top,
            env={**os.environ, **self.env},
            check=True,
            capture_output=True,
        )

    def write(self, path: str, text: str) -> None:
        target = self.site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")

    def append(self, path: str, text: str) -> None:
        target = self.site / path
        target.write_text(target.read_text("utf-8") + text, "utf-8")

    def commit(self, message: str) -> subprocess.CompletedProcess[str]:
        """Stage everything and commit through the hook (if installed)."""
        git(self.top, "add", "-A")
        return git(self.top, "commit", "-m", message, check=False, env=self.env)

    def run_hooks(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PRE_COMMIT, "run", *args],
            cwd=self.top,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
        )

    def commits(self) -> int:
        return len(git(self.top, "log", "--oneline").stdout.splitlines())


def job_script(job: str = "handbook-lint") -> list[str]:
    return list(yaml.safe_load(JOB_FILE.read_text("utf-8"))[job]["script"])


def run_job(work: Path, path: Path | None = None) -> tuple[int, str, list[dict[str, Any]]]:
    """The merge-request job's script, as GitLab runs it in the clone `work`, with
    the handbook-lint on PATH (this test environment's, or `path`'s)."""
    bin_dir = path or Path(sys.executable).parent
    env = {
        **os.environ,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    proc = subprocess.run(
        ["bash", "-e", "-c", "\n".join(job_script())],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    report_path = work / "gl-code-quality-report.json"
    report = json.loads(report_path.read_text("utf-8")) if report_path.exists() else []
    return proc.returncode, proc.stdout + proc.stderr, report


def run_after_script(work: Path, env: dict[str, str]) -> tuple[int, str]:
    """The merge-request job's after_script, with the CI variables `env`, as
    GitLab runs it: its lines in one shell (so `exit 0` ends the step), in a
    shell of its own apart from the script's."""
    lines = yaml.safe_load(JOB_FILE.read_text("utf-8"))["handbook-lint"]["after_script"]
    full = {
        **os.environ,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        **env,
    }
    proc = subprocess.run(
        ["bash", "-e", "-c", "\n".join(lines)],
        cwd=work,
        env=full,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def push_and_branch(handbook: Handbook, tmp: Path, branch: str = "feature") -> Path:
    """Push the handbook's main to a bare origin; return a clone on a new branch."""
    origin = tmp / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    git(handbook.top, "remote", "add", "origin", str(origin))
    git(handbook.top, "push", "-q", "origin", "main")
    work = tmp / "work"
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], check=True)
    git(work, "checkout", "-q", "-b", branch)
    return work


def found(report: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return sorted(
        (i["location"]["path"], i["location"]["lines"]["begin"], i["check_name"]) for i in report
    )


def places(output: str, rule: str) -> list[str]:
    """`path:line` of each finding of `rule` in text output, sorted."""
    out = []
    for line in output.splitlines():
        location, _, rest = line.partition(": ")
        if rest.split(" ")[1:2] == [rule]:
            path, number = location.split(":")[:2]
            out.append(f"{path}:{number}")
    return sorted(out)
