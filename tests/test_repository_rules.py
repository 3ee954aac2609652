"""The repository's rules (media, CODEOWNERS) through the engine: git's ignore
rules, the result cache, paths named on the command line, odd files."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner
from conftest import python_output, write_site
from gitrepo import git

from handbook_lint.checks.selection import active_rules
from handbook_lint.cli import main
from handbook_lint.config.settings import load_config
from handbook_lint.engine.linter import Linter

CONFIG = {"rules": {"media-location": {"enabled": True}, "media-size": {"enabled": True}}}
PAGE = "---\ntitle: T\n---\nText.\n"


def _run(root: Path, paths: list[str] | None = None, cache: bool = True) -> list[tuple[str, str]]:
    config = load_config(root / ".handbook-lint.yaml")
    linter = Linter(config, active_rules(config), jobs=1, use_cache=cache)
    return [(f.path, f.rule) for f in linter.run(paths).findings]


def test_in_a_work_tree_the_files_are_those_git_tracks(tmp_path: Path) -> None:
    """A scratch file is not the repository's until it is added (then a cached
    run sees it); a build's output is never; tracked files in hidden or
    generated-looking folders are, for CODEOWNERS as for media."""
    files = {
        "content/page.md": PAGE,
        "public/images/built.png": "png",
        ".vale/styles/x.yml": "a: 1\n",
        "layouts/public/icon.png": "png",
        ".gitlab/CODEOWNERS": "/.vale/ @a\n/layouts/public/ @a\n",
        "static/tmp/shot.png": "png",
        ".gitignore": "/public/\n",
    }
    config = {"rules": {**CONFIG["rules"], "codeowners-unmatched": {"enabled": True}}}
    write_site(tmp_path, files, config)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "content", ".vale", "layouts", ".gitlab", ".gitignore")
    assert _run(tmp_path) == [("layouts/public/icon.png", "media-location")]
    git(tmp_path, "add", "static/tmp/shot.png")
    assert _run(tmp_path) == [
        ("layouts/public/icon.png", "media-location"),
        ("static/tmp/shot.png", "media-location"),
    ]


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


def _staged(cwd: Path, *args: str) -> list[tuple[str, str]]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, ["check", "--staged", "--format", "json", *args])
    finally:
        os.chdir(old)
    assert result.exit_code in (0, 1), result.output
    return [(f["path"], f["rule"]) for f in json.loads(result.stdout)["findings"]]


def test_a_site_in_a_subfolder_and_the_codeowners_at_the_top(tmp_path: Path) -> None:
    """Deleting the only file an entry matched is new in the commit; a file added
    above the site is seen by a cached run (the repository's files are in the
    result cache's key)."""
    config = {"rules": {"codeowners-unmatched": {"enabled": True}}}
    write_site(tmp_path / "handbook", {"content/page.md": PAGE, "content/extra.md": PAGE}, config)
    owners = "/handbook/content/extra.md @a\n/src/other.py @b\n"
    write_site(tmp_path, {".gitlab/CODEOWNERS": owners, "src/main.py": "x = 1\n"})
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "main")
    site = tmp_path / "handbook"
    assert _run(site) == [("../.gitlab/CODEOWNERS", "codeowners-unmatched")]  # /src/other.py
    write_site(tmp_path, {"src/other.py": "y = 2\n"})
    git(tmp_path, "add", "-A")
    assert _run(site) == []
    git(tmp_path, "rm", "-q", "handbook/content/extra.md")
    assert ("../.gitlab/CODEOWNERS", "codeowners-unmatched") in _staged(site)


def test_a_site_in_docs_with_docs_codeowners(tmp_path: Path) -> None:
    """GitLab's docs/CODEOWNERS, with the site in docs/: the file is the site's
    CODEOWNERS, and a commit's new duplicate line is reported."""
    config = {"rules": {"codeowners-duplicate": {"enabled": True}}}
    files = {"content/page.md": PAGE, "CODEOWNERS": "/docs/content/ @a\n"}
    write_site(tmp_path / "docs", files, config)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "main")
    (tmp_path / "docs/CODEOWNERS").write_text("/docs/content/ @a\n/docs/content/ @b\n", "utf-8")
    git(tmp_path, "add", "-A")
    assert _staged(tmp_path / "docs") == [("CODEOWNERS", "codeowners-duplicate")]


def test_pre_commit_batches_report_the_repository_findings_once(tmp_path: Path) -> None:
    """pre-commit may split the commit's pages over several runs: the image the
    commit adds is reported by the run given the first page only; an image
    already wrong before the commit is old (listed with --all-in-changed)."""
    files = {"content/a.md": PAGE, "content/b.md": PAGE, "content/old.png": "png"}
    write_site(tmp_path, files, CONFIG)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "main")
    for name in ("a", "b"):
        (tmp_path / f"content/{name}.md").write_text(PAGE + "More.\n", "utf-8")
    (tmp_path / "content/new.png").write_bytes(b"png")
    (tmp_path / "content/old.png").write_bytes(b"png, edited")
    git(tmp_path, "add", "-A")
    first = _staged(tmp_path, "content/a.md")
    second = _staged(tmp_path, "content/b.md")
    assert first == [("content/new.png", "media-location")]
    assert second == []
    listed = _staged(tmp_path, "--all-in-changed")
    assert listed == [("content/new.png", "media-location"), ("content/old.png", "media-location")]


def test_a_fifo_where_codeowners_is_looked_for_is_not_read(tmp_path: Path) -> None:
    """A FIFO (or a link to a device) named CODEOWNERS or as the redirects file
    is never opened: the run ends, with no CODEOWNERS file."""
    config = {"rules": {"codeowners-syntax": {"enabled": True}}}
    write_site(tmp_path, {"content/page.md": PAGE}, config)
    os.mkfifo(tmp_path / "CODEOWNERS")
    os.mkdir(tmp_path / "static")
    os.symlink("/dev/zero", tmp_path / "static/_redirects")
    code = (
        "from pathlib import Path\n"
        "from handbook_lint.config.settings import load_config\n"
        "from handbook_lint.checks.selection import active_rules\n"
        "from handbook_lint.engine.linter import Linter\n"
        f"c = load_config(Path({str(tmp_path / '.handbook-lint.yaml')!r}))\n"
        "print(len(Linter(c, active_rules(c), jobs=1, use_cache=False).run().findings))\n"
    )
    assert python_output(code) == "0"
