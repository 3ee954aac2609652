"""The package as users get it: a wheel built with `python -m build`, installed in
a fresh virtual environment, lints a site with the shipped presets, and the
merge-request job of docs/ci/gitlab-ci.yml installs it as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import write_site
from gitrepo import JOB_FILE, PROJECT, Handbook, found, git, push_and_branch, run_job

pytestmark = pytest.mark.slow  # builds a wheel and installs it with its dependencies


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(PROJECT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("handbook_lint-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with nothing installed: its bin folder."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    return venv / "bin"


def test_the_wheel_installs_in_a_fresh_venv_and_lints_with_the_presets(
    wheel: Path, fresh_venv: Path, tmp_path: Path
) -> None:
    subprocess.run(
        [str(fresh_venv / "pip"), "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )
    for preset in ("gitlab-handbook", "hugo-docs"):
        site = write_site(
            tmp_path / preset,
            {
                "content/en/a.md" if preset == "hugo-docs" else "content/a.md": (
                    "---\ntitle: A\n---\n\n[misson](/nowhere/)\n"
                )
            },
            {"extends": preset},
        )
        proc = subprocess.run(
            [str(fresh_venv / "handbook-lint"), "check", "--no-color"],
            cwd=site,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "error link-broken link to '/nowhere/'" in proc.stdout
        assert "spelling [*] 'misson'" in proc.stdout
    version = subprocess.run(
        [str(fresh_venv / "handbook-lint"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("handbook-lint, version")


def test_the_merge_request_job_installs_and_runs_as_written(
    wheel: Path, fresh_venv: Path, tmp_path: Path
) -> None:
    """before_script and script of the job, with HANDBOOK_LINT_PACKAGE pointing
    at the wheel (what the file tells a user to set)."""
    job = yaml.safe_load(JOB_FILE.read_text("utf-8"))
    assert "HANDBOOK_LINT_PACKAGE" in job["variables"]
    installs = [line for line in job["handbook-lint"]["before_script"] if "pip install" in line]
    assert installs, "the job installs handbook-lint"
    env = {
        **os.environ,
        "HANDBOOK_LINT_PACKAGE": f"handbook-lint @ {wheel.as_uri()}",
        "PATH": f"{fresh_venv}{os.pathsep}{os.environ['PATH']}",
    }
    for line in installs:
        subprocess.run(["bash", "-e", "-c", line], env=env, check=True, capture_output=True)

    handbook = Handbook(tmp_path / "handbook")
    git(handbook.top, "add", "-A")
    git(handbook.top, "commit", "-q", "-m", "main")
    work = push_and_branch(handbook, tmp_path)
    page = work / "content/handbook/new.md"
    page.write_text("---\ntitle: New\n---\n\n[Broken](/handbook/nowhere/)\n", "utf-8")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "feature")
    code, log, report = run_job(work, fresh_venv)
    assert code == 1, log
    assert found(report) == [("content/handbook/new.md", 5, "link-broken")]
    assert "Traceback" not in log
