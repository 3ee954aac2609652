"""`check --fix` / `--diff` / `--unsafe-fixes`: what a fix must do and never do."""

from __future__ import annotations

import stat
from collections import Counter
from pathlib import Path

import pytest
from conftest import lint, write_site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import invoke

from handbook_lint.checks.registry import Edit, Fix
from handbook_lint.checks.selection import active_rules
from handbook_lint.config.settings import load_config
from handbook_lint.engine.fixer import apply_fixes, fix_files, fix_until_settled, restore
from handbook_lint.engine.linter import Linter
from handbook_lint.site.overlay import Overlay

FIXABLE = (
    "---\n"
    "title: T\n"
    "---\n"
    "\n"
    "See the [GitLab misson](/values/).\n"
    "\n"
    "1. a\n"
    "1. b\n"
    "2. c\n"
    "\n"
    "[unused]: /values/\n"
)
VALUES = "---\ntitle: Values\n---\n\n## Dogfooding\n"
FIXED = "---\ntitle: T\n---\n\nSee the [GitLab mission](/values/).\n\n1. a\n1. b\n1. c\n"


def _site(tmp_path: Path, page: str | bytes = FIXABLE) -> Path:
    return write_site(tmp_path, {"content/page.md": page, "content/values.md": VALUES}, {})


# -- apply_fixes: the edits themselves ---------------------------------------


def test_edits_replace_insert_and_remove_lines() -> None:
    text = "a\n  b\nc\nd\n"
    fixes = [
        Fix((Edit(1, 0, "a", "A"),)),
        Fix((Edit(2, 0, "", " "),)),  # an indent
        Fix((Edit(3, 0, "c", "", whole_line=True),)),  # a line removed
        Fix((Edit(4, 0, "d", "D!", whole_line=True),)),  # a line replaced
    ]
    assert apply_fixes(text, fixes) == ("A\n   b\nD!\n", [True, True, True, True])


def test_an_edit_whose_text_moved_is_not_applied() -> None:
    fixes = [Fix((Edit(1, 2, "misson", "mission"),)), Fix((Edit(2, 0, "x", "y"),))]
    assert apply_fixes("a mission\nx\n", fixes) == ("a mission\ny\n", [False, True])


def test_a_fix_is_all_or_nothing() -> None:
    fix = Fix((Edit(1, 0, "a", "A"), Edit(2, 0, "nope", "N")))
    assert apply_fixes("a\nb\n", [fix]) == ("a\nb\n", [False])


def test_overlapping_fixes_wait_for_the_next_pass_and_shared_edits_count_once() -> None:
    renumber = Fix((Edit(2, 0, "2.", "1."), Edit(3, 0, "3.", "1.")))
    overlap = Fix((Edit(2, 0, "2. b", "2. B"),))
    # Two findings of one list carry the same edits: both are applied, once.
    text, applied = apply_fixes("1. a\n2. b\n3. c\n", [renumber, renumber, overlap])
    assert (text, applied) == ("1. a\n1. b\n1. c\n", [True, True, False])
    # Two indents of the same line are one guess too many: the second waits.
    text, applied = apply_fixes("x\n", [Fix((Edit(1, 0, "", "  "),)), Fix((Edit(1, 0, "", " "),))])
    assert (text, applied) == ("  x\n", [True, False])


def test_crlf_bom_tabs_and_no_final_newline_are_kept_byte_for_byte() -> None:
    text = "\ufeff1. a\r\n\t1. b\r\n2. c\r\n\r\n[x]: /y/\r\n\r\nend\tx"
    fixes = [
        Fix((Edit(3, 0, "2.", "1."),)),
        Fix((Edit(5, 0, "[x]: /y/", "", whole_line=True),)),
        Fix((Edit(1, 0, "1.", "7."),)),  # column 0 is after the BOM
    ]
    fixed, applied = apply_fixes(text, fixes)
    assert applied == [True, True, True]
    assert fixed == "\ufeff7. a\r\n\t1. b\r\n1. c\r\n\r\nend\tx"


