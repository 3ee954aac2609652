"""The reports people read: the HTML page and the merge-request comment
(Markdown), rendered from real runs and read back."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import write_site
from markdown_it import MarkdownIt
from test_cli import invoke

from handbook_lint.checks.registry import Finding
from handbook_lint.report import Report, RuleInfo, writer
from handbook_lint.report.context import docs_template, source
from handbook_lint.report.html import sections
from handbook_lint.report.model import Source

SOURCE = Source("https://gitlab.example.com/g/handbook/-/blob/main/{path}#L{line}", "/r", "/r")
DOCS = "https://docs.example.org/rules.md#{rule}"

SITE = {
    "content/handbook/values.md": "---\ntitle: Values\n---\n\n## Credit\n",
    "content/handbook/a.md": (
        "---\ntitle: A\n---\n\n[GitLab misson](/handbook/values/)\n\n"
        "[gone](/handbook/gone/) and [x](/handbook/values/#credt)\n"
    ),
    "content/handbook/b.md": "---\ntitle: B\n---\n\n[gone](/handbook/gone/)\n\n1. a\n2. b\n2. c\n",
    "content/blog/c.md": "---\ntitle: C\n---\n\n[gone](/handbook/gone/)\n",
}


def rendered(fmt: str, report: Report) -> str:
    out = io.StringIO()
    writer(fmt)(report, out)
    return out.getvalue()


def finding(path: str, line: int, rule: str, message: str, **kw: Any) -> Finding:
    return Finding(path, line, 1, rule, kw.pop("severity", "error"), message, **kw)


def sample(n: int = 3) -> Report:
    findings = [
        finding(f"content/p{i}.md", i + 1, "link-broken", f"link to '/x{i}/'", target=f"/x{i}/")
        for i in range(n)
    ]
    rules = {"link-broken": RuleInfo("link-broken", "error", "A link", DOCS.format(rule="lb"))}
    return Report(findings, 9, "1.0", rules=rules, source=SOURCE, site="Handbook")


# -- where links point ----------------------------------------------------------


def test_source_links_are_relative_to_the_repository_top() -> None:
    assert SOURCE.link("content/a b.md", 12) == (
        "https://gitlab.example.com/g/handbook/-/blob/main/content/a%20b.md#L12"
    )
    in_site = Source("https://h/x/-/blob/abc/{path}#L{line}", "/r", "/r/site")
    assert in_site.link("content/a.md", 0) == "https://h/x/-/blob/abc/site/content/a.md#L1"
    assert in_site.link("../README.md", 3) == "https://h/x/-/blob/abc/README.md#L3"
    assert Source("https://h/{path}#L{line}", "/r", "/r").link("../outside.md", 1) is None
    # run from above the repository: paths still land inside it
    above = Source("https://h/{path}#L{line}", "/t/repo", "/t")
    assert above.link("repo/site/a.md", 2) == "https://h/site/a.md#L2"


def test_source_from_config_or_ci_and_github_blob_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CI_PROJECT_URL", "GITHUB_REPOSITORY", "CI_COMMIT_SHA", "GITHUB_SHA"):
        monkeypatch.delenv(name, raising=False)
    assert source("", "", tmp_path, tmp_path) is None
    found = source("https://github.com/o/r.git", "main", tmp_path, tmp_path)
    assert found is not None and found.url == "https://github.com/o/r/blob/main/{path}#L{line}"
    assert found.top == str(tmp_path.resolve())  # (not a git checkout: the site's folder)
    monkeypatch.setenv("CI_PROJECT_URL", "https://gitlab.com/g/p")
    monkeypatch.setenv("CI_COMMIT_SHA", "abc123")
    found = source("", "", tmp_path, tmp_path)
    assert found is not None and found.url == "https://gitlab.com/g/p/-/blob/abc123/{path}#L{line}"
    # In CI the commit built wins over a configured branch (an MR's files are on it).
    found = source("https://gitlab.com/g/p", "main", tmp_path, tmp_path)
    assert found is not None and "/-/blob/abc123/" in found.url


def test_docs_links_from_the_config_or_the_installed_copy() -> None:
    assert docs_template("https://d.example/rules.md") == "https://d.example/rules.md#{rule}"
    assert docs_template("https://d.example/r/{rule}.html") == "https://d.example/r/{rule}.html"
    # This checkout is installed from its folder: its own docs/rules.md.
    found = docs_template("")
    rules = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
    assert found == f"{rules.as_uri()}#{{rule}}"


def test_the_installed_copy_is_found_as_importlib_metadata_finds_it() -> None:
    from importlib import metadata

    from handbook_lint.report.context import _direct_url

    expected = metadata.distribution("handbook-lint").read_text("direct_url.json")
    assert _direct_url() == expected


# -- the HTML page ----------------------------------------------------------------


def test_html_report_of_a_run_holds_the_counts_charts_and_every_finding(tmp_path: Path) -> None:
    config = {"report": {"repo_url": "https://gitlab.example.com/g/handbook", "branch": "main"}}
    write_site(tmp_path, SITE, config)
    code, _, _ = invoke(tmp_path, "check", "--format", "json", "--output", "r.json")
    assert code == 1
    data = json.loads((tmp_path / "r.json").read_text("utf-8"))
    invoke(tmp_path, "check", "--format", "html", "--output", "r.html")
    page = (tmp_path / "r.html").read_text("utf-8")
    summary = data["summary"]
    lead = f"{summary['files']} files checked: {summary['errors']} errors, "
    assert lead + f"{summary['warnings']} warnings." in page
    assert '<h2 id="rules-h">Findings by rule</h2>' in page
    assert '<h2 id="sections-h">Findings by section</h2>' in page
    # the most-linked missing target, with the three pages that link to it
    assert "<code>/handbook/gone/</code>: 3 links from 3 pages" in page
    embedded = json.loads(
        re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S).group(1)  # type: ignore[union-attr]
    )
    assert len(embedded["rows"]) == len(data["findings"])
    assert sorted(embedded["files"]) == sorted({f["path"] for f in data["findings"]})
    assert embedded["source"] == "https://gitlab.example.com/g/handbook/-/blob/main/{path}#L{line}"
    assert embedded["repo"] == embedded["files"]  # (the site is the repository's top)
    assert 'href="https://gitlab.example.com/g/handbook/-/blob/main/content/blog/c.md#L5"' in page
    # self-contained: nothing is fetched from anywhere
    for fetch in ("<link", 'src="http', "src='http", "@import", "url(http", "<iframe"):
        assert fetch not in page.lower()


def test_html_escapes_what_pages_say() -> None:
    evil = "</script><script>alert(1)</script><!-- & <b>"
    report = Report(
        [finding("content/<x>.md", 1, "spelling", evil, suggestion=evil, target=evil)], 1, "1"
    )
    page = rendered("html", report)
    assert "<script>alert(1)" not in page
    assert "<b>" not in page
    assert page.count("<script") == 2  # the data and the code, nothing else
    data = re.search(r'id="data">(.*?)</script>', page, re.S)
    assert data is not None
    assert "<" not in data.group(1)
    assert json.loads(data.group(1))["rows"][0][5] == evil


def test_html_of_a_clean_run_says_so() -> None:
    page = rendered("html", Report([], 12, "1"))
    assert "12 files checked: no problems." in page
    assert "Findings by rule" not in page


def test_sections_split_the_folder_that_holds_most_findings() -> None:
    paths = [f"content/handbook/eng/p{i}.md" for i in range(5)]
    paths += ["content/handbook/sales/s.md", "assets/includes/x.md", "content/handbook/top.md"]
    assert sections(paths) == {
        **{p: "content/handbook/eng" for p in paths[:5]},
        "content/handbook/sales/s.md": "content/handbook/sales",
        "assets/includes/x.md": "assets",
        "content/handbook/top.md": "content/handbook",
    }
    assert sections(["a.md", "b/c.md"]) == {"a.md": "(top)", "b/c.md": "b"}


# -- the merge-request comment -----------------------------------------------------


def table_of(markdown: str) -> list[list[str]]:
    """The table of a Markdown text, rendered by markdown-it-py and read back:
    each row's cells as plain text (links as `text <href>`)."""
    md = MarkdownIt("commonmark").enable("table")
    rows: list[list[str]] = []
    cell: list[str] | None = None
    for token in md.parse(markdown):
        if token.type == "tr_open":
            rows.append([])
        elif token.type in ("td_open", "th_open"):
            cell = []
        elif token.type in ("td_close", "th_close") and cell is not None:
            rows[-1].append("".join(cell))
            cell = None
        elif token.type == "inline" and cell is not None:
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    cell.append(child.content)
                elif child.type == "link_open":
                    cell.append(f"<{child.attrs['href']}>")
    return rows


