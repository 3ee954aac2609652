"""Per-rule cases as data: tests/cases/<rule>.yaml.

Each case has a `page` (the whole file, front matter included; `!!binary` for
bytes) written to content/page.md, optional other `files`, optional rule
`options` and `config`, other rules to run beside it (`select`), verdicts for
external links (`external`: URL -> {status, code, detail, new_url}), and the
`findings` it must give: a list of `LINE: message substring` (or
`LINE:COL: ...`; `PATH:LINE: ...` for a finding in another file than the
page), empty when the page is clean. Every rule has a case file.

A rule of the whole site lints the whole site (`path: "."`). A rule of a change
gives `before` (the files of the first commit, in a fresh git repository) and
`delete` (paths removed from it); the page and `files` are then written, all
staged, and `check --staged` runs. A file given as `{size: N}` is N bytes
(sparse: a big image or video costs nothing to write). `crash: RULE` (or
`crash: parse`) makes that rule (or the Markdown parse) raise, for
`internal-error`.

A case of a fixable rule may give `fix`: the page after `check --fix` applied
the rule's fixes (with `unsafe: true`, also the unsafe ones), as sqlfluff's
`fix_str`; every rule that declares a fix has one such case. The fixed page
is linted again: none of the rule's fixable findings may be left.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import lint, write_site
from gitrepo import git

from handbook_lint.cache import store
from handbook_lint.checks.registry import RULES, Finding, all_rules
from handbook_lint.cli import main
from handbook_lint.engine.fixer import fix_files, wanted
from handbook_lint.external.results import ExternalResult

CASES_DIR = Path(__file__).parent / "cases"


def _cases() -> list[Any]:
    out = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        rule = data["rule"]
        for case in data["cases"]:
            out.append(pytest.param(rule, case, id=f"{rule}: {case['name']}"))
    return out


def _expected(entry: str) -> tuple[str | None, int, int | None, str]:
    head, _, message = entry.partition(": ")
    parts = head.split(":")
    path = None if parts[0].isdigit() else parts.pop(0)
    return path, int(parts[0]), int(parts[1]) if len(parts) > 1 else None, message


def _write(root: Path, files: dict[str, Any], config: dict[str, Any] | None = None) -> None:
    sized = {path: spec["size"] for path, spec in files.items() if isinstance(spec, dict)}
    write_site(root, {p: c for p, c in files.items() if p not in sized}, config)
    for path, size in sized.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        with open(root / path, "wb") as out:
            out.truncate(size)


def _staged(tmp_path: Path, case: dict[str, Any], config: dict[str, Any], rule: str) -> list[Any]:
    """The findings of `check --staged` after the case's change (see the module doc)."""
    _write(tmp_path, case["before"], config)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "before")
    for path in case.get("delete", []):
        (tmp_path / path).unlink()
    files: dict[str, str | bytes] = {"content/page.md": case["page"]}
    files.update(case.get("files", {}))
    _write(tmp_path, files)
    git(tmp_path, "add", "-A")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        select = ",".join([rule, *case.get("select", [])])
        args = ["check", "--staged", "--no-cache", "--format", "json", "--select", select]
        result = CliRunner().invoke(main, args)
    finally:
        os.chdir(old)
    assert result.exit_code in (0, 1), result.output
    return [
        Finding(f["path"], f["line"], f["column"], f["rule"], f["severity"], f["message"])
        for f in json.loads(result.stdout)["findings"]
    ]


def _crash(monkeypatch: pytest.MonkeyPatch, what: str) -> None:
    """Make `what` (a rule, or `parse`: reading a page's Markdown) raise."""

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    if what == "parse":
        monkeypatch.setattr(store, "parse_page", boom)
    else:
        monkeypatch.setitem(RULES, what, dataclasses.replace(all_rules()[what], check=boom))


@pytest.mark.parametrize(("rule", "case"), _cases())
def test_rule_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rule: str, case: dict[str, Any]
) -> None:
    if "crash" in case:
        _crash(monkeypatch, case["crash"])
    config: dict[str, Any] = dict(case.get("config", {}))
    if "options" in case:
        config.setdefault("rules", {})[rule] = case["options"]
    files: dict[str, str | bytes] = {"content/page.md": case["page"]}
    files.update(case.get("files", {}))
    if "before" not in case:
        _write(tmp_path, files, config)
    target = case.get("path", "content/page.md")
    verdicts = {
        url: ExternalResult(url, v["status"], v.get("code"), v.get("detail", ""), v.get("new_url"))
        for url, v in case.get("external", {}).items()
    }
    select = [rule, *case.get("select", [])]
    if "before" in case:
        findings = _staged(tmp_path, case, config, rule)
    else:
        result = lint(tmp_path, [str(tmp_path / target)], select, verdicts if verdicts else None)
        findings = result.findings
    got = [(f.path, f.line, f.column, f.message) for f in findings if f.rule == rule]
    expected = [_expected(e) for e in case.get("findings", [])]
    assert len(got) == len(expected), f"findings: {got}"
    for (path, line, column, message), (exp_path, exp_line, exp_col, exp_msg) in zip(
        got, expected, strict=True
    ):
        assert path == (exp_path or target), f"{message!r} in {path}, expected {exp_path}"
        assert line == exp_line, f"{message!r} at line {line}, expected {exp_line}"
        if exp_col is not None:
            assert column == exp_col
        assert exp_msg in message, f"{message!r} does not contain {exp_msg!r}"
    if "suggestions" in case:  # (of the rule's findings)
        assert [f.suggestion for f in findings if f.rule == rule] == case["suggestions"]
    if "before" in case:
        return
    unsafe = bool(case.get("unsafe"))
    mine = [f for f in findings if f.rule == rule]
    page = tmp_path / "content/page.md"
    before = page.read_bytes()
    done = fix_files(tmp_path, mine, {}, unsafe=unsafe)
    if "fix" not in case:
        assert page.read_bytes() == before, "fixed, but the case gives no `fix:`"
        return
    assert page.read_text("utf-8") == case["fix"]
    # `not_applied`: fixes whose guard must refuse them (the line is not as expected)
    not_applied = case.get("not_applied", 0)
    assert sum(done.fixed.values()) == len(wanted(mine, unsafe)) - not_applied
    again = lint(tmp_path, [str(tmp_path / target)], select, verdicts if verdicts else None)
    left = wanted([f for f in again.findings if f.rule == rule], unsafe)
    assert len(left) == not_applied, f"fixable findings left after fixing: {left}"


def test_every_rule_has_a_case_file_with_findings_and_a_clean_case() -> None:
    missing = sorted(set(all_rules()) - {p.stem for p in CASES_DIR.glob("*.yaml")})
    assert not missing, f"rules without tests/cases/<rule>.yaml: {missing}"
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        assert data["rule"] == path.stem, f"{path.name} is for {data['rule']!r}"
        assert data["rule"] in all_rules(), f"{path.name}: no rule {data['rule']!r}"
        findings = [bool(case.get("findings")) for case in data["cases"]]
        assert any(findings), f"{path.name}: no case that gives a finding"
        assert not all(findings), f"{path.name}: no clean case (a page that must pass)"
        if all_rules()[data["rule"]].fix:
            fixed = [case for case in data["cases"] if "fix" in case]
            assert fixed, f"{path.name}: the rule has a fix but no case gives `fix:`"