def test_indents_leave_blank_lines_blank() -> None:
    fix = Fix(tuple(Edit(line, 0, "", "   ") for line in (1, 2, 3)))
    assert apply_fixes("```\n\nx\n", [fix]) == ("   ```\n\n   x\n", [True])


def test_a_removed_line_does_not_leave_blank_lines_doubled() -> None:
    remove = [Fix((Edit(3, 0, "[a]: /a/", "", whole_line=True),))]
    assert apply_fixes("text\n\n[a]: /a/\n\nmore\n", remove)[0] == "text\n\nmore\n"
    assert apply_fixes("text\n\n[a]: /a/\n", remove)[0] == "text\n"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab \t\r\n\ufeff", max_size=40), st.data())
def test_bytes_outside_the_edits_never_change(text: str, data: st.DataObject) -> None:
    lines = text.split("\n")
    line = data.draw(st.integers(1, len(lines)))
    content = lines[line - 1].removesuffix("\r")  # (a CRLF's CR is not editable)
    column = data.draw(st.integers(0, len(content)))
    old = content[column : column + data.draw(st.integers(0, 3))]
    fixed, applied = apply_fixes(text, [Fix((Edit(line, column, old, "XY"),))])
    if line == 1 and text.startswith("\ufeff"):
        assert fixed.startswith("\ufeff")
        return
    assert applied == [True]
    start = sum(len(x) + 1 for x in lines[: line - 1]) + column
    assert fixed == text[:start] + "XY" + text[start + len(old) :]


# -- fix_files: the files ------------------------------------------------------


def test_fix_keeps_the_mode_and_writes_through_a_rename(tmp_path: Path) -> None:
    root = _site(tmp_path)
    page = root / "content/page.md"
    page.chmod(0o640)
    inode = page.stat().st_ino
    result = lint(root)
    done = fix_files(root, result.findings, {})
    assert page.read_text("utf-8") == FIXED
    assert stat.S_IMODE(page.stat().st_mode) == 0o640
    assert page.stat().st_ino != inode  # a new file renamed over the old one
    assert done.fixed == Counter({"spelling": 1, "list-numbering": 1, "link-reference-unused": 1})
    assert [p.name for p in page.parent.iterdir() if p.name.startswith(".")] == []


def test_a_symlinked_page_is_fixed_in_its_file_and_the_link_stays(tmp_path: Path) -> None:
    root = _site(tmp_path)
    real = tmp_path / "elsewhere.md"
    (root / "content/page.md").rename(real)
    (root / "content/page.md").symlink_to(real)
    fix_files(root, lint(root).findings, {})
    assert (root / "content/page.md").is_symlink()
    assert real.read_text("utf-8") == FIXED


def test_a_read_only_file_is_left_alone_with_a_warning(tmp_path: Path) -> None:
    root = _site(tmp_path)
    page = root / "content/page.md"
    page.chmod(0o444)
    done = fix_files(root, lint(root).findings, {})
    assert page.read_text("utf-8") == FIXABLE
    assert done.warnings == ["content/page.md: not fixed: it is read-only"]
    assert not done.files and not done.fixed


def test_a_file_changed_after_it_was_read_is_not_written(tmp_path: Path) -> None:
    root = _site(tmp_path)
    config = load_config(root / ".handbook-lint.yaml", cwd=root)
    linter = Linter(config, active_rules(config), jobs=1, use_cache=False)
    result = linter.run()
    page = root / "content/page.md"
    edited = FIXABLE.replace("1. a", "1. a (edited meanwhile)")
    page.write_text(edited, "utf-8")  # someone saves while the linter runs
    done = fix_files(root, result.findings, linter.store.hashes)
    assert page.read_text("utf-8") == edited
    assert done.warnings == ["content/page.md: not fixed: it changed while it was being linted"]