def test_markdown_comment_is_a_table_sorted_by_file_and_cut_at_max_rows() -> None:
    report = sample(5)
    report.max_rows = 3
    report.findings.reverse()
    text = rendered("markdown", report)
    first = text.partition("\n\n")[0]
    assert first == "**handbook-lint**: 5 findings (5 errors, 0 warnings) in 5 files."
    rows = table_of(text)
    assert rows[0] == ["Rule", "Location", "Message", "Suggestion"]
    assert [r[1] for r in rows[1:]] == [
        f"<https://gitlab.example.com/g/handbook/-/blob/main/content/p{i}.md#L{i + 1}>"
        f"content/p{i}.md:{i + 1}"
        for i in range(3)
    ]
    assert rows[1][0] == "<https://docs.example.org/rules.md#lb>link-broken"
    assert rows[1][2] == "link to '/x0/'"
    assert text.rstrip().endswith("and 2 more findings.")


def test_markdown_cells_keep_pipes_code_and_markup_inert() -> None:
    nasty = "a | b `c` *d* <e> [f](g) \\ #h"
    report = Report([finding("content/a|b.md", 2, "spelling", nasty, suggestion="x `|` y")], 1, "1")
    rows = table_of(rendered("markdown", report))
    assert rows[1] == ["spelling", "content/a|b.md:2", nasty, "x `|` y"]


