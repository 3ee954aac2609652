"""The command line: output contract, exit codes, config errors, rule docs."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import write_site

from handbook_lint import __version__
from handbook_lint.checks.reference import reference
from handbook_lint.cli import main

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"

BAD_LIST = "---\ntitle: T\n---\n\n1. a\n1. b\n2. c\n"


def invoke(cwd: Path, *args: str) -> tuple[int, str, str]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, list(args))
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout, result.stderr


def test_text_output_and_summary(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": BAD_LIST, "content/b.md": "# no front matter\n"}, {})
    code, out, _ = invoke(tmp_path, "check", "--no-color")
    assert code == 1
    assert out.splitlines() == [
        "content/a.md:7:1: warning list-numbering [*] item numbered 2 in a list numbered 1. "
        "on every item (did you mean '1.'?)",
        "content/b.md:1:1: error front-matter-missing page has no front matter (expected '---' "
        "on line 1)",
        "2 files checked: 1 error, 1 warning",
        "[*] 1 fixable with --fix",
    ]


def test_json_contract(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": BAD_LIST}, {})
    code, out, _ = invoke(tmp_path, "check", "--format", "json")
    payload = json.loads(out)
    assert code == 0  # a warning does not fail with the default --fail-on error
    assert payload == {
        "tool": "handbook-lint",
        "version": __version__,
        "findings": [
            {
                "path": "content/a.md",
                "line": 7,
                "column": 1,
                "rule": "list-numbering",
                "severity": "warning",
                "message": "item numbered 2 in a list numbered 1. on every item",
                "suggestion": "1.",
                "fix": {
                    "safe": True,
                    "edits": [
                        {"line": 7, "column": 0, "old": "2.", "new": "1.", "whole_line": False}
                    ],
                },
            }
        ],
        "summary": {"files": 1, "errors": 0, "warnings": 1, "infos": 0},
    }


def test_fail_on_select_ignore_and_severity_config(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": BAD_LIST, "content/b.md": "no front matter\n"}, {})
    assert invoke(tmp_path, "check", "--fail-on", "warning", "--select", "list-numbering")[0] == 1
    assert invoke(tmp_path, "check", "--fail-on", "never")[0] == 0
    code, out, _ = invoke(tmp_path, "check", "--ignore", "front-matter-missing,list-numbering")
    assert code == 0 and out.strip() == "2 files checked: no problems"
    write_site(tmp_path, {}, {"rules": {"list-numbering": "error", "front-matter-missing": "off"}})
    code, out, _ = invoke(tmp_path, "check", "-q")
    assert code == 1
    assert out.splitlines() == [
        "content/a.md:7:1: error list-numbering [*] item numbered 2 in a list numbered 1. on "
        "every item (did you mean '1.'?)"
    ]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("extends: gitlab-handbook\ncontent_dri: content\n", "unknown key 'content_dri'"),
        ("static_dirs: static\n", "'static_dirs' must be a list of strings"),
        ("rules:\n  list-numbring: off\n", "unknown rule 'list-numbring'"),
        ("rules:\n  list-numbering: {style: two}\n", "rules.list-numbering.style: must be one of"),
        ("rules:\n  list-numbering: {sytle: one}\n", "unknown option 'sytle'"),
        ("extends: gitlab-hand\n", "unknown preset 'gitlab-hand'"),
        ("hugo:\n  heading_ids: gitlab\n", "'hugo.heading_ids' must be one of"),
        ("rules: [a, b\n", "invalid YAML"),
        (
            "rules:\n  front-matter-type: {types: {title: text}}\n",
            "front-matter-type.types.title: unknown type 'text'",
        ),
    ],
)
def test_config_errors_name_the_key_and_exit_2(tmp_path: Path, config: str, expected: str) -> None:
    write_site(tmp_path, {"content/a.md": BAD_LIST})
    (tmp_path / ".handbook-lint.yaml").write_text(config, encoding="utf-8")
    code, out, err = invoke(tmp_path, "check")
    assert code == 2
    assert expected in err
    assert ".handbook-lint.yaml" in err
    assert out == ""


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("rules:\n  list-numbering: {style: two}\n", ":2: rules.list-numbering.style: must be"),
        ("extends: hugo-docs\nrules:\n  spelling:\n    words: 5\n", ":4: rules.spelling.words:"),
        ("rules:\n  list-indent:\n    severity: loud\n", ":3: rules.list-indent.severity:"),
        ("rules:\n  spelling:\n    wordz: [a]\n", ":3: rules.spelling: unknown option 'wordz'"),
        ("rules:\n  spelling: loud\n", ":2: rules.spelling: 'loud' is not one of"),
        ("rules:\n  spelling: 5\n", ":2: rules.spelling: expected off, a severity"),
        ("rules:\n  spelling:\n    enabled: [x]\n", ":3: rules.spelling.enabled: must be true"),
        ("# rules\nrules:\n  list-numbring: off\n", ":3: unknown rule 'list-numbring'"),
        ("rules:\n  spelling:\n    words: [ok, 1]\n", ":3: rules.spelling.words: must be a list"),
        # (a rule's setting that a shorthand wrote: the rule's line)
        ("rules:\n  front-matter-type: {types: {title: text}}\n", ":2: rules.front-matter-type"),
        ("rules:\n  front-matter-type:\n    types:\n      title: text\n", ":4: rules.front-"),
        # (a key written twice: YAML keeps the last, and so does the line)
        ("rules:\n  spelling: {words: [a]}\n  list-indent: info\n  spelling: {words: 5}\n", ":4:"),
        # (with an override, the rules' own mistake is still theirs, at its line)
        (
            "rules:\n  list-indent:\n    severity: loud\n"
            "overrides:\n  - files: [a/]\n    rules:\n      spelling: off\n",
            ":3: rules.list-indent.severity:",
        ),
    ],
)
def test_a_rule_setting_that_is_wrong_is_named_with_its_line(
    tmp_path: Path, config: str, expected: str
) -> None:
    write_site(tmp_path, {"content/a.md": BAD_LIST})
    (tmp_path / ".handbook-lint.yaml").write_text(config, encoding="utf-8")
    code, out, err = invoke(tmp_path, "check")
    assert (code, out) == (2, "")
    assert f".handbook-lint.yaml{expected}" in err, err


def test_unknown_rule_on_the_command_line(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": BAD_LIST}, {})
    code, _, err = invoke(tmp_path, "check", "--select", "no-such-rule")
    assert code == 2 and "unknown rule 'no-such-rule'" in err


def test_config_is_found_upward_and_paths_are_relative_to_the_working_dir(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/deep/a.md": BAD_LIST}, {})
    _, out, _ = invoke(tmp_path / "content" / "deep", "check", "a.md", "--format", "json")
    assert [f["path"] for f in json.loads(out)["findings"]] == ["a.md"]
    _, out, _ = invoke(tmp_path, "check", "content/deep/a.md", "--format", "json")
    assert [f["path"] for f in json.loads(out)["findings"]] == ["content/deep/a.md"]


def test_rules_and_explain() -> None:
    code, out, _ = invoke(ROOT, "rules")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert "list-numbering" in names and "required-sections" in names
    code, out, _ = invoke(ROOT, "explain", "list-restart")
    assert code == 0 and out.startswith("# list-restart") and "Use instead" in out
    assert invoke(ROOT, "explain", "nope")[0] == 2


def test_rule_reference_in_docs_is_generated_from_metadata() -> None:
    assert (ROOT / "docs" / "rules.md").read_text("utf-8") == reference(), (
        "docs/rules.md is stale: run python -m handbook_lint.checks.reference > docs/rules.md"
    )


def test_every_rule_has_a_bad_and_a_good_example() -> None:
    from handbook_lint.checks.registry import all_rules

    for rule in all_rules().values():
        assert rule.name == rule.name.lower() and " " not in rule.name
        assert rule.severity in ("error", "warning", "info")
        assert "Example" in rule.doc, rule.name
        assert "Use instead" in rule.doc, rule.name


def test_example_site_lints_clean_through_the_installed_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "handbook_lint", "check", "--format", "json", "--no-cache"],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        check=False,
    )
    payload = json.loads(proc.stdout)
    assert payload["summary"]["files"] >= 8
    rules = {f["rule"] for f in payload["findings"]}
    assert rules <= {"spelling"}, payload["findings"]


def test_the_readme_says_what_its_first_command_prints() -> None:
    """The "Try it" section shows the example site's output as it is."""
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Try it") : readme.index("## Use")]
    shown = section.split("```text\n", 1)[1].split("```", 1)[0]
    proc = subprocess.run(
        [sys.executable, "-m", "handbook_lint", "check", "--no-cache"],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (0, shown)


def test_version() -> None:
    assert invoke(ROOT, "--version")[1].strip() == f"handbook-lint, version {__version__}"


def test_explain_points_at_the_rules_source_and_cases(tmp_path: Path) -> None:
    code, out, _ = invoke(tmp_path, "explain", "link-broken")
    assert code == 0
    source = next(line for line in out.splitlines() if line.startswith("Source: "))
    path, _, line = source.removeprefix("Source: ").rpartition(":")
    text = (tmp_path / path if not Path(path).is_absolute() else Path(path)).read_text("utf-8")
    assert '"link-broken"' in "".join(text.splitlines(keepends=True)[int(line) - 1 : int(line) + 2])
    assert "Cases: tests/cases/link-broken.yaml" in out


def test_every_ci_job_line_is_a_shell_line() -> None:
    """A job line with `: ` in it unquoted is a YAML mapping, not a command."""
    jobs = yaml.safe_load((ROOT / "docs/ci/gitlab-ci.yml").read_text("utf-8"))
    for name, job in jobs.items():
        if not isinstance(job, dict) or "script" not in job:
            continue
        for part in ("before_script", "script", "after_script"):
            for line in job.get(part, []):
                assert isinstance(line, str), f"{name}.{part}: {line!r}"


def test_the_command_ends_with_all_its_output_written(tmp_path: Path) -> None:
    """The command ends its process without freeing its objects: everything it
    printed or wrote must be out first, through a pipe, in a file and in the
    cache; a reader that stops early (`| head`) gets no error message."""
    links = "".join(f"[gone {i}](/gone-{i}/)\n\n" for i in range(3000))
    write_site(tmp_path, {"content/_index.md": "---\ntitle: Home\n---\n\n" + links}, {})
    command = [sys.executable, "-m", "handbook_lint", "check"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args], cwd=tmp_path, capture_output=True, text=True, check=False
        )

    text = run()
    assert text.returncode == 1 and text.stderr == ""
    assert text.stdout.count("link-broken") == 3000
    assert text.stdout.endswith("1 file checked: 3000 errors, 0 warnings\n"), text.stdout[-99:]
    report = run("--format", "json", "--output", "report.json")
    assert report.returncode == 1
    payload = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert len(payload["findings"]) == 3000
    cached = run("--format", "json")  # the cache the last run wrote, read back
    assert cached.returncode == 1 and len(json.loads(cached.stdout)["findings"]) == 3000
    # Its connection was closed: the write-ahead log is folded in and gone.
    cache = {p.name for p in (tmp_path / ".handbook-lint-cache").iterdir()}
    assert "facts.sqlite" in cache and "facts.sqlite-wal" not in cache, cache
    head = subprocess.run(
        ["sh", "-c", shlex.join(command) + " | head -n 1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert head.stdout.count("\n") == 1 and "link-broken" in head.stdout
    assert head.stderr == "", head.stderr


def test_every_dataclass_has_a_docstring_of_its_own() -> None:
    """Without one, dataclasses builds it at import from inspect.signature, about
    a quarter of a millisecond a class, paid by every run before it starts."""
    import dataclasses
    import importlib
    import pkgutil

    import handbook_lint

    missing = []
    for module in pkgutil.walk_packages(handbook_lint.__path__, "handbook_lint."):
        if module.name.endswith("__main__"):
            continue
        for name, value in vars(importlib.import_module(module.name)).items():
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value.__module__ == module.name
                and "__doc__" in value.__dict__
                and (value.__doc__ or "").startswith(f"{value.__name__}(")
            ):
                missing.append(f"{module.name}.{name}")
    assert missing == []
