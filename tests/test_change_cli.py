"""`check --diff-base` and `check --staged` through the command line, in real git
repositories (the quick counterpart of test_workflows.py, without pre-commit)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner
from conftest import write_site
from gitrepo import git
from local_http import Server

from handbook_lint.cli import main

CONFIG = "extends: gitlab-handbook\n"
PAGE = "---\ntitle: {title}\n---\n\n{body}\n"


def page(title: str, body: str = "Text.") -> str:
    return PAGE.format(title=title, body=body)


def run(cwd: Path, *args: str) -> tuple[int, str, str]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, ["check", "--no-color", "--no-cache", *args])
    finally:
        os.chdir(old)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def repo_with(tmp_path: Path, files: dict[str, str], site_dir: str = "") -> Path:
    repo = tmp_path / "repo"
    site = repo / site_dir if site_dir else repo
    write_site(site, {".handbook-lint.yaml": CONFIG, **files})
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "main")
    return repo


def lines(out: str) -> list[str]:
    """The finding lines of text output (no summary)."""
    return [line for line in out.splitlines() if ": error " in line or ": warning " in line]


SUBSITE = {
    "content/handbook/_index.md": page("Handbook", "[Values](/handbook/values/) [Tools](tools/)"),
    "content/handbook/values.md": page("Values", "## Credit"),
    "content/handbook/tools.md": page("Tools", "See [values](/handbook/values/#credit)."),
}


def test_a_folder_above_a_site_lints_the_site_below(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, SUBSITE, "site")
    (repo / "README.md").write_text("# Repository\n\n3. not a handbook list\n", "utf-8")
    for args in ([], ["."]):
        code, out, err = run(repo, *args)
        assert code == 0, out + err
        assert out.splitlines()[-1] == "3 files checked: no problems"
        assert "skipped 1 file" in err and "README.md" in err
        assert "defaults" not in err


def test_staged_reports_a_deletion_in_a_subfolder_site_when_a_readme_is_named(
    tmp_path: Path,
) -> None:
    repo = repo_with(tmp_path, SUBSITE, "site")
    git(repo, "rm", "-q", "site/content/handbook/values.md")
    (repo / "README.md").write_text("# Changed\n", "utf-8")
    git(repo, "add", "README.md")
    code, out, err = run(repo, "--staged", "README.md")
    assert code == 1
    assert [line.split(": error ")[0].split(": warning ")[0] for line in lines(out)] == [
        "site/content/handbook/_index.md:5:10",
        "site/content/handbook/tools.md:5:14",
        "site/content/handbook/values.md:1",  # page-url-lost, at the deleted page
    ]
    assert "site/content/handbook/values.md was deleted by this change" in out
    assert "nothing serves /handbook/values/ any more" in out
    assert "skipped 1 file" in err


def test_staged_compares_what_git_will_commit(tmp_path: Path) -> None:
    """Untracked files are in neither version, unstaged edits are not compared."""
    repo = repo_with(tmp_path, SUBSITE)
    write_site(repo, {"content/handbook/new.md": page("New")})  # never git-added
    index = repo / "content/handbook/_index.md"
    index.write_text(index.read_text("utf-8") + "\n[New](/handbook/new/)\n", "utf-8")
    git(repo, "add", "content/handbook/_index.md")
    tools = repo / "content/handbook/tools.md"
    tools.write_text(tools.read_text("utf-8") + "\n[Unstaged](/nowhere/)\n", "utf-8")
    code, out, _ = run(repo, "--staged")
    assert code == 1
    assert lines(out) == [
        "content/handbook/_index.md:7:7: error link-broken link to '/handbook/new/': "
        "no such page or file"
    ]


def test_diff_base_all_in_changed_lists_old_findings_once(tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        {**SUBSITE, "content/handbook/tools.md": page("Tools", "[old](/old-a/)")},
    )
    git(repo, "checkout", "-q", "-b", "feature")
    tools = repo / "content/handbook/tools.md"
    tools.write_text(tools.read_text("utf-8") + "\n[new](/new-b/)\n", "utf-8")
    git(repo, "rm", "-q", "content/handbook/values.md")
    git(repo, "commit", "-q", "-am", "feature")
    _, plain, _ = run(repo, "--diff-base", "main")
    assert [line.split(" error ")[0].split(" warning ")[0] for line in lines(plain)] == [
        "content/handbook/_index.md:5:10:",
        "content/handbook/tools.md:7:7:",
        "content/handbook/values.md:1:",  # page-url-lost
    ]
    assert plain.splitlines()[-1].endswith(
        "3 new findings: 2 errors, 1 warning (1 was already on main, not counted)"
    )
    _, listed, _ = run(repo, "--diff-base", "main", "--all-in-changed", "--format", "json")
    payload = json.loads(listed)
    places = [(f["path"], f["line"]) for f in payload["findings"]]
    assert places == [
        ("content/handbook/_index.md", 5),
        ("content/handbook/tools.md", 5),
        ("content/handbook/tools.md", 7),
        ("content/handbook/values.md", 1),
    ]
    assert payload["summary"]["new"] == 3 and payload["summary"]["old_listed"] == 1


def test_of_identical_findings_the_new_one_is_on_the_added_line(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {"content/a.md": page("A", "Intro.\n\nEnd [x](/x/).")})
    git(repo, "checkout", "-q", "-b", "feature")
    a = repo / "content/a.md"
    a.write_text(a.read_text("utf-8").replace("Intro.", "New [x](/x/) here."), "utf-8")
    git(repo, "commit", "-q", "-am", "feature")
    _, out, _ = run(repo, "--diff-base", "main")
    assert [line.split(" error ")[0] for line in lines(out)] == ["content/a.md:5:9:"]


def test_a_renamed_page_with_an_alias_keeps_old_anchor_findings_old(tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        {
            "content/cadence.md": page("Cadence", "## Yearly"),
            "content/vision.md": page("Vision", "[update](/cadence/#update-cadence)"),
        },
    )
    git(repo, "mv", "content/cadence.md", "content/cadences.md")
    moved = repo / "content/cadences.md"
    moved.write_text(moved.read_text("utf-8").replace("title:", "aliases: [/cadence/]\ntitle:"))
    git(repo, "add", "-A")
    code, out, _ = run(repo, "--staged")
    assert code == 0, out
    assert out.splitlines()[-1].endswith("no new problems")


def test_removing_an_alias_says_so(tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        {
            "content/v.md": "---\ntitle: V\naliases: [/old-v/]\n---\n",
            "content/a.md": page("A", "[v](/old-v/)"),
        },
    )
    v = repo / "content/v.md"
    v.write_text("---\ntitle: V\n---\n", "utf-8")
    git(repo, "add", "-A")
    _, out, _ = run(repo, "--staged")
    assert lines(out) == [
        "content/a.md:5:5: error link-broken link to '/old-v/': no such page or file "
        "(this change removed the alias /old-v/ from content/v.md: keep it, or update the link)",
        "content/v.md:1: warning page-url-lost this change takes an alias out of the page, and "
        "nothing serves /old-v/ any more: add it to the page's aliases, or a redirect",
    ]


def test_external_links_are_checked_in_a_change_run(tmp_path: Path, server: Server) -> None:
    repo = repo_with(tmp_path, {"content/a.md": page("A")})
    a = repo / "content/a.md"
    base = f"http://127.0.0.1:{server.port}"
    a.write_text(a.read_text("utf-8") + f"\n[gone]({base}/404)\n", "utf-8")
    git(repo, "add", "-A")
    code, out, _ = run(repo, "--staged", "--external", "--external-allow-private")
    assert code == 1
    assert "link-external-broken" in out and server.hits["/404"] == 1


def test_a_config_outside_the_repository_and_git_errors(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, SUBSITE)
    elsewhere = tmp_path / "elsewhere"
    write_site(elsewhere, {".handbook-lint.yaml": CONFIG, "content/x.md": page("X")})
    code, out, err = run(repo, "--staged", "--config", str(elsewhere / ".handbook-lint.yaml"))
    assert code == 0 and "Traceback" not in out + err
    code, _, err = run(repo, "--diff-base", "no-such-ref")
    assert code == 2 and "--diff-base no-such-ref: git merge-base" in err
    code, _, err = run(tmp_path, "--staged")
    assert code == 2 and "--staged: git rev-parse" in err