def test_markdown_comment_is_empty_when_nothing_is_new() -> None:
    assert rendered("markdown", Report([], 40, "1", compared_with="origin/main")) == ""


def test_markdown_change_summary_names_the_base() -> None:
    report = sample(2)
    report.compared_with, report.not_counted = "origin/main", 7
    first = rendered("markdown", report).split("\n")[0]
    assert first == (
        "**handbook-lint**: 2 new findings (2 errors, 0 warnings) in 2 files since "
        "`origin/main` (7 already there were not counted)."
    )


def test_markdown_from_the_command_line(tmp_path: Path) -> None:
    write_site(tmp_path, SITE, {})
    code, out, _ = invoke(tmp_path, "check", "--format", "markdown", "--max-rows", "2")
    assert code == 1
    rows = table_of(out)
    assert len(rows) == 3
    assert "and 4 more findings." in out


def test_docs_url_reaches_sarif_code_quality_and_markdown(tmp_path: Path) -> None:
    config = {"report": {"docs_url": "https://docs.example.org/handbook-lint/{rule}.html"}}
    write_site(tmp_path, SITE, config)
    invoke(tmp_path, "check", "--format", "sarif", "--output", "r.sarif")
    rules = json.loads((tmp_path / "r.sarif").read_text("utf-8"))["runs"][0]["tool"]["driver"]
    uris = {r["id"]: r.get("helpUri") for r in rules["rules"]}
    assert uris["link-broken"] == "https://docs.example.org/handbook-lint/link-broken.html"
    invoke(tmp_path, "check", "--format", "codequality", "--output", "cq.json")
    issues = json.loads((tmp_path / "cq.json").read_text("utf-8"))
    assert issues[0]["content"]["body"] == (
        f"[{issues[0]['check_name']}](https://docs.example.org/handbook-lint/"
        f"{issues[0]['check_name']}.html)"
    )
    _, out, _ = invoke(tmp_path, "check", "--format", "markdown")
    assert "[spelling](https://docs.example.org/handbook-lint/spelling.html)" in out


def test_a_local_docs_file_is_never_linked_the_page_explains_the_rules() -> None:
    local = "file:///opt/handbook-lint/docs/rules.md#link-broken"
    report = sample(1)
    doc = "**What it does.** Checks links.\n\n<b>not html</b>"
    report.rules = {"link-broken": RuleInfo("link-broken", "error", "A link", local, doc)}
    for fmt in ("markdown", "codequality", "html"):
        assert "file://" not in rendered(fmt, report), fmt
    page = rendered("html", report)
    assert '<li id="rule-link-broken"><details><summary><code>link-broken</code>: A link' in page
    assert "<strong>What it does.</strong> Checks links." in page
    assert "&lt;b&gt;not html&lt;/b&gt;" in page  # (the docs' own HTML stays text)


def test_markdown_keeps_gitlab_references_and_entities_inert() -> None:
    message = "link to '@all' and #12 and ~~x~~ &nbsp; &amp; !3 ~bug %m $s"
    report = Report([finding("content/a.md", 2, "link-broken", message)], 1, "1")
    text = rendered("markdown", report)
    cells = table_of(text)[1]
    assert cells[2] == message  # read back as written, every word
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    html = md.render(text)
    assert "<s>" not in html and "\xa0" not in html
    for ref in ("@all", "#12", "!3", "~bug", "%m", "$s", "&amp;nbsp;"):
        assert f"<code>{ref}" in html, ref  # (GitLab leaves code alone)


def test_markdown_with_no_rows_is_only_the_summary() -> None:
    report = sample(3)
    report.max_rows = 0
    assert rendered("markdown", report) == (
        "**handbook-lint**: 3 findings (3 errors, 0 warnings) in 3 files "
        "(not listed: `--max-rows 0`).\n"
    )


def test_markdown_says_which_findings_are_new_with_all_in_changed() -> None:
    report = sample(3)
    report.compared_with, report.new, report.old_listed = "origin/main", 2, 1
    assert rendered("markdown", report).startswith(
        "**handbook-lint**: 2 new findings and 1 already there (3 errors, 0 warnings) in 3 files"
        " since `origin/main`."
    )


def test_a_folder_holding_other_sections_is_not_a_filter_link() -> None:
    findings = [finding("content/handbook/top.md", 1, "link-broken", "x")]
    findings += [finding(f"content/handbook/eng/p{i}.md", 1, "link-broken", "x") for i in range(5)]
    findings += [finding("content/handbook/sales/s.md", 1, "link-broken", "x")]
    page = rendered("html", Report(findings, 7, "1"))
    assert 'data-path="content/handbook/eng/"' in page
    assert 'data-path="content/handbook/"' not in page  # (it would list eng/ and sales/ too)