def test_passes_settle_fixes_that_wait_for_each_other(tmp_path: Path) -> None:
    # The code block's indent joins the two lists (list-restart), and only then
    # is the joined list's numbering wrong (list-numbering): two passes.
    page = "---\ntitle: T\n---\n\n1. one\n2. two\n\n```sh\nx\n```\n\n1. three\n"
    root = write_site(tmp_path, {"content/page.md": page}, {})
    config = load_config(root / ".handbook-lint.yaml", cwd=root)
    rules = active_rules(config)

    def make(overlay: Overlay | None) -> Linter:
        return Linter(config, rules, jobs=1, use_cache=False, overlay=overlay)

    for write in (False, True):
        result, done = fix_until_settled(make(None), make, None, unsafe=False, write=write)
        # (the numbering finding the first pass made and the second fixed is not counted)
        assert done.fixed == Counter({"list-restart": 1})
        after = "---\ntitle: T\n---\n\n1. one\n2. two\n\n   ```sh\n   x\n   ```\n\n3. three\n"
        assert done.files == {"content/page.md": (page, after)}
        assert result.findings == [] and done.left == 0
        on_disk = (root / "content/page.md").read_text("utf-8")
        assert on_disk == (after if write else page)


# -- the command line ------------------------------------------------------------


def test_diff_shows_and_writes_nothing_fix_writes_and_a_second_fix_changes_nothing(
    tmp_path: Path,
) -> None:
    root = _site(tmp_path)
    page = root / "content/page.md"
    code, out, err = invoke(root, "check", "--diff")
    assert code == 1
    assert out.startswith("--- a/content/page.md\n+++ b/content/page.md\n")
    assert "-See the [GitLab misson](/values/).\n+See the [GitLab mission](/values/).\n" in out
    assert "--diff: would fix 3 findings in 1 file" in err
    assert page.read_text("utf-8") == FIXABLE

    code, out, err = invoke(root, "check", "--fix")
    assert code == 0, out
    assert page.read_text("utf-8") == FIXED
    assert (
        "fixed 3 findings in 1 file (link-reference-unused 1, list-numbering 1, spelling 1)" in err
    )
    assert out.strip() == "2 files checked: no problems"

    assert invoke(root, "check", "--fix")[2].strip() == "handbook-lint: nothing to fix"
    assert invoke(root, "check", "--diff")[:2] == (0, "")


def test_unsafe_fixes_only_when_asked(tmp_path: Path) -> None:
    page = "---\ntitle: T\n---\n\nSee [dogfooding](/values/#dogfoodng).\n"
    root = write_site(tmp_path, {"content/page.md": page, "content/values.md": VALUES}, {})
    code, out, _ = invoke(root, "check", "--no-color")
    assert "1 fixable with --fix --unsafe-fixes" in out
    assert "[*]" not in out
    assert invoke(root, "check", "--fix")[0] == 1
    assert (root / "content/page.md").read_text("utf-8") == page
    code, _, err = invoke(root, "check", "--fix", "--unsafe-fixes")
    assert code == 0, err
    assert "#dogfooding)" in (root / "content/page.md").read_text("utf-8")


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        (["--unsafe-fixes"], "--unsafe-fixes goes with --fix or --diff"),
        (["--fix", "--diff"], "give one"),
        (["--fix", "--staged"], "name them"),
        (["--diff", "--diff-base", "main"], "name them"),
        (["--fix", "--write-baseline", "b.json"], "fix first"),
    ],
)
def test_fix_options_that_do_not_go_together(tmp_path: Path, args: list[str], msg: str) -> None:
    root = _site(tmp_path)
    code, _, err = invoke(root, "check", *args)
    assert code == 2 and msg in err
    assert (root / "content/page.md").read_text("utf-8") == FIXABLE


def test_fix_fixes_only_the_named_files(tmp_path: Path) -> None:
    root = write_site(
        tmp_path, {"content/a.md": FIXABLE, "content/b.md": FIXABLE, "content/values.md": VALUES}
    )
    code, _, _ = invoke(root, "check", "--fix", "content/a.md")
    assert code == 0
    assert (root / "content/a.md").read_text("utf-8") == FIXED
    assert (root / "content/b.md").read_text("utf-8") == FIXABLE


# -- any page: fixing settles and never adds a finding -------------------------

