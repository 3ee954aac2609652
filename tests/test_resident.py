"""The kept site (engine/resident.py): a run made from it finds what a run of its
own finds, whatever changed since it was loaded, and reads only what changed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import write_site

from handbook_lint import cli, walk
from handbook_lint.cache import codec
from handbook_lint.cache import store as store_module
from handbook_lint.cache.sqlite import close_all
from handbook_lint.checks.selection import active_rules
from handbook_lint.config.settings import load_config
from handbook_lint.engine.linter import Linter
from handbook_lint.engine.resident import Resident
from handbook_lint.site import kept as kept_module
from handbook_lint.site import model
from handbook_lint.site.kept import KeptSite

PAGES = {
    "content/_index.md": "---\ntitle: Home\n---\n\nSee [a](/a/), [b](/b/#two) and [c](/c/).\n",
    "content/a.md": '---\ntitle: A\n---\n\n## One\n\n{{% include "part.md" %}}\n',
    "content/b.md": "---\ntitle: B\n---\n\n## Two\n\n1. [A's one](/a/#one)\n1. [gone](/nowhere/)\n",
    "content/c/_index.md": "---\ntitle: C\n---\n\nA [misson](/a/) statement.\n",
    "content/c/d.md": "---\ntitle: D\n---\n\n[B](/b/#missing)\n",
    "includes/part.md": "Part, with [B](/b/#two).\n",
}


def findings(linter: Linter) -> list[tuple[object, ...]]:
    return [(f.path, f.line, f.rule, f.message) for f in linter.run().findings]


def own(root: Path) -> list[tuple[object, ...]]:
    """A run of its own, without the cache (whose results the kept run wrote)."""
    config = load_config(root / ".handbook-lint.yaml")
    return findings(Linter(config, active_rules(config), jobs=1, use_cache=False))


def kept(root: Path) -> Resident:
    config = load_config(root / ".handbook-lint.yaml")
    return Resident.load((root / ".handbook-lint.yaml", root), config, active_rules(config))


def made(resident: Resident, root: Path) -> Linter | None:
    config = load_config(root / ".handbook-lint.yaml")
    return resident.linter(config, active_rules(config), None, None, 1, False, print, None, None)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(walk, "RACY_SECONDS", -3600.0)  # (files just written count as settled)
    config = {"extends": "gitlab-handbook", "includes": {"roots": ["includes"]}}
    return write_site(tmp_path, PAGES, config)


def _edit(root: Path, path: str, text: str) -> None:
    (root / path).write_text((root / path).read_text("utf-8") + text, "utf-8")


def _static(root: Path) -> None:
    """A static folder, missing when the site was loaded, and a link into it."""
    (root / "static").mkdir()
    (root / "static/logo.png").write_bytes(b"png")
    _edit(root, "content/c/d.md", "\n[logo](/logo.png)\n")


CHANGES: dict[str, Callable[[Path], object]] = {
    "nothing": lambda root: None,
    "a page edited": lambda root: _edit(root, "content/c/d.md", "\n[bad](/a/#none)\n"),
    "a page that includes a file edited": lambda root: _edit(root, "content/a.md", "\nWords.\n"),
    "an include edited": lambda root: _edit(root, "includes/part.md", "\n[x](/c/e/)\n"),
    "a page added": lambda root: (root / "content/c/e.md").write_text(
        "---\ntitle: E\n---\n\n## Three\n\n[x](/nowhere/)\n", "utf-8"
    ),
    "a linked page deleted": lambda root: (root / "content/a.md").unlink(),
    "a page renamed": lambda root: (root / "content/b.md").rename(root / "content/bb.md"),
    "a heading changed": lambda root: (root / "content/b.md").write_text(
        "---\ntitle: B\n---\n\n## Two and more\n", "utf-8"
    ),
    "a URL changed": lambda root: (root / "content/a.md").write_text(
        "---\ntitle: A\nslug: aa\n---\n\n## One\n", "utf-8"
    ),
    "a static folder made": lambda root: _static(root),
    "a redirect added": lambda root: _redirect(root),
    "a title changed": lambda root: (root / "content/c/d.md").write_text(
        "---\ntitle: Dee\n---\n\n[B](/b/#missing)\n", "utf-8"
    ),
    "an alias added": lambda root: (root / "content/c/d.md").write_text(
        "---\ntitle: D\naliases: [/nowhere/]\n---\n\n[B](/b/#missing)\n", "utf-8"
    ),
    "an include's heading added": lambda root: _heading_included(root),
}
# The changes that leave every page where it was: the runs after them take the
# kept site's pages and index (site/kept.py) instead of finishing their own.
IN_PLACE = {"nothing", "a page edited", "an include edited", "a title changed"}
IN_PLACE |= {"a page that includes a file edited"}


def _heading_included(root: Path) -> None:
    """A heading in the include file, and a link to it on the page that includes it."""
    _edit(root, "includes/part.md", "\n## Three\n")
    _edit(root, "content/c/d.md", "\n[A's three](/a/#three)\n")


def _redirect(root: Path) -> None:
    """A redirects file made after the load, serving a broken link's URL."""
    (root / "layouts").mkdir()
    (root / "layouts/index.redirects").write_text("/nowhere/ /a/ 301\n", "utf-8")


