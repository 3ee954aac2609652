"""The repository's rules (media, CODEOWNERS) through the engine: git's ignore
rules, the result cache, paths named on the command line, odd files."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import write_site
from gitrepo import git

from handbook_lint.checks.selection import active_rules
from handbook_lint.config.settings import load_config
from handbook_lint.engine.linter import Linter

CONFIG = {"rules": {"media-location": {"enabled": True}, "media-size": {"enabled": True}}}
PAGE = "---\ntitle: T\n---\nText.\n"


def _run(root: Path, paths: list[str] | None = None, cache: bool = True) -> list[tuple[str, str]]:
    config = load_config(root / ".handbook-lint.yaml")
    linter = Linter(config, active_rules(config), jobs=1, use_cache=cache)
    return [(f.path, f.rule) for f in linter.run(paths).findings]


def test_files_git_ignores_are_not_reported_even_from_the_cache(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/page.md": PAGE, "static/tmp/shot.png": "png"}, CONFIG)
    git(tmp_path, "init", "-q")
    assert _run(tmp_path) == [("static/tmp/shot.png", "media-location")]
    (tmp_path / ".gitignore").write_text("static/tmp/\n", "utf-8")
    assert _run(tmp_path) == []  # the same cached result, filtered again
    (tmp_path / ".gitignore").write_text("", "utf-8")
    assert _run(tmp_path) == [("static/tmp/shot.png", "media-location")]


def test_a_cached_run_sees_an_image_grow_or_move(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/page.md": PAGE, "static/images/a.png": "png"}, CONFIG)
    assert _run(tmp_path) == []
    with open(tmp_path / "static/images/a.png", "wb") as out:
        out.truncate(600_000)
    assert _run(tmp_path) == [("static/images/a.png", "media-size")]
    os.rename(tmp_path / "static/images/a.png", tmp_path / "content/a.png")
    assert _run(tmp_path) == [("content/a.png", "media-location"), ("content/a.png", "media-size")]


def test_a_codeowners_edit_is_seen_by_a_cached_run(tmp_path: Path) -> None:
    config = {"rules": {"codeowners-unmatched": {"enabled": True}}}
    files = {"content/page.md": PAGE, ".gitlab/CODEOWNERS": "/content/ @a\n"}
    write_site(tmp_path, files, config)
    assert _run(tmp_path) == []
    (tmp_path / ".gitlab/CODEOWNERS").write_text("/content/ @a\n/gone/ @b\n", "utf-8")
    assert _run(tmp_path) == [(".gitlab/CODEOWNERS", "codeowners-unmatched")]


def test_named_paths_limit_the_repository_findings(tmp_path: Path) -> None:
    files = {"content/page.md": PAGE, "content/a.png": "png", "docs/b.pdf": "pdf"}
    write_site(tmp_path, files, CONFIG)
    assert _run(tmp_path, [str(tmp_path / "docs")]) == [("docs/b.pdf", "media-location")]
    assert _run(tmp_path, [str(tmp_path / "content/page.md")]) == []
    assert _run(tmp_path, [str(tmp_path)]) == [
        ("content/a.png", "media-location"),
        ("docs/b.pdf", "media-location"),
    ]


def test_odd_files_are_names_not_crashes(tmp_path: Path) -> None:
    """A FIFO is never opened, a symlink loop never followed, a name that is not
    UTF-8 is listed like any other."""
    write_site(tmp_path, {"content/page.md": PAGE, "static/images/ok.png": "png"}, CONFIG)
    os.mkfifo(tmp_path / "static/images/pipe.png")
    os.symlink("loop", tmp_path / "static/loop")
    os.symlink(tmp_path / "static", tmp_path / "static/self")
    (tmp_path / os.fsdecode(b"content/bad\xff.png")).write_bytes(b"png")
    found = _run(tmp_path, cache=False)
    assert ("content/bad\udcff.png", "media-location") in found
    assert not any("pipe" in path or "loop" in path or "self" in path for path, _ in found)