_PIECES = [
    "1. one\n",
    "1. two\n",
    "2. three\n",
    "3. four\n",
    "10. ten\n",
    "  - nested\n",
    "   - nested well\n",
    "- bullet\n",
    "\n",
    "```sh\ncode\n```\n",
    "> quote\n",
    "| a | b |\n| - | - |\n| 1 | 2 |\n",
    "<details>\n",
    "</details>\n",
    "Some text with [a misson](/values/) link.\n",
    "## A Recieve heading\n",
    "[dangling]: /values/\n",
    "[used]: /values/\n",
    "Uses [used].\n",
    "See [x](/values/#dogfoodng).\n",
    "    indented code\n",
    "\t1. tabbed\n",
    "1) paren\n",
]


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.sampled_from(_PIECES), max_size=14), st.booleans(), st.booleans())
def test_fixing_settles_and_never_adds_a_finding(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str], unsafe: bool, crlf: bool
) -> None:
    body = "".join(pieces)
    page = "---\ntitle: T\n---\n\n" + body
    if crlf:
        page = page.replace("\n", "\r\n")
    root = write_site(
        tmp_path_factory.mktemp("fix"),
        {"content/page.md": page.encode("utf-8"), "content/values.md": VALUES},
        {},
    )
    config = load_config(root / ".handbook-lint.yaml", cwd=root)
    rules = active_rules(config)

    def make(overlay: Overlay | None) -> Linter:
        return Linter(config, rules, jobs=1, use_cache=False, overlay=overlay)

    before = make(None).run().findings
    result, done = fix_until_settled(make(None), make, None, unsafe=unsafe, write=True)

    def per_rule(findings: list) -> Counter[str]:  # type: ignore[type-arg]
        return Counter(f.rule for f in findings)

    # (counts, not messages: a message may name a column the fix moved)
    assert not per_rule(result.findings) - per_rule(before), "the fix added a finding"
    # A fixable finding is left only when its fix alone would add a finding, or
    # the passes ran out (a warning says so), or the fix's guard refuses it on
    # the final text (its text is not where the rule found it).
    text = (root / "content/page.md").read_text("utf-8")
    for f in result.findings:
        if f.fix is not None and (f.fix.safe or unsafe):
            warned = any("would add" in w or "stopped" in w for w in done.warnings)
            assert warned or apply_fixes(text, [f.fix])[1] == [False], f
    fixed = (root / "content/page.md").read_bytes()
    # Settled: another pass has nothing to do, and line endings stayed as they were.
    _, more = fix_until_settled(make(None), make, None, unsafe=unsafe, write=True)
    if not any("stopped after" in w for w in done.warnings):  # (it says: run --fix again)
        assert not more.files and (root / "content/page.md").read_bytes() == fixed
    if crlf:
        assert b"\n" not in fixed.replace(b"\r\n", b"")


def test_no_fix_is_written_without_asking(tmp_path: Path) -> None:
    root = _site(tmp_path)
    before = {p: p.read_bytes() for p in root.rglob("*.md")}
    for fmt in ("text", "json", "sarif", "codequality"):
        invoke(root, "check", "--format", fmt)
    assert {p: p.read_bytes() for p in root.rglob("*.md")} == before


def test_a_fix_that_would_add_a_finding_is_put_back_and_named(tmp_path: Path) -> None:
    # Nesting the sub-list joins the `1)` list and the `1.` list below it, which
    # then differ in delimiter: the list-indent fix would add a finding.
    page = "---\ntitle: T\n---\n\n1) paren\n  - nested\n1. one\n\n1. a\n2. b\n1. c\n"
    root = write_site(tmp_path, {"content/page.md": page}, {})
    code, _, err = invoke(root, "check", "--fix")
    assert code == 0
    fixed = page.replace("2. b\n1. c", "1. b\n1. c")
    assert (root / "content/page.md").read_text("utf-8") == fixed  # the other fix is kept
    assert "content/page.md:6: list-indent not fixed: the fix would add list-numbering" in err
    assert "fixed 1 finding in 1 file (list-numbering 1)" in err


# -- guards the review asked for --------------------------------------------------


