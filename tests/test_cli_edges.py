"""Command-line rough edges: report files, option errors, colours, sites found per
file, `rules` and `config` under the current config."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from click.testing import CliRunner
from conftest import write_site

from handbook_lint.cli import main

PAGE = "---\ntitle: T\n---\n\n[a](/nope-a/)\n"
LIST = "---\ntitle: T\n---\n\n1. a\n1. b\n2. c\n"


def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, list(args), env=env)
    finally:
        os.chdir(old)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def test_a_report_that_cannot_be_written_is_a_usage_error_before_linting(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": PAGE, "notes.txt": "a file"}, {})
    code, out, err = run(tmp_path, "check", "--output", "notes.txt/report.json")
    assert code == 2 and out == ""
    assert "--output notes.txt/report.json:" in err and "is not a folder" in err
    code, _, err = run(tmp_path, "check", "--write-baseline", "/proc/baseline.json")
    assert code == 2 and "--write-baseline /proc/baseline.json: cannot write" in err
    code, _, err = run(tmp_path, "check", "--output", "content")
    assert code == 2 and "is a directory" in err  # click says so


def test_report_files_get_the_usual_permissions(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": PAGE}, {})
    old = os.umask(0o022)
    try:
        run(tmp_path, "check", "--format", "json", "--output", "report.json")
        run(tmp_path, "check", "--write-baseline", "baseline.json")
    finally:
        os.umask(old)
    for name in ("report.json", "baseline.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
    # An existing report keeps its own mode.
    (tmp_path / "report.json").chmod(0o640)
    run(tmp_path, "check", "--format", "json", "--output", "report.json")
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o640


def test_write_baseline_says_what_it_wrote_and_succeeds(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": PAGE + "[b](/nope-b/)\n"}, {})
    code, _, err = run(tmp_path, "check", "--write-baseline", "base.json")
    assert code == 0
    assert "wrote 2 findings to the baseline base.json" in err
    assert len(json.loads((tmp_path / "base.json").read_text())["fingerprints"]) == 2
    assert run(tmp_path, "check", "--baseline", "base.json")[0] == 0


def test_an_unknown_rule_in_select_or_ignore_blames_the_option(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": PAGE}, {})
    code, _, err = run(tmp_path, "check", "--select", "link-brokn")
    assert code == 2
    assert "--select" in err and "'link-brokn'" in err and "did you mean 'link-broken'" in err
    assert ".handbook-lint.yaml" not in err
    code, _, err = run(tmp_path, "check", "--ignore", "spelling,nope")
    assert code == 2 and "--ignore" in err and "'nope'" in err


def test_an_unknown_config_key_names_its_line_and_the_closest_key(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": PAGE})
    (tmp_path / ".handbook-lint.yaml").write_text(
        "extends: gitlab-handbook\nhugo:\n  heading_id: github\n", "utf-8"
    )
    code, _, err = run(tmp_path, "check")
    assert code == 2
    assert ".handbook-lint.yaml:3: unknown key 'hugo.heading_id'" in err
    assert "did you mean 'heading_ids'" in err
    (tmp_path / ".handbook-lint.yaml").write_text("contnt_dir: docs\n", "utf-8")
    code, _, err = run(tmp_path, "check")
    assert code == 2 and ":1: unknown key 'contnt_dir' (did you mean 'content_dir'?)" in err


def test_no_color_and_force_color(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": LIST}, {})
    _, out, _ = run(tmp_path, "check", env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert "\033[" in out  # not a terminal, but forced
    _, out, _ = run(tmp_path, "check", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\033[" not in out
    _, out, _ = run(tmp_path, "check", env={"FORCE_COLOR": "", "NO_COLOR": ""})
    assert "\033[" not in out  # not a terminal


def test_files_of_no_site_are_skipped_with_one_note(tmp_path: Path) -> None:
    write_site(tmp_path / "site", {"content/a.md": LIST, "README.md": "# Site readme\n"}, {})
    write_site(tmp_path, {"README.md": "# Repo readme\n", "docs/x.md": "# No site\n"})
    code, out, err = run(
        tmp_path, "check", "README.md", "docs/x.md", "site/README.md", "site/content/a.md"
    )
    assert code == 0
    assert out.splitlines()[0].startswith("site/content/a.md:7:1: warning list-numbering")
    notes = [line for line in err.splitlines() if "skipped" in line]
    assert len(notes) == 1
    assert "skipped 3 files that are not part of any site" in notes[0]
    for name in ("README.md", "docs/x.md", "site/README.md"):
        assert name in notes[0]


def test_no_config_at_all_is_said_once(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": LIST})
    code, out, err = run(tmp_path, "check")
    assert code == 0 and "list-numbering" in out
    assert err.count("no .handbook-lint.yaml found") == 1


def test_rules_show_the_effective_severity_and_options(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": PAGE})
    (tmp_path / ".handbook-lint.yaml").write_text(
        "extends: gitlab-handbook\nrules:\n  spelling: error\n  list-indent: off\n", "utf-8"
    )
    code, out, _ = run(tmp_path, "rules")
    assert code == 0
    lines = out.splitlines()
    spelling = next(line for line in lines if line.startswith("spelling "))
    assert spelling.split()[1] == "error" and "(default warning)" in spelling
    assert next(line for line in lines if line.startswith("list-indent ")).split()[1] == "off"
    assert any('style: "one-or-ordered"' in line for line in lines)


def test_config_shows_the_merged_settings_and_where_each_came_from(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": PAGE})
    (tmp_path / ".handbook-lint.yaml").write_text(
        "extends: gitlab-handbook\nbase_url: https://example.com\n", "utf-8"
    )
    code, out, _ = run(tmp_path, "config")
    assert code == 0
    assert "base_url: https://example.com" in out
    origins = {
        parts[0]: parts[1]
        for line in out.splitlines()
        if line.startswith("#   ") and len(parts := line[4:].split(maxsplit=1)) == 2
    }
    assert origins["base_url"] == ".handbook-lint.yaml:2"
    assert origins["static_dirs"] == "preset gitlab-handbook"
    assert origins["cache_dir"] == "default"


def test_the_whole_site_is_the_same_however_it_is_named(tmp_path: Path) -> None:
    """`check`, `check .` and `check content/ assets/` lint the same files, include
    files included, and find the same."""
    import shutil

    from gitrepo import FIXTURE

    shutil.copytree(FIXTURE, tmp_path / "site")
    site = tmp_path / "site"
    (site / "assets/includes/engineering-nav.md").write_text(
        "---\n\n[Broken](/handbook/nowhere/) [Tools](../tools/)\n", "utf-8"
    )
    (site / ".git").mkdir()
    (site / ".git/notes.md").write_text("# not content\n", "utf-8")
    outputs = set()
    for args in ([], ["."], ["content/", "assets/"]):
        code, out, _ = run(site, "check", "--no-cache", "--format", "json", *args)
        assert code == 1
        payload = json.loads(out)
        outputs.add(json.dumps(payload, sort_keys=True))
        assert payload["summary"]["files"] == 7  # 5 pages, 2 include files
    assert len(outputs) == 1
    paths = {f["path"] for f in json.loads(outputs.pop())["findings"]}
    assert paths == {"assets/includes/engineering-nav.md", "content/handbook/tools.md"}


def test_an_unknown_rule_or_option_in_the_config_gets_did_you_mean(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": PAGE})
    (tmp_path / ".handbook-lint.yaml").write_text(
        "extends: gitlab-handbook\nrules:\n  link-brokn: off\n", "utf-8"
    )
    code, _, err = run(tmp_path, "check")
    assert code == 2
    assert ".handbook-lint.yaml:3: unknown rule 'link-brokn' (did you mean 'link-broken'?)" in err
    (tmp_path / ".handbook-lint.yaml").write_text(
        "rules:\n  list-numbering: {styl: one}\n", "utf-8"
    )
    code, _, err = run(tmp_path, "check")
    assert code == 2 and "unknown option 'styl' (did you mean 'style'?)" in err


def test_index_shows_a_page_or_the_whole_site(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "content/values.md": (
                "---\ntitle: Values\naliases: [/v/]\n---\n\n## Credit\n\n## Credit\n"
            ),
            "content/draft.md": "---\ntitle: Draft\ndraft: true\n---\n",
            "content/a.md": "---\ntitle: A\n---\n\n[c](/values/#credit-1) [x](/values/#nope)\n",
        },
        {},
    )
    code, out, _ = run(tmp_path, "index", "/values/")
    assert code == 0
    assert out.splitlines()[:6] == [
        "content/values.md  /values/",
        "aliases: /v/",
        "rendered",
        "anchors (2):",
        "      6  #credit",
        "      8  #credit-1",
    ]
    code, out, _ = run(tmp_path, "index", "content/a.md")
    assert "/values/#credit-1  -> ok content/values.md" in out
    assert "/values/#nope  -> anchor missing content/values.md" in out
    code, out, _ = run(tmp_path, "index", "--format", "json")
    pages = {p["path"]: p for p in json.loads(out)["pages"]}
    assert pages["content/draft.md"]["rendered"] is False
    assert "draft: true" in pages["content/draft.md"]["not_rendered"]
    code, _, err = run(tmp_path, "index", "/nowhere/")
    assert code == 2 and "no page or include file at '/nowhere/'" in err
