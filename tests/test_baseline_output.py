"""--baseline / --write-baseline and --output."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner
from conftest import write_site

from handbook_lint.cli import main

PAGE = "---\ntitle: T\n---\n\n[a](/nope-a/)\n"


def invoke(root: Path, *args: str) -> tuple[int, str]:
    old = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["check", "--no-color", *args])
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout


def test_baseline_hides_known_findings_even_when_lines_move(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": PAGE}, {})
    code, _ = invoke(tmp_path, "--write-baseline", "baseline.json")
    assert code == 0  # recording the findings is not a failure
    assert len(json.loads((tmp_path / "baseline.json").read_text())["fingerprints"]) == 1
    # Lines move above the old finding, and a new one is added.
    write_site(
        tmp_path,
        {"content/a.md": PAGE.replace("\n\n[a]", "\n\nIntro.\n\nMore.\n\n[a]") + "[b](/nope-b/)\n"},
    )
    code, out = invoke(tmp_path, "--baseline", "baseline.json")
    assert code == 1
    assert out.splitlines() == [
        "content/a.md:10:5: error link-broken link to '/nope-b/': no such page or file",
        "1 file checked: 1 error, 0 warnings (1 was in the baseline, not counted)",
    ]
    write_site(tmp_path, {"content/a.md": PAGE})
    assert invoke(tmp_path, "--baseline", "baseline.json")[0] == 0


def test_a_broken_baseline_file_is_a_usage_error(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": PAGE, "baseline.json": "{not json"}, {})
    assert invoke(tmp_path, "--baseline", "baseline.json")[0] == 2


def test_output_writes_the_report_and_text_goes_to_stdout(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": PAGE}, {})
    code, out = invoke(tmp_path, "--format", "codequality", "--output", "reports/cq.json")
    assert code == 1
    assert out.startswith("content/a.md:5:5: error link-broken")
    report = json.loads((tmp_path / "reports/cq.json").read_text())
    assert [i["check_name"] for i in report] == ["link-broken"]
    assert not list((tmp_path / "reports").glob(".cq.json.*")), "temporary file left behind"