def taken(linter: Linter, resident: Resident) -> bool:
    """Whether the run took the kept site's pages and index (a page no change
    touches is the very page kept)."""
    page = linter.site.pages.get("content/c/_index.md")
    return page is not None and page is resident.loaded.site.pages["content/c/_index.md"]


def one_site(linter: Linter) -> bool:
    """Whether every page the index of the run holds is the run's site's page
    (none is the kept page that a page of the run's view stands in for)."""
    index = linter.index()
    held = [*index.urls.values(), *index.aliases.values(), *index.by_path.values()]
    held += [*index._bases().values(), *(p for p in index._names().values() if p)]
    held += [p for path in (index._including or {}) for p in index.includers(path)]
    return all(linter.site.pages[p.path] is p for p in held)


@pytest.mark.parametrize("change", CHANGES)
def test_a_run_made_from_the_kept_site_finds_what_a_run_of_its_own_finds(
    root: Path, change: str
) -> None:
    resident = kept(root)
    CHANGES[change](root)
    linter = made(resident, root)
    assert linter is not None
    assert findings(linter) == own(root)
    assert taken(linter, resident) == (change in IN_PLACE)
    assert one_site(linter)


def test_only_what_changed_is_read_again_and_unchanged_walks_are_kept(root: Path) -> None:
    resident = kept(root)
    folders = resident.folders
    assert folders is not None
    assert sum(s is not None for s in folders.values()) == 3  # content, content/c, includes
    assert folders[str(root / "static")] is None  # (missing: a folder that may come)
    _edit(root, "content/c/d.md", "\nMore [text](/b/).\n")
    linter = made(resident, root)
    assert linter is not None
    assert set(linter.store.summaries) == set(resident.files) - {"content/c/d.md"}
    linter.load_site()
    assert linter.store.parsed == 1  # (the page edited; the rest as kept)
    assert linter.site._disk is resident.loaded.site._disk  # (no folder changed)
    (root / "content/c/e.md").write_text("---\ntitle: E\n---\n", "utf-8")
    again = made(resident, root)
    assert again is not None
    again.load_site()
    assert again.site._disk is not resident.loaded.site._disk  # (a folder changed: walked)
    assert "content/c/e.md" in again.site.pages


def test_another_config_or_other_rules_leave_the_kept_site_unused(root: Path) -> None:
    resident = kept(root)
    config = load_config(root / ".handbook-lint.yaml")
    rules = active_rules(config)
    assert resident.linter(config, rules, None, None, 1, False, print, None, None) is not None
    fewer = active_rules(config, None, ["spelling"])
    assert resident.linter(config, fewer, None, ["spelling"], 1, False, print, None, None) is None
    (root / ".handbook-lint.yaml").write_text(
        "extends: gitlab-handbook\nincludes: {roots: [includes]}\nrules:\n  spelling: off\n",
        "utf-8",
    )
    assert made(resident, root) is None


