"""Shared helpers: build small sites in a temp folder and lint them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import settings

from handbook_lint.checks.selection import active_rules
from handbook_lint.config.settings import load_config
from handbook_lint.engine.linter import Linter, Result
from handbook_lint.external.results import ExternalResult
from handbook_lint.external.settings import ExternalSettings

# Hypothesis profiles. "ci" (the default) keeps Hypothesis's 100 examples, so
# the tests with no @settings of their own run as before; the fuzz tests
# (test_fuzz.py) take a share of that. HANDBOOK_LINT_FUZZ=long runs 50 times
# as many. No deadline: the machines are noisy.
settings.register_profile("ci", max_examples=100, deadline=None)
settings.register_profile("long", max_examples=5000, deadline=None)
settings.load_profile("long" if os.environ.get("HANDBOOK_LINT_FUZZ") == "long" else "ci")

FIXTURES = Path(__file__).parent / "fixtures"
pytest_plugins = ["local_http"]  # server, server_b and no_dns fixtures


def python_output(code: str, timeout: float = 60) -> str:
    """What `python -c code` prints (stripped); it must exit 0."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, check=True
    )
    return done.stdout.strip()


def write_site(
    root: Path, files: Mapping[str, str | bytes], config: dict[str, Any] | None = None
) -> Path:
    """Write `files` (path -> text) under `root`, plus a config when given."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(
                textwrap.dedent(content) if content.startswith("\n") else content, encoding="utf-8"
            )
    if config is not None:
        (root / ".handbook-lint.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return root


class _WithVerdicts(Linter):
    """A linter whose external link verdicts are given, not fetched."""

    def __init__(self, verdicts: dict[str, ExternalResult], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.verdicts = verdicts

    def check_external(self, targets: list[str]) -> None:
        self.external_results = self.verdicts


def lint(
    root: Path,
    paths: list[str] | None = None,
    select: list[str] | None = None,
    verdicts: dict[str, ExternalResult] | None = None,
) -> Result:
    """Lint the site at `root` in-process, uncached; `verdicts` (URL -> result)
    turn the external link rules on with those verdicts."""
    config = load_config(
        root / ".handbook-lint.yaml" if (root / ".handbook-lint.yaml").exists() else None, cwd=root
    )
    rules = active_rules(config, select=select)
    if verdicts is None:
        return Linter(config, rules, jobs=1, use_cache=False).run(paths)
    linter = _WithVerdicts(
        verdicts, config, rules, jobs=1, use_cache=False, external=ExternalSettings()
    )
    return linter.run(paths)


@pytest.fixture
def site(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(files: dict[str, str | bytes], config: dict[str, Any] | None = None) -> Path:
        return write_site(tmp_path, files, config)

    return make


def _caches() -> dict[str, float]:
    """Files of cache folders in the fixtures and the example site -> mtime."""
    root = Path(__file__).parent.parent
    return {
        f.relative_to(root).as_posix(): f.stat().st_mtime
        for base in (root / "tests" / "fixtures", root / "examples")
        for folder in base.rglob(".handbook-lint-cache")
        for f in folder.rglob("*")
        if f.is_file()
    } | {
        folder.relative_to(root).as_posix(): 0.0
        for base in (root / "tests" / "fixtures", root / "examples")
        for folder in base.rglob(".handbook-lint-cache")
    }


_CACHES_BEFORE: dict[str, float] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    _CACHES_BEFORE.update(_caches())  # (the README's "Try it" leaves one in examples/)
    # Every run a test starts is a run of its own process, even when the person
    # running the tests has a `handbook-lint serve` listening (test_server.py
    # starts its own servers).
    os.environ["HANDBOOK_LINT_NO_SERVER"] = "1"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Tests leave no state in the fixtures or the example site: a cache file the
    run made or changed there fails it (lint them with --no-cache, or copy them)."""
    now = _caches()
    left = sorted(path for path, mtime in now.items() if _CACHES_BEFORE.get(path) != mtime)
    if left:
        print(f"\ntests wrote cache files in the fixtures or examples/: {', '.join(left)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
