"""The HTML report of a corpus in a real browser: its size, how long it takes to
open, how long a filter takes, and screenshots to look at.

    python bench/report_pages.py                        # the handbook corpus
    python bench/report_pages.py --corpus hugo-docs --runs 7 --out /tmp/shots

Lints a fresh copy of the corpus (with its preset, and a `repo_url` so rows
link to their source), writes `--format html`, then opens it in Debian's
chromium (through Playwright) `--runs` times: the time to a first page of
rows, and the time a text filter takes over all findings. Also a synthetic
report of 10,000 findings, the size the issue asks to stay fast at. Prints
medians with min and max, and writes light and dark screenshots (the top, the
charts, the missing targets, a filtered table) to `--out`.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import CORPORA, unpack  # noqa: E402
from handbook_lint.checks.registry import Finding  # noqa: E402
from handbook_lint.report import Report, writer  # noqa: E402

LINT = [sys.executable, "-m", "handbook_lint", "check"]
REPO = {"gitlab-handbook-ja": "https://gitlab.com/gitlab-com/content-sites/handbook"}


def timings(browser: Any, page_path: Path, runs: int, text: str) -> dict[str, list[float]]:
    opened, filtered = [], []
    for _ in range(runs):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []

        def seen(error: Any, errors: list[str] = errors) -> None:
            errors.append(str(error))

        page.on("pageerror", seen)
        start = time.perf_counter()
        page.goto(page_path.as_uri())
        page.wait_for_selector("#rows tr")
        opened.append(time.perf_counter() - start)
        took = page.evaluate(
            """(text) => { const box = document.getElementById('f-text');
                 const t = performance.now(); box.value = text;
                 box.dispatchEvent(new Event('input'));
                 return performance.now() - t; }""",
            text,
        )
        filtered.append(float(took) / 1000)
        assert not errors, errors
        page.close()
    return {"open": opened, "filter": filtered}


def show(label: str, values: list[float]) -> str:
    return (
        f"{label} median {statistics.median(values):.3f} s "
        f"(min {min(values):.3f}, max {max(values):.3f}, {len(values)} runs)"
    )


def synthetic(path: Path, count: int) -> None:
    findings = [
        Finding(
            f"content/section-{i % 23}/page-{i // 23}.md",
            i % 300 + 1,
            1,
            ("link-broken", "link-anchor-missing", "spelling", "list-numbering")[i % 4],
            "error" if i % 4 < 2 else "warning",
            f"link to '/missing/{i % 997}/': no such page or file",
            target=f"/missing/{i % 997}/" if i % 4 == 0 else None,
        )
        for i in range(count)
    ]
    out = io.StringIO()
    writer("html")(Report(findings, count // 2, "bench", site="synthetic"), out)
    path.write_text(out.getvalue(), "utf-8")


def screenshots(browser: Any, page_path: Path, out: Path, name: str) -> list[Path]:
    written = []
    for scheme in ("light", "dark"):
        page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
        page.goto(page_path.as_uri())
        page.wait_for_selector("#rows tr")
        for part, selector in (
            ("top", None),
            ("sections", "#sections-h"),
            ("targets", "#targets-h"),
            ("table", "#findings"),
        ):
            if selector:
                page.evaluate(f"document.querySelector('{selector}').scrollIntoView()")
            if part == "sections":
                page.select_option("#s-rule", "link-broken")  # the folders by broken links
            if part == "targets":
                page.locator("ol.targets details").first.locator("summary").click()
            if part == "table":
                page.select_option("#f-rule", "link-broken")
            shot = out / f"{name}-{scheme}-{part}.png"
            page.screenshot(path=str(shot))
            written.append(shot)
        page.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="gitlab-handbook-ja")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "report-shots")
    args = parser.parse_args()
    binary = shutil.which("chromium")
    if binary is None:
        print("no chromium on PATH: apt-get install chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="report-pages-") as tmp:
        root = unpack(args.corpus, Path(tmp))
        if args.corpus in REPO:
            config = root / ".handbook-lint.yaml"
            config.write_text(
                config.read_text("utf-8")
                + f"report:\n  repo_url: {REPO[args.corpus]}\n  branch: main\n",
                "utf-8",
            )
        report = root / "report.html"
        start = time.perf_counter()
        subprocess.run(
            [*LINT, "--format", "html", "--output", str(report)],
            cwd=root,
            capture_output=True,
            check=False,
        )
        print(f"{args.corpus}: linted and wrote the report in {time.perf_counter() - start:.1f} s")
        print(f"  report size {report.stat().st_size / 1e6:.2f} MB")
        big = Path(tmp) / "synthetic.html"
        synthetic(big, 10_000)
        print(f"  synthetic 10,000 findings: {big.stat().st_size / 1e6:.2f} MB")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=binary, args=["--no-sandbox"])
            for label, path in ((args.corpus, report), ("synthetic 10,000", big)):
                found = timings(browser, path, args.runs, "missing")
                print(f"  {label}: {show('open to first rows', found['open'])}")
                print(f"  {label}: {show('text filter', found['filter'])}")
            for shot in screenshots(browser, report, args.out, args.corpus):
                print(f"  screenshot {shot}")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