def test_a_file_that_had_not_settled_is_not_kept(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(walk, "RACY_SECONDS", 3600.0)  # (everything changed within the hour)
    resident = kept(root)
    assert resident.files == {} and resident.folders is None
    _edit(root, "content/b.md", "\n[new](/nowhere-else/)\n")
    linter = made(resident, root)
    assert linter is not None and findings(linter) == own(root)


def test_a_file_whose_change_time_is_recent_is_not_kept(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settled as the cache has it: both its modification and its change time
    old (a file given an old modification time just now is not)."""
    monkeypatch.setattr(walk, "RACY_SECONDS", 60.0)
    for path in PAGES:
        os.utime(root / path, (1e9, 1e9))  # (2001; the change time stays now)
    resident = kept(root)
    assert resident.files == {}


def test_a_folder_that_could_not_be_read_is_walked_again(root: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any folder")
    hidden = root / "content/c"
    hidden.chmod(0)
    try:
        resident = kept(root)
    finally:
        hidden.chmod(0o755)
    assert resident.folders is None
    linter = made(resident, root)
    assert linter is not None and findings(linter) == own(root)


def test_pages_summarised_from_the_snapshot_read_their_anchors_through_the_run(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Summaries from the cache's snapshot read their anchors and links when
    first asked, through the kept store's cache: each run must reach it (its
    own connection), not parse those pages again (2 s a run on the handbook)."""
    monkeypatch.setattr(store_module, "SNAPSHOT_STALE", 1)  # (a snapshot for 6 pages)
    own(root)
    config = load_config(root / ".handbook-lint.yaml")
    Linter(config, active_rules(config), jobs=1).run()  # (writes the snapshot)
    resident = kept(root)
    assert any(codec.from_snapshot(s) for s in resident.loaded.store.summaries.values() if s)
    close_all()  # (as the holder does once loaded)
    _edit(root, "content/c/d.md", "\nMore [text](/b/#two).\n")
    parse = store_module.parse_file
    parsed = _parses(monkeypatch)
    linter = made(resident, root)
    assert linter is not None
    found = findings(linter)
    assert parsed == ["content/c/d.md"]  # (the edited page, and no other)
    monkeypatch.setattr(store_module, "parse_file", parse)
    assert found == own(root)


def test_a_kept_site_serves_no_run_once_a_date_it_depends_on_has_passed(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page dated ahead renders once that moment has passed: a run after it
    finishes its own site, and the link to that page is no longer one to a
    page Hugo does not build."""
    ahead = [timedelta(0)]  # (how far the clock of the site and the kept site is moved)

    class Clock(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Clock:
            moved = datetime.now(tz) + ahead[0]
            return cls.fromtimestamp(moved.timestamp(), tz)

    monkeypatch.setattr(model, "datetime", Clock)
    monkeypatch.setattr(kept_module, "datetime", Clock)
    soon = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    (root / "content/soon.md").write_text(
        f"---\ntitle: Soon\npublishDate: {soon:%Y-%m-%dT%H:%M:%SZ}\n---\n", "utf-8"
    )
    _edit(root, "content/c/d.md", "\n[soon](/soon/)\n")
    resident = kept(root)
    assert resident.finished is not None and resident.finished.until == soon
    assert any("/soon/" in str(f[3]) for f in own(root))
    _edit(root, "content/b.md", "\nMore words.\n")
    linter = made(resident, root)
    assert linter is not None and findings(linter) == own(root)
    assert taken(linter, resident)  # (before that moment)
    ahead[0] = timedelta(hours=2)
    linter = made(resident, root)
    assert linter is not None
    found = findings(linter)
    assert not taken(linter, resident)
    assert found == own(root)
    assert not any("/soon/" in str(f[3]) for f in found)


def _parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pages parsed in this process, as they are."""
    parsed: list[str] = []
    parse = store_module.parse_file

    def counted(root: Path, path: str, *args: Any) -> Any:
        parsed.append(path)
        return parse(root, path, *args)

    monkeypatch.setattr(store_module, "parse_file", counted)
    return parsed


def _repository(root: Path) -> list[str]:
    """The site made a git repository with one commit; the git command to go on."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "site"]):
        subprocess.run([*git, *step], cwd=root, check=True)
    return git


def _takes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each view of the site took the kept one, as they are made."""
    took: list[bool] = []
    take = KeptSite.take

    def spied(self: KeptSite, *args: Any) -> Any:
        index = take(self, *args)
        took.append(index is not None)
        return index

    monkeypatch.setattr(KeptSite, "take", spied)
    return took


def test_both_sides_of_a_change_that_moves_nothing_take_the_kept_site(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check --staged` of an edit that moves no page: the site now and the site
    before the change both take the kept one, and the new findings are those
    of a run of its own."""
    git = _repository(root)
    resident = kept(root)
    _edit(root, "content/c/d.md", "\nA [new one](/b/#nothing).\n")
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    took = _takes(monkeypatch)
    monkeypatch.chdir(root)
    alone = CliRunner().invoke(cli.main, ["check", "--staged", "--no-cache", "--format", "json"])
    assert took == []  # (a run of its own: nothing kept)
    monkeypatch.setattr(cli, "RESIDENT", resident)
    served = CliRunner().invoke(cli.main, ["check", "--staged", "--format", "json"])
    assert took == [True, True]  # (the site now, the site before the change)
    assert (served.exit_code, served.output) == (alone.exit_code, alone.output)
    assert "nothing" in served.output and served.exit_code == 1


def test_a_run_begun_early_takes_the_edited_page_parsed_meanwhile(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """begin() (a holder's run, before git answers): the edited page is parsed
    on another core, and the run takes that result instead of parsing it."""
    resident = kept(root)
    _edit(root, "content/c/d.md", "\n[bad](/a/#none)\n")
    parse = store_module.parse_file
    parsed = _parses(monkeypatch)
    resident.begin(2)
    assert resident._begun is not None
    config = load_config(root / ".handbook-lint.yaml")
    linter = resident.linter(config, active_rules(config), None, None, 2, False, print, None, None)
    assert linter is not None
    found = findings(linter)
    assert parsed == []  # (in this process: the child parsed it)
    monkeypatch.setattr(store_module, "parse_file", parse)
    assert found == own(root)
    assert any(f[3] == "no anchor #none on /a/" for f in found)


def test_what_begin_found_serves_only_the_next_linter(root: Path) -> None:
    """A run of another config makes no linter from the kept site: what begin()
    found is dropped with it (its child stopped), and the next linter looks
    at the files again."""
    resident = kept(root)
    _edit(root, "content/c/d.md", "\nMore words.\n")
    resident.begin(2)
    config = load_config(root / ".handbook-lint.yaml")
    fewer = active_rules(config, None, ["spelling"])
    begun = resident._begun
    assert begun is not None and begun._pid != 0  # (parsing the edited page)
    assert resident.linter(config, fewer, None, ["spelling"], 2, False, print, None, None) is None
    assert resident._changed is None and resident._begun is None
    assert begun._pid == 0  # (stopped)
    _edit(root, "content/b.md", "\n[new](/nowhere-else/)\n")
    linter = made(resident, root)
    assert linter is not None and findings(linter) == own(root)


def test_a_diff_base_whose_commit_added_a_static_file_keeps_the_site_now_only(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--diff-base`: the site now is the kept one, the site before the commit
    lacks a static file the commit added (and a link to it): that view
    finishes its own site, and the new findings are those of a run of its own."""
    git = _repository(root)
    (root / "content/c/logo.png").write_bytes(b"png")  # (a page resource)
    _edit(root, "content/c/d.md", "\n[logo](/c/logo.png) and [gone](/b/#gone)\n")
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "logo"], cwd=root, check=True)
    resident = kept(root)
    took = _takes(monkeypatch)
    monkeypatch.chdir(root)
    command = ["check", "--diff-base", "HEAD~1", "--format", "json"]
    alone = CliRunner().invoke(cli.main, [*command, "--no-cache"])
    monkeypatch.setattr(cli, "RESIDENT", resident)
    served = CliRunner().invoke(cli.main, command)
    assert took == [True, False]  # (the site now; not the site before the commit)
    assert (served.exit_code, served.output) == (alone.exit_code, alone.output)
    assert "#gone" in served.output


def test_one_kept_site_serves_run_after_run(root: Path) -> None:
    """Runs made one after another from one kept site in one process: an
    edit, then the page as it was, each found as a run of its own finds it."""
    resident = kept(root)
    original = (root / "content/c/d.md").read_text("utf-8")
    _edit(root, "content/c/d.md", "\n[bad](/a/#none)\n")
    linter = made(resident, root)
    assert linter is not None and findings(linter) == own(root) and taken(linter, resident)
    (root / "content/c/d.md").write_text(original, "utf-8")
    again = made(resident, root)
    assert again is not None and findings(again) == own(root) and taken(again, resident)
    assert not any("#none" in str(f[3]) for f in findings(made(resident, root) or again))


def test_an_include_no_walk_lists_is_looked_at_by_every_run(root: Path) -> None:
    """A page includes a file outside the include folders (its summary is read
    when the kept index is warmed, no walk lists it): an edit of its headings
    is seen."""
    (root / "shared").mkdir()
    (root / "shared/part.md").write_text("## X\n", "utf-8")
    _edit(root, "content/b.md", '\n{{% include "../shared/part.md" %}}\n')
    _edit(root, "content/c/d.md", "\n[x](/b/#x) and [y](/b/#y)\n")
    resident = kept(root)
    before = [f[3] for f in own(root)]
    assert "no anchor #y on /b/" in before and "no anchor #x on /b/" not in before
    (root / "shared/part.md").write_text("## Y\n", "utf-8")
    linter = made(resident, root)
    assert linter is not None
    found = findings(linter)
    assert found == own(root)
    assert "no anchor #x on /b/" in [f[3] for f in found]
    assert not taken(linter, resident)


def test_a_draft_written_otherwise_is_not_in_the_same_place(root: Path) -> None:
    """`draft: 1` equals `draft: true` in Python, not in what the site says of
    the page: the run finishes its own site."""
    (root / "content/e.md").write_text("---\ntitle: E\ndraft: true\n---\n", "utf-8")
    _edit(root, "content/c/d.md", "\n[e](/e/)\n")
    resident = kept(root)
    (root / "content/e.md").write_text("---\ntitle: E\ndraft: 1\n---\n", "utf-8")
    linter = made(resident, root)
    assert linter is not None
    assert findings(linter) == own(root)
    assert not taken(linter, resident)


def test_an_include_call_that_finds_a_file_made_since_is_seen(root: Path) -> None:
    """An include of a file outside the walked folders, missing at the load,
    then made: its headings are the page's anchors (no kept answer of where
    the call leads is trusted)."""
    _edit(root, "content/b.md", '\n{{% include "../shared/new.md" %}}\n')
    _edit(root, "content/c/d.md", "\n[z](/b/#z)\n")
    resident = kept(root)
    assert "no anchor #z on /b/" in [f[3] for f in own(root)]
    (root / "shared").mkdir()
    (root / "shared/new.md").write_text("## Z\n", "utf-8")
    linter = made(resident, root)
    assert linter is not None
    found = findings(linter)
    assert found == own(root)
    assert "no anchor #z on /b/" not in [f[3] for f in found]
    assert not taken(linter, resident)
