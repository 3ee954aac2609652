"""Inline suppressions and per-path overrides."""

from __future__ import annotations

from pathlib import Path

from conftest import lint, write_site

HEAD = "---\ntitle: T\n---\n"


def findings(root: Path, select: list[str] | None = None) -> list[tuple[int, str, str]]:
    return [(f.line, f.rule, f.message) for f in lint(root, select=select).findings]


def test_disable_next_line_range_and_file(tmp_path: Path) -> None:
    page = HEAD + (
        "<!-- handbook-lint-disable-next-line link-broken -->\n"  # 4
        "[a](/nope-1/)\n"  # 5 suppressed
        "[b](/nope-2/)\n"  # 6 reported
        "<!-- handbook-lint-disable link-broken -->\n"  # 7
        "[c](/nope-3/)\n"  # 8 suppressed
        "<!-- handbook-lint-enable link-broken -->\n"  # 9
        "[d](/nope-4/)\n"  # 10 reported
        "Text <!-- handbook-lint-disable-next-line --> inline\n"  # 11
        "[e](/nope-5/) and [GitLab misson](/nope-6/)\n"  # 12 all suppressed
    )
    write_site(tmp_path, {"content/a.md": page}, {})
    assert [(line, rule) for line, rule, _ in findings(tmp_path)] == [
        (6, "link-broken"),
        (10, "link-broken"),
    ]


def test_disable_file_for_one_rule(tmp_path: Path) -> None:
    page = HEAD + "<!-- handbook-lint-disable-file spelling -->\n[GitLab misson](/nope/)\n"
    write_site(tmp_path, {"content/a.md": page}, {})
    assert [rule for _, rule, _ in findings(tmp_path)] == ["link-broken"]


def test_unused_and_unknown_suppressions_are_reported(tmp_path: Path) -> None:
    page = HEAD + (
        "<!-- handbook-lint-disable-next-line link-broken -->\n"  # 4 unused
        "[a](/a/)\n"
        "<!-- handbook-lint-disable-next-line link-brokn -->\n"  # 6 unknown rule
        "Text.\n"
    )
    write_site(tmp_path, {"content/a.md": page}, {})
    assert findings(tmp_path) == [
        (
            4,
            "suppression-unused",
            "handbook-lint-disable-next-line (link-broken) suppresses nothing",
        ),
        (6, "suppression-unused", "suppression names unknown rule link-brokn"),
    ]


def test_a_suppression_of_a_rule_that_did_not_run_is_not_unused(tmp_path: Path) -> None:
    page = HEAD + "<!-- handbook-lint-disable-next-line spelling -->\n[GitLab misson](/a/)\n"
    write_site(tmp_path, {"content/a.md": page}, {})
    assert findings(tmp_path, select=["link-broken", "suppression-unused"]) == []


def test_comments_in_code_are_not_directives(tmp_path: Path) -> None:
    page = HEAD + "```html\n<!-- handbook-lint-disable-file -->\n```\n[a](/nope/)\n"
    write_site(tmp_path, {"content/a.md": page}, {})
    assert [rule for _, rule, _ in findings(tmp_path)] == ["link-broken"]


def test_per_path_overrides(tmp_path: Path) -> None:
    bad_list = HEAD + "1. a\n2. b\n1. c\n"
    write_site(
        tmp_path,
        {"content/legacy/a.md": bad_list, "content/new/b.md": bad_list},
        {
            "rules": {"list-numbering": {"severity": "error"}},
            "overrides": [
                {"files": ["content/legacy/**"], "rules": {"list-numbering": "off"}},
                {"files": ["content/new/**"], "rules": {"list-numbering": {"style": "one"}}},
            ],
        },
    )
    result = lint(tmp_path, select=None)
    assert [(f.path, f.line, f.severity, f.message) for f in result.findings] == [
        (
            "content/new/b.md",
            5,
            "error",
            "item numbered 2 in a list numbered 1. on every item (style: one)",
        ),
    ]
