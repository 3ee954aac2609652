"""The handbook's own checks in a merge request, end to end: a git repository
with a CODEOWNERS file at its top, media and controlled documents on main (some
already wrong), a branch that moves a page, adds media and edits CODEOWNERS,
and the merge-request job of docs/ci/gitlab-ci.yml run against a real origin.
The job must report what the branch brought, at the place to change, and
nothing that was already on main."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import Handbook, found, git, push_and_branch, run_job

pytestmark = pytest.mark.slow  # real git repositories, the real job script


def _sized(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.truncate(size)


def _codeowners(prefix: str, *more: str) -> str:
    lines = [
        "* @gitlab-com/content-sites",
        "",
        "[Handbook] @gitlab-com/content-sites",
        f"/{prefix}content/handbook/",
        f"/{prefix}static/",
        "",
        "[Controlled-Documents] @gitlab-com/egroup",
        f"/{prefix}content/handbook/values.md",
        *more,
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("site_dir", ["", "site"])
def test_a_merge_request_gets_the_handbook_checks_for_what_it_changed(
    tmp_path: Path, site_dir: str
) -> None:
    handbook = Handbook(tmp_path / "handbook", site_dir)
    prefix = f"{site_dir}/" if site_dir else ""
    (handbook.top / ".gitlab").mkdir()
    (handbook.top / ".gitlab/CODEOWNERS").write_text(_codeowners(prefix), "utf-8")
    values = handbook.site / "content/handbook/values.md"
    values.write_text(
        values.read_text("utf-8").replace(
            "title: Values\n", "title: Values\ncontrolled_document: true\n"
        ),
        "utf-8",
    )
    _sized(handbook.site / "static/images/old-banner.png", 700_000)  # too big already
    git(handbook.top, "add", "-A")
    git(handbook.top, "commit", "-q", "-m", "main, with an old oversized image")
    work = push_and_branch(handbook, tmp_path)
    site = work / site_dir if site_dir else work

    # The branch: a page renamed without an alias (and the link to it fixed), an
    # image beside a page, a new oversized screenshot, the old banner resized
    # (still too big: not new), a page the controlled-documents section does
    # not cover, and CODEOWNERS lines that repeat, match nothing, or lack the
    # required owners.
    git(work, "mv", f"{prefix}content/handbook/tools.md", f"{prefix}content/handbook/tooling.md")
    index = site / "content/handbook/_index.md"
    index.write_text(
        index.read_text("utf-8").replace("/handbook/tools/", "/handbook/tooling/"), "utf-8"
    )
    nav = site / "assets/includes/engineering-nav.md"
    nav.write_text(nav.read_text("utf-8").replace("../tools/", "../tooling/"), "utf-8")
    (site / "content/handbook/diagram.png").write_bytes(b"\x89PNG\r\n")
    _sized(site / "static/images/screenshot.png", 600_000)
    _sized(site / "static/images/old-banner.png", 650_000)
    (site / "content/handbook/policy.md").write_text(
        "---\ntitle: Policy\ncontrolled_document: true\n---\n\nThe policy.\n", "utf-8"
    )
    (work / ".gitlab/CODEOWNERS").write_text(
        _codeowners(
            prefix,
            "",
            "[Handbook]",
            f"/{prefix}content/handbook/ @jdoe",
            f"/{prefix}content/legal/ @legal",
        ),
        "utf-8",
    )
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "feature")

    code, log, report = run_job(work)
    assert code == 1, log
    assert found(report) == [
        (".gitlab/CODEOWNERS", 11, "codeowners-duplicate"),
        (".gitlab/CODEOWNERS", 11, "codeowners-required-owner"),
        (".gitlab/CODEOWNERS", 12, "codeowners-required-owner"),
        (".gitlab/CODEOWNERS", 12, "codeowners-unmatched"),
        (f"{prefix}content/handbook/diagram.png", 1, "media-location"),
        (f"{prefix}content/handbook/policy.md", 3, "controlled-document"),
        (f"{prefix}content/handbook/tooling.md", 1, "page-url-lost"),
        (f"{prefix}static/images/screenshot.png", 1, "media-size"),
    ]
    moved = next(i for i in report if i["check_name"] == "page-url-lost")
    assert "/handbook/tools/" in moved["description"]
    assert "already on origin/main, not counted" in log

    # Give the moved page its old URL and take the new lines out: the old
    # oversized banner alone is left, and it was on main.
    tooling = site / "content/handbook/tooling.md"
    tooling.write_text(
        tooling.read_text("utf-8").replace("---\n", "---\naliases: [/handbook/tools/]\n", 1),
        "utf-8",
    )
    (site / "content/handbook/diagram.png").rename(site / "static/images/diagram.png")
    (site / "static/images/screenshot.png").unlink()
    (site / "content/handbook/policy.md").unlink()
    (work / ".gitlab/CODEOWNERS").write_text(_codeowners(prefix), "utf-8")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "fixed")
    code, log, report = run_job(work)
    assert code == 0, log
    assert report == []