def test_an_edit_never_lands_in_a_code_span_or_inside_a_word() -> None:
    line = "Set `adress` and ``a `adress` b`` and adress.\n"
    in_code = Fix((Edit(1, 5, "adress", "address", word=True),))
    in_double = Fix((Edit(1, 22, "adress", "address", word=True),))
    assert apply_fixes(line, [in_code, in_double]) == (line, [False, False])
    inside = Fix((Edit(1, 1, "dress", "x", word=True),))
    assert apply_fixes("adress\n", [inside]) == ("adress\n", [False])
    real = Fix((Edit(1, 38, "adress", "address", word=True),))
    assert apply_fixes(line, [real])[0] == line.replace("and adress.", "and address.")


def test_a_destination_edit_needs_its_link_before_it() -> None:
    fix = Fix((Edit(1, 5, "/old/", "/new/", after="](|](<"),))
    assert (
        apply_fixes("[a](/old/)\n", [Fix((Edit(1, 4, "/old/", "/new/", after="](|](<"),))])[0]
        == "[a](/new/)\n"
    )
    assert apply_fixes("[a](</old/>)\n", [fix])[0] == "[a](</new/>)\n"
    assert apply_fixes("see /old/ here\n", [Fix((Edit(1, 4, "/old/", "/x/", after="]("),))])[1] == [
        False
    ]


def test_removing_the_first_line_keeps_the_bom_and_the_last_line_its_lack_of_break() -> None:
    first = Fix((Edit(1, 0, "[u]: /x", "", whole_line=True),))
    assert apply_fixes("\ufeff[u]: /x\nText.\n", [first])[0] == "\ufeffText.\n"
    last = Fix((Edit(3, 0, "[u]: /x", "", whole_line=True),))
    assert apply_fixes("a\r\nb\r\n[u]: /x", [last]) == ("a\r\nb", [True])


def test_the_diff_marks_a_last_line_without_a_break(tmp_path: Path) -> None:
    page = "---\ntitle: T\n---\n\n1. a\n2. b\n1. c"
    root = write_site(tmp_path, {"content/page.md": page}, {})
    code, out, _ = invoke(root, "check", "--diff")
    assert code == 1
    assert out.endswith(
        "-1. c\n\\ No newline at end of file\n+3. c\n\\ No newline at end of file\n"
    )


def test_a_file_with_lone_cr_breaks_is_not_fixed(tmp_path: Path) -> None:
    page = "---\ntitle: T\n---\n\nText\rmore\n\n1. a\n  - b\n"
    root = write_site(tmp_path, {"content/page.md": page.encode("utf-8")}, {})
    done = fix_files(root, lint(root).findings, {})
    assert done.warnings == ["content/page.md: not fixed: it has line breaks that are a lone CR"]
    assert (root / "content/page.md").read_bytes() == page.encode("utf-8")


def test_a_put_back_never_overwrites_an_edit_made_meanwhile(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("the fixer wrote this\n", "utf-8")
    assert restore(page, "before\n", "the fixer wrote this\n") is None
    assert page.read_text("utf-8") == "before\n"
    page.write_text("an editor saved this\n", "utf-8")
    assert restore(page, "before\n", "the fixer wrote this\n") == (
        "changed while it was being fixed: left as it is now"
    )
    assert page.read_text("utf-8") == "an editor saved this\n"
    assert "could not be put back" in str(restore(tmp_path / "gone.md", "x", "y"))


def test_fixes_stay_when_an_old_finding_of_the_same_rule_stays(tmp_path: Path) -> None:
    # "list starts at 5" has no fix and stays; the other fix must not be undone for it.
    page = "---\ntitle: T\n---\n\n1. one\n3. two\n\nText.\n\n5. x\n6. y\n"
    root = write_site(tmp_path, {"content/page.md": page}, {})
    code, _, err = invoke(root, "check", "--fix")
    assert code == 0
    assert "fixed 1 finding in 1 file (list-numbering 1)" in err, err
    assert (root / "content/page.md").read_text("utf-8") == page.replace("3. two", "2. two")


def test_diff_takes_no_report_format(tmp_path: Path) -> None:
    root = _site(tmp_path)
    code, _, err = invoke(root, "check", "--diff", "--format", "json")
    assert code == 2 and "--diff prints a unified diff" in err
