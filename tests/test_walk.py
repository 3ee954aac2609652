"""The walk, and the folder listings a run keeps for the next (walk.py)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cache import make, run

from handbook_lint import walk as walk_module
from handbook_lint.cache import codec
from handbook_lint.cache.store import LISTINGS
from handbook_lint.config.settings import _presets
from handbook_lint.walk import Listings, walk

TICK = 0.015  # longer than a clock tick of file times (a jiffy: 10 ms at the coarsest)


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every folder counts as settled, however recently it changed (the tests
    wait a tick after each change instead, so that a change always shows)."""
    monkeypatch.setattr(walk_module, "RACY_SECONDS", -3600.0)


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The folders os.scandir is asked to list."""
    seen: list[str] = []
    real = os.scandir

    def counting(path: Any = ".") -> Any:
        seen.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", counting)
    return seen


def tree(top: Path, listings: Listings | None = None) -> list[tuple[str, list[str], list[str]]]:
    return sorted((d, sorted(ds), sorted(fs)) for d, ds, fs in walk(top, None, listings))


def build(top: Path, files: list[str]) -> None:
    for name in files:
        (top / name).parent.mkdir(parents=True, exist_ok=True)
        (top / name).write_text("x\n", encoding="utf-8")


FILES = ["a.md", "one/b.md", "one/two/c.md", "one/two/d.txt", "three/e.md", "three/deep/er/f.md"]


def test_an_unchanged_folder_is_not_listed_again(
    tmp_path: Path, settled: None, listed: list[str]
) -> None:
    build(tmp_path, FILES)
    first = Listings()
    plain = tree(tmp_path, first)
    assert len(first.walked) == 6 and len(listed) == 6
    listed.clear()
    again = Listings(dict(first.walked))
    assert tree(tmp_path, again) == plain
    assert listed == []  # (a stat of each folder, no listing)
    assert not again.changed()


def test_what_a_stamp_cannot_vouch_for_is_not_kept(tmp_path: Path) -> None:
    build(tmp_path, FILES)
    # Real time: every folder was changed just now (racy), so none is kept.
    fresh = Listings()
    tree(tmp_path, fresh)
    assert fresh.walked == {}
    # A folder holding a symlink is never kept, settled or not.
    (tmp_path / "one" / "link").symlink_to(tmp_path / "three")
    kept = Listings()
    walk_module.RACY_SECONDS, saved = -3600.0, walk_module.RACY_SECONDS
    try:
        tree(tmp_path, kept)
    finally:
        walk_module.RACY_SECONDS = saved
    assert str(tmp_path / "one") not in kept.walked
    assert str(tmp_path / "three") in kept.walked


@pytest.mark.parametrize(
    "damaged",
    [
        "not a listing",
        ("stamp", [], []),
        ((0, 0, 0, 0), ["x"], []),  # (the stamp of no folder)
        (None, [1, 2], []),
    ],
)
def test_a_damaged_listing_is_listed_again(
    tmp_path: Path, settled: None, listed: list[str], damaged: object
) -> None:
    build(tmp_path, FILES)
    good = Listings()
    plain = tree(tmp_path, good)
    known: dict[str, Any] = dict(good.walked)
    one = str(tmp_path / "one")
    stamp = known[one][0]
    known[one] = damaged if damaged != (None, [1, 2], []) else (stamp, [1, 2], [])
    listed.clear()
    assert tree(tmp_path, Listings(known)) == plain
    assert listed == [one]


def _add_file(top: Path) -> None:
    (top / "one" / "new.md").write_text("new\n", encoding="utf-8")


def _remove_file(top: Path) -> None:
    (top / "one" / "two" / "c.md").unlink()


def _move_file(top: Path) -> None:
    (top / "one" / "two" / "c.md").rename(top / "three" / "deep" / "c.md")


def _rename_folder(top: Path) -> None:
    (top / "one" / "two").rename(top / "one" / "zwei")


def _remove_folder(top: Path) -> None:
    for name in ("f.md",):
        (top / "three" / "deep" / "er" / name).unlink()
    (top / "three" / "deep" / "er").rmdir()


def _file_becomes_folder(top: Path) -> None:
    (top / "three" / "e.md").unlink()
    (top / "three" / "e.md").mkdir()
    (top / "three" / "e.md" / "inside.md").write_text("x\n", encoding="utf-8")


def _new_symlink(top: Path) -> None:
    (top / "one" / "two" / "elsewhere").symlink_to(top / "three")


def _link_target_becomes_folder(top: Path) -> None:
    (top / "three" / "e.md").unlink()
    (top / "three" / "e.md").mkdir()


def _unreadable(top: Path) -> None:
    (top / "three" / "deep").chmod(0)


CHANGES: dict[str, Callable[[Path], None]] = {
    "add a file": _add_file,
    "remove a file": _remove_file,
    "move a file": _move_file,
    "rename a folder": _rename_folder,
    "remove a folder": _remove_folder,
    "a file becomes a folder": _file_becomes_folder,
    "a new symlink": _new_symlink,
    "a folder made unreadable": _unreadable,
    # (the folder holding the link does not change: only what it points at)
    "a symlink's target becomes a folder": _link_target_becomes_folder,
}


@pytest.mark.parametrize("change", CHANGES)
def test_each_change_of_the_tree_is_seen(tmp_path: Path, settled: None, change: str) -> None:
    if change == "a folder made unreadable" and os.geteuid() == 0:
        pytest.skip("root reads any folder")
    build(tmp_path, FILES)
    (tmp_path / "one" / "two" / "link").symlink_to(tmp_path / "three" / "e.md")
    first = Listings()
    tree(tmp_path, first)
    time.sleep(TICK)
    CHANGES[change](tmp_path)
    time.sleep(TICK)
    try:
        assert tree(tmp_path, Listings(dict(first.walked))) == tree(tmp_path)
    finally:
        (tmp_path / "three" / "deep").chmod(0o755)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.sampled_from(["add", "remove", "move"]), st.integers(0, 50))))
def test_any_sequence_of_changes_is_seen(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, int]]
) -> None:
    top = tmp_path_factory.mktemp("tree")
    build(top, FILES)
    saved, walk_module.RACY_SECONDS = walk_module.RACY_SECONDS, -3600.0
    try:
        listings = Listings()
        tree(top, listings)
        for op, n in ops:
            time.sleep(TICK)
            files = sorted(p for p in top.rglob("*") if p.is_file())
            folders = [*sorted(p for p in top.rglob("*") if p.is_dir()), top]
            if op == "add" or not files:
                build(top, [f"{folders[n % len(folders)].relative_to(top)}/n{n}/p{n}.md"])
            elif op == "remove":
                files[n % len(files)].unlink()
            else:
                target = folders[n % len(folders)] / f"m{n}.md"
                if not target.exists():
                    files[n % len(files)].rename(target)
            time.sleep(TICK)
            listings = Listings(dict(listings.walked))
            assert tree(top, listings) == tree(top)
    finally:
        walk_module.RACY_SECONDS = saved


def _folders_blob(root: Path) -> bytes | None:
    with sqlite3.connect(root / ".handbook-lint-cache" / "facts.sqlite") as db:
        row = db.execute("SELECT summaries FROM snapshots WHERE key = ?", (LISTINGS,)).fetchone()
    return row[0] if row else None


def test_a_run_reads_the_folders_it_listed_last_time(
    tmp_path: Path, settled: None, listed: list[str]
) -> None:
    root = make(tmp_path)

    def site_listed() -> list[str]:
        """The folders listed but the presets' own (Python 3.13's Path.iterdir
        lists it with os.scandir, as a run reads the preset)."""
        return sorted(p for p in listed if Path(p) != _presets())

    cold, _ = run(root)
    kept = codec.unseal(_folders_blob(root) or b"")
    assert str(root / "content" / "section-0") in kept[1]
    listed.clear()
    warm, _ = run(root)
    assert warm == cold and site_listed() == []
    # A page added, one removed: the next run sees both, as a run without the cache.
    time.sleep(TICK)
    (root / "content" / "section-0" / "page-9.md").write_text(
        "---\ntitle: New\n---\n\nSee [gone](/section-1/page-2/) and [new](/section-0/page-9/).\n",
        encoding="utf-8",
    )
    (root / "content" / "section-1" / "page-2.md").unlink()
    time.sleep(TICK)
    listed.clear()
    after, _ = run(root)
    assert site_listed() == sorted(str(root / "content" / s) for s in ("section-0", "section-1"))
    assert after == run(root, cache=False)[0]
    assert any(f[0] == "content/section-0/page-9.md" and f[3] == "link-broken" for f in after)


def test_damaged_folder_listings_in_the_cache_are_listed_again(
    tmp_path: Path, settled: None
) -> None:
    root = make(tmp_path)
    cold, _ = run(root)
    blob = _folders_blob(root)
    assert blob is not None
    with sqlite3.connect(root / ".handbook-lint-cache" / "facts.sqlite") as db:
        db.execute(
            "UPDATE snapshots SET summaries = ? WHERE key = ?",
            (blob[:-3] + b"xyz", LISTINGS),
        )
    warnings: list[str] = []
    warm, _ = run(root, warnings=warnings)
    assert warm == cold and warnings == []
    assert _folders_blob(root) == blob  # (stored anew, as it was)


def test_pruned_folders_are_not_entered_from_a_kept_listing(tmp_path: Path, settled: None) -> None:
    build(tmp_path, FILES)
    first = Listings()
    tree(tmp_path, first)
    found = []
    for folder, folders, _ in walk(tmp_path, None, Listings(dict(first.walked))):
        found.append(folder)
        folders[:] = [f for f in folders if f != "one"]
    assert str(tmp_path / "one") not in found and str(tmp_path / "three" / "deep") in found
