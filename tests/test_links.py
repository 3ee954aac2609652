"""Internal links and anchors resolved against a whole fixture site."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import FIXTURES, lint, write_site
from test_cli import invoke

from handbook_lint.engine.workers import usable_cpus

SITE = FIXTURES / "links-site"

EXPECTED = [
    (29, "link-broken", "link to '/handbook/valeus/'", "/handbook/values/"),
    (30, "link-anchor-missing", "no anchor #dogfoodng on /handbook/values/", "#dogfooding"),
    (31, "link-anchor-missing", "no anchor #sectons on this page", "#sections"),
    (32, "link-broken", "link to '/images/nope.svg'", None),
    (33, "link-broken", "link to '/snippets/shared/'", None),
    (34, "link-broken", "link to 'handbook/nowhere.md'", None),
    (35, "link-broken", "link to 'values/missing.md'", None),
    (36, "link-reference-undefined", "reference [nowhere] has no definition", None),
    (39, "link-reference-unused", "reference definition [unused] is not used", None),
]


def _findings(paths: list[str] | None = None) -> list[tuple[str, int, str, str, str | None]]:
    result = lint(SITE, paths=paths)
    return [(f.path, f.line, f.rule, f.message, f.suggestion) for f in result.findings]


def test_every_link_kind_resolves_and_only_the_broken_ones_are_reported() -> None:
    got = _findings()
    assert len(got) == len(EXPECTED), got
    for (path, line, rule, message, suggestion), (e_line, e_rule, e_msg, e_sugg) in zip(
        got, EXPECTED, strict=True
    ):
        assert path == "content/handbook/_index.md"
        assert (line, rule, suggestion) == (e_line, e_rule, e_sugg), message
        assert e_msg in message


def test_linting_one_file_still_resolves_against_the_whole_site() -> None:
    only = _findings([str(SITE / "content/handbook/_index.md")])
    assert [(f[1], f[2]) for f in only] == [(e[0], e[1]) for e in EXPECTED]
    assert _findings([str(SITE / "content/handbook/values/_index.md")]) == []


def test_a_heading_renamed_breaks_links_to_it(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "content/a.md": "---\ntitle: A\n---\n\n## Boring solutions\n",
            "content/b.md": "---\ntitle: B\n---\n\nSee [it](/a/#boring-solution) and [x](../a/).\n",
        },
        {},
    )
    result = lint(tmp_path)
    assert [(f.path, f.line, f.column, f.rule, f.suggestion) for f in result.findings] == [
        ("content/b.md", 5, 10, "link-anchor-missing", "#boring-solutions")
    ]


def test_duplicate_headings_and_explicit_ids_are_anchors(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "content/a.md": "---\ntitle: A\n---\n\n## FAQ\n## FAQ\n## Old {#legacy}\n"
            '<a name="raw"></a>\n',
            "content/b.md": "---\ntitle: B\n---\n\n[1](/a/#faq) [2](/a/#faq-1) [3](/a/#legacy) "
            "[4](/a/#raw) [5](/a/#old) [6](/a/#faq-2)\n",
        },
        {},
    )
    result = lint(tmp_path, select=["link-anchor-missing"])
    assert [f.message for f in result.findings] == [
        "no anchor #old on /a/",
        "no anchor #faq-2 on /a/",
    ]


def test_older_hugo_heading_ids_from_source_text(tmp_path: Path) -> None:
    files = {
        "content/a.md": "---\ntitle: A\n---\n\n## Example [link](https://example.com/) here\n",
        "content/b.md": "---\ntitle: B\n---\n\n[x](/a/#example-linkhttpsexamplecom-here)\n",
    }
    write_site(tmp_path, files, {"hugo": {"heading_text": "source"}})
    assert lint(tmp_path, select=["link-anchor-missing"]).findings == []
    write_site(tmp_path, {}, {"hugo": {"heading_text": "plain"}})
    assert len(lint(tmp_path, select=["link-anchor-missing"]).findings) == 1


def test_example_page_reports_the_misson_typo() -> None:
    root = Path(__file__).parent.parent / "examples"
    result = lint(root)
    assert [(f.path.rsplit("/", 1)[-1], f.line, f.rule, f.suggestion) for f in result.findings] == [
        ("staff.md", 48, "spelling", "mission")
    ]


def test_stats_summarise_missing_targets() -> None:
    _, out, _ = invoke(SITE, "check", "--stats", "--no-color", "--no-cache")
    tail = out.split("files checked", 1)[1].splitlines()
    assert "Most-linked missing targets (top 7 of 7):" in tail
    assert "  1 link  from 1 page   /handbook/valeus/" in tail
    assert "Findings per rule:" in tail
    assert "  link-broken               5" in tail
    assert f"Jobs: {usable_cpus()} (the CPUs this run may use)" in tail
    _, out, _ = invoke(SITE, "check", "--stats", "--no-color", "--no-cache", "-j", "3")
    assert "Jobs: 3 (--jobs)" in out.splitlines()


def test_json_has_no_internal_fields() -> None:
    _, out, _ = invoke(SITE, "check", "--format", "json", "--no-cache")
    finding = json.loads(out)["findings"][0]
    assert set(finding) == {
        "path",
        "line",
        "column",
        "rule",
        "severity",
        "message",
        "suggestion",
        "fix",
    }
