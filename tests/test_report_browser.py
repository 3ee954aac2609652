"""The HTML report in a real headless browser (Debian's chromium, driven by
Playwright): it loads without errors, shows the counts the JSON report has,
filters to exactly the matching rows, links each row to its source line, and
reads in light and dark colour schemes.

`.ci/run` installs chromium and sets HANDBOOK_LINT_REQUIRE_BROWSER=1, so there
a missing browser fails the tests; elsewhere they are skipped without one.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import write_site
from test_cli import invoke
from test_report_pages import SITE

pytestmark = pytest.mark.slow

BLOB = "https://gitlab.example.com/g/handbook/-/blob/main/"


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    binary = _chromium()
    if binary is None:
        if os.environ.get("HANDBOOK_LINT_REQUIRE_BROWSER"):
            pytest.fail("no chromium on PATH: .ci/run installs Debian's chromium")
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("report-site")
    more = {
        f"content/handbook/team/p{i}.md": f"---\ntitle: P{i}\n---\n\n[x](/handbook/nope{i % 7}/)\n"
        for i in range(230)
    }
    config = {"report": {"repo_url": "https://gitlab.example.com/g/handbook", "branch": "main"}}
    write_site(root, {**SITE, **more}, config)
    invoke(root, "check", "--format", "json", "--output", "r.json")
    invoke(root, "check", "--format", "html", "--output", "r.html")
    return root / "r.html", json.loads((root / "r.json").read_text("utf-8"))


def _open(browser: Any, page_path: Path, scheme: str = "light", hash: str = "") -> Any:
    page = browser.new_page(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    page.goto(page_path.as_uri() + hash)
    page.wait_for_selector("#rows tr")
    return page


def _count(page: Any) -> str:
    return str(page.inner_text("#f-count"))


def test_loads_without_errors_and_shows_the_json_counts(browser: Any, report: Any) -> None:
    path, data = report
    page = _open(browser, path)
    total = len(data["findings"])
    assert _count(page) == f"Showing 1–100 of {total:,} matching findings ({total:,} in all)."
    assert page.locator("#rows tr").count() == 100  # a page of rows, not all of them
    summary = data["summary"]
    lead = page.inner_text(".lead")
    assert lead == (
        f"{summary['files']:,} files checked: {summary['errors']:,} errors, "
        f"{summary['warnings']:,} warnings."
    )
    assert total > 200  # three pages
    page.click("#p-next")
    assert page.locator("#rows tr").count() == 100
    assert page.inner_text("#p-where") == f"Page 2 of {(total + 99) // 100}"
    page.click("#p-next")
    assert page.locator("#rows tr").count() == total - 200
    assert page.is_disabled("#p-next") and not page.is_disabled("#p-prev")
    assert page.errors == []
    page.close()


def test_filters_show_exactly_the_matching_rows(browser: Any, report: Any) -> None:
    path, data = report
    page = _open(browser, path)
    findings = data["findings"]

    def shown() -> list[tuple[str, str]]:
        rows = page.locator("#rows tr")
        out = []
        for i in range(rows.count()):
            cells = rows.nth(i).locator("td")
            out.append((cells.nth(0).inner_text(), cells.nth(2).inner_text()))
        return out

    page.select_option("#f-rule", "spelling")
    expected = [f for f in findings if f["rule"] == "spelling"]
    assert [loc for loc, _ in shown()] == [
        f"{f['path']}:{f['line']}:{f['column']}" for f in expected
    ]
    page.select_option("#f-rule", "link-broken")
    page.fill("#f-path", "content/handbook/b")
    expected = [
        f
        for f in findings
        if f["rule"] == "link-broken" and f["path"].startswith("content/handbook/b")
    ]
    assert len(shown()) == len(expected) == 1
    assert _count(page).startswith("Showing 1–1 of 1 matching")
    assert "path=content%2Fhandbook%2Fb" in page.url  # the view is a link
    page.click("#f-clear")
    page.fill("#f-text", "nope3")
    assert len(shown()) == sum(1 for f in findings if "nope3" in f["message"])
    page.fill("#f-text", "no such text anywhere")
    assert _count(page).startswith("No finding matches")
    assert page.errors == []
    page.close()


def test_a_chart_bar_filters_and_a_row_links_to_its_source_line(browser: Any, report: Any) -> None:
    path, data = report
    page = _open(browser, path)
    page.click('svg a.filter[data-rule="list-numbering"]')
    assert page.input_value("#f-rule") == "list-numbering"
    (row,) = [f for f in data["findings"] if f["rule"] == "list-numbering"]
    link = page.locator("#rows tr td.loc a")
    assert link.count() == 1
    assert link.get_attribute("href") == f"{BLOB}{row['path']}#L{row['line']}"
    assert page.evaluate("document.activeElement.id") == "findings"  # focus moved to the list
    page.click('svg a.filter[data-path="content/handbook/team/"] text')
    assert page.input_value("#f-path") == "content/handbook/team/"
    team = [f for f in data["findings"] if f["path"].startswith("content/handbook/team/")]
    tail = f"of {len(team):,} matching findings ({len(data['findings']):,} in all)."
    assert _count(page).endswith(tail)
    assert page.errors == []
    page.close()


def test_the_keyboard_reaches_the_filters_and_both_colour_schemes_read(
    browser: Any, report: Any, tmp_path: Path
) -> None:
    path, _ = report
    colours = {}
    for scheme in ("light", "dark"):
        page = _open(browser, path, scheme)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        page.keyboard.press("Enter")
        focusable = []
        for _ in range(8):
            page.keyboard.press("Tab")
            focusable.append(page.evaluate("document.activeElement.id"))
        assert {"f-rule", "f-severity", "f-path", "f-text"} <= set(focusable)
        colours[scheme] = page.evaluate(
            "[getComputedStyle(document.body).backgroundColor,"
            " getComputedStyle(document.body).color]"
        )
        page.screenshot(path=str(tmp_path / f"report-{scheme}.png"), full_page=True)
        assert page.errors == []
        page.close()
    assert colours["light"] == ["rgb(255, 255, 255)", "rgb(27, 27, 27)"]
    assert colours["dark"] == ["rgb(22, 22, 22)", "rgb(236, 236, 236)"]


def test_sections_ranked_by_one_rule(browser: Any, report: Any) -> None:
    path, data = report
    page = _open(browser, path)
    assert page.locator("svg.sections:visible").get_attribute("data-rule") == ""
    page.select_option("#s-rule", "link-broken")
    chart = page.locator("svg.sections:visible")
    assert chart.get_attribute("data-rule") == "link-broken"
    broken = [f["path"] for f in data["findings"] if f["rule"] == "link-broken"]
    top = max(
        {"/".join(p.split("/")[:3]) for p in broken},
        key=lambda s: sum(1 for p in broken if p.startswith(s + "/")),
    )
    labels = chart.locator("a.filter text")
    assert labels.first.text_content() == top
    labels.first.click()  # the folder's broken links, listed
    assert page.input_value("#f-rule") == "link-broken"
    assert page.input_value("#f-path") == f"{top}/"
    expected = sum(1 for p in broken if p.startswith(f"{top}/"))
    assert f"of {expected:,} matching findings" in _count(page)
    assert page.errors == []
    page.close()


def test_in_page_anchors_keep_the_filters(browser: Any, report: Any) -> None:
    path, _ = report
    page = _open(browser, path, hash="#rule=spelling")
    before = _count(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link: #findings
    page.click('a[href="#rule-spelling"] >> nth=0')  # a rule's explanation
    assert page.input_value("#f-rule") == "spelling"
    assert _count(page) == before
    assert page.errors == []
    page.close()
