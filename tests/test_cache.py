"""The SQLite cache of page facts, workers, and identical findings however they are made."""

from __future__ import annotations

import json
import marshal
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import write_site

from handbook_lint import walk
from handbook_lint.cache import codec, store
from handbook_lint.cache import sqlite as cache_db
from handbook_lint.checks.selection import active_rules
from handbook_lint.config.settings import load_config
from handbook_lint.engine import linter as engine
from handbook_lint.engine.linter import Linter
from handbook_lint.parsing.markdown import ParseSettings, parse_page, read_page_bytes

PAGES = {
    f"content/section-{i}/page-{j}.md": (
        f"---\ntitle: Page {i}-{j}\n---\n\n## Heading {j}\n\n"
        f"1. See [next](/section-{i}/page-{(j + 1) % 5}/#heading-{(j + 1) % 5}).\n"
        f"1. And [a broken one](/section-{i}/missing-{j}/).\n"
        f"2. Misnumbered, and [GitLab misson](/section-{i}/page-{j}/#nope).\n"
    )
    for i in range(4)
    for j in range(5)
}


def make(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    write_site(tmp_path, {**PAGES, **(extra or {})}, {"extends": "gitlab-handbook"})
    return tmp_path


def run(
    root: Path,
    jobs: int = 1,
    cache: bool = True,
    paths: list[str] | None = None,
    warnings: list[str] | None = None,
) -> tuple[list[tuple[object, ...]], Linter]:
    config = load_config(root / ".handbook-lint.yaml")
    linter = Linter(
        config,
        active_rules(config),
        jobs=jobs,
        use_cache=cache,
        warn=(warnings.append if warnings is not None else None),
    )
    result = linter.run(paths)
    return [
        (f.path, f.line, f.column, f.rule, f.message, f.suggestion) for f in result.findings
    ], linter


@pytest.fixture
def parallel_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the worker processes even for a small site."""
    monkeypatch.setattr(store, "PARALLEL_MIN", 1)
    monkeypatch.setattr(store, "CHUNK", 3)
    monkeypatch.setattr(engine, "PARALLEL_CHECK_MIN", 1)
    monkeypatch.setattr(engine, "CHECK_CHUNK", 4)


def test_findings_identical_for_jobs_and_cold_or_warm(
    tmp_path: Path, parallel_everything: None
) -> None:
    root = make(tmp_path)
    reference, _ = run(root, jobs=1, cache=False)
    assert len(reference) == 80
    cold, linter = run(root, jobs=2)
    assert linter.store.parsed == len(PAGES)
    warm, linter = run(root, jobs=2)
    assert linter.from_cache and linter.store.parsed == 0
    assert cold == warm == reference


def test_an_unchanged_page_is_never_parsed_again(tmp_path: Path) -> None:
    root = make(tmp_path)
    run(root)
    page = root / "content/section-1/page-2.md"
    page.write_text(page.read_text() + "\nMore [text](/section-1/page-3/#nothing).\n")
    findings, linter = run(root)
    assert linter.store.parsed == 1 and not linter.from_cache
    assert ("content/section-1/page-2.md", 11, 13, "link-anchor-missing") in [
        f[:4] for f in findings
    ]
    # One file given (the pre-commit shape): parsed from cache, nothing re-parsed.
    one, linter = run(root, paths=[str(page)])
    assert linter.store.parsed == 0
    assert {f[0] for f in one} == {"content/section-1/page-2.md"}


def test_a_run_whose_findings_are_cached_reads_no_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unchanged files and settings: the findings come from the results cache
    before any page summary is read (no snapshot, no URLs); one page changed:
    the summaries are read and the findings are those of a run without cache."""
    monkeypatch.setattr(walk, "RACY_SECONDS", -3600.0)  # (files just written count as old)
    root = make(tmp_path)
    cold, _ = run(root)
    warm, linter = run(root)
    assert warm == cold and linter.from_cache
    assert linter.store._snapshot is None and linter.store.summaries == {}
    assert linter.site.pages == {}
    one, linter = run(root, paths=["content/section-2/page-1.md"])
    assert not linter.from_cache and linter.store._snapshot  # (a result of its own)
    one_again, linter = run(root, paths=["content/section-2/page-1.md"])
    assert one_again == one and linter.from_cache and linter.store.summaries == {}
    page = root / "content/section-3/page-4.md"
    page.write_text(page.read_text() + "\nSee [a page](/section-0/page-0/#heading-0).\n")
    edited, linter = run(root)
    assert not linter.from_cache and linter.store.parsed == 1
    assert edited == run(root, cache=False)[0]
    assert run(root)[1].from_cache


def test_the_results_cache_stays_right_with_files_that_cannot_be_read(tmp_path: Path) -> None:
    """A file that cannot be parsed is known to be so only once it is read: its
    run's findings are cached under a key with the reason, found after the
    summaries are read; the findings are those of a run without cache."""
    root = make(tmp_path, {"content/broken.md": "---\ntitle: [unclosed\n---\n\nText.\n"})
    (root / "content" / "latin1.md").write_bytes(b"---\ntitle: caf\xe9\n---\n\nText.\n")
    expected, _ = run(root, cache=False)
    assert {"content/broken.md", "content/latin1.md"} <= {f[0] for f in expected}
    cold, _ = run(root)
    warm, linter = run(root)
    assert cold == warm == expected and linter.from_cache
    (root / "content" / "broken.md").write_text("---\ntitle: Fixed\n---\n\nText.\n")
    fixed, linter = run(root)
    assert not linter.from_cache
    assert fixed == run(root, cache=False)[0] != expected
    assert "content/broken.md" not in {f[0] for f in fixed}


def test_a_page_edited_while_a_run_reads_it_leaves_no_wrong_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The result key computed before the pages are read names the bytes hashed;
    a page edited between its hash and its parse makes the run compute its key
    again, or a later run of the first bytes would get the edited page's findings."""
    monkeypatch.setattr(walk, "RACY_SECONDS", -3600.0)  # (files just written count as old)
    root = make(tmp_path)
    page = root / "content/section-1/page-2.md"
    first = page.read_text()
    expected, _ = run(root, cache=False)
    run(root)  # (the file states: nothing is hashed anew, and the key comes first)
    _forget_results(root, "DELETE FROM facts WHERE path = 'content/section-1/page-2.md'")
    _forget_results(root, "DELETE FROM snapshots")  # (so the page is parsed)
    real = store.FactStore.hash_files

    def then_edited(self: store.FactStore, paths: list[str]) -> bool:
        hashed = real(self, paths)
        page.write_text(first + "\nSee [nothing](/no-such-page/).\n")
        return hashed

    monkeypatch.setattr(store.FactStore, "hash_files", then_edited)
    edited, linter = run(root)
    assert linter.store.revised == 1
    assert ("content/section-1/page-2.md", 11, 15, "link-broken") in [f[:4] for f in edited]
    monkeypatch.setattr(store.FactStore, "hash_files", real)
    page.write_text(first)
    again, linter = run(root)
    assert again == expected


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_page_edited_while_it_is_checked_leaves_no_wrong_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int, parallel_everything: None
) -> None:
    """A page whose row is gone is parsed when its anchors are needed (review
    finding): edited after the run hashed it, the run's findings are not those
    of the hashes in its key, and are not kept (in check workers too), or a
    later run of the first bytes would get them."""
    root = make(tmp_path)
    target = root / "content/section-1/page-3.md"
    first = target.read_text()
    expected, _ = run(root, cache=False)
    run(root)
    _forget_results(root, "DELETE FROM facts WHERE path = 'content/section-1/page-3.md'")
    real = store.FactStore._parse_one

    def edited_first(self: store.FactStore, path: str) -> store.Parsed:
        if path == "content/section-1/page-3.md" and target.read_text() == first:
            target.write_text(first.replace("## Heading 3", "## Renamed"))
        return real(self, path)

    monkeypatch.setattr(store.FactStore, "_parse_one", edited_first)
    during, _ = run(root, jobs=jobs)
    assert ("content/section-1/page-2.md", "link-anchor-missing") in {(f[0], f[3]) for f in during}
    monkeypatch.setattr(store.FactStore, "_parse_one", real)
    target.write_text(first)
    again, _ = run(root, jobs=jobs)
    assert again == expected


def test_a_page_rewritten_in_the_same_tick_is_not_taken_for_unchanged(tmp_path: Path) -> None:
    """A file's state (size, time, inode) vouches for its hash only once its time
    is settled: a page edited again in the same tick of the clock (same size,
    same time, same inode) right after a run is hashed again by the next run.
    A settled file is trusted (not read again)."""
    root = make(tmp_path)
    page = root / "content/section-1/page-2.md"
    first = page.read_text()
    run(root)  # (the files were written just now: their states are racy)
    st = page.stat()
    page.write_text(first.replace("missing-2", "mislaid-2"))  # (as long)
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert page.stat().st_size == st.st_size and page.stat().st_ino == st.st_ino
    after, linter = run(root)
    assert after == run(root, cache=False)[0]
    assert any("mislaid-2" in str(f[4]) for f in after)
    # Files changed long ago: their states are trusted, nothing is read again.
    old = time.time() - 3600
    for path in (root / "content").rglob("*.md"):
        os.utime(path, (old, old))
    run(root)
    _, linter = run(root)
    assert not linter.store.hashed_anew()


def test_summaries_come_from_one_snapshot(tmp_path: Path) -> None:
    """A run that parsed writes every page's summary as one blob; the next one
    reads that, not a row per page (rows without summaries do not matter), and
    a page changed since is read from its own row or parsed."""
    root = make(tmp_path)
    expected, _ = run(root, cache=False)
    run(root)
    db = sqlite3.connect(root / ".handbook-lint-cache" / "facts.sqlite")
    (count,) = db.execute("SELECT count(*) FROM snapshots").fetchone()
    db.execute("UPDATE facts SET summary = NULL")
    db.execute("DELETE FROM results")
    db.commit()
    db.close()
    warnings: list[str] = []
    again, linter = run(root, warnings=warnings)
    assert count == 1 and again == expected and warnings == [] and linter.store.parsed == 0
    page = root / "content/section-1/page-2.md"
    page.write_text(page.read_text() + "\nMore [text](/section-1/page-3/#nothing).\n")
    edited, linter = run(root, warnings=warnings)
    assert linter.store.parsed == 1 and warnings == []
    assert edited == run(root, cache=False)[0] != expected


def _forget_results(root: Path, sql: str = "") -> None:
    with sqlite3.connect(root / ".handbook-lint-cache" / "facts.sqlite") as db:
        db.execute("DELETE FROM results")
        if sql:
            db.execute(sql)


def test_a_snapshot_summary_reads_its_anchors_and_links_from_its_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot holds no anchors and links: those of the pages a run looks
    at are read from their rows, one query each (all rows at once when many
    are needed)."""
    root = make(tmp_path)
    expected, _ = run(root, cache=False)
    run(root)
    asked: list[str] = []
    real_one, real_all = cache_db.Cache.summary, cache_db.Cache.summaries

    def one_row(self: cache_db.Cache, path: str, digest: str, key: str) -> bytes | None:
        asked.append(path)
        return real_one(self, path, digest, key)

    def all_rows(self: cache_db.Cache, key: str) -> dict[tuple[str, str], bytes]:
        asked.append("ALL")
        return real_all(self, key)

    monkeypatch.setattr(cache_db.Cache, "summary", one_row)
    monkeypatch.setattr(cache_db.Cache, "summaries", all_rows)
    page = root / "content/section-1/page-2.md"
    one, linter = run(root, paths=[str(page)])
    assert linter.store.parsed == 0
    assert one == [f for f in expected if f[0] == "content/section-1/page-2.md"]
    # (the page itself, the pages its links land on)
    assert sorted(asked) == ["content/section-1/page-2.md", "content/section-1/page-3.md"]
    asked.clear()
    _forget_results(root)
    monkeypatch.setattr(store, "DETAILS_EACH_MAX", 3)
    whole, linter = run(root)
    assert whole == expected and linter.store.parsed == 0
    assert asked.count("ALL") == 1 and len(asked) == 4


@pytest.mark.parametrize("how", ["lost", "damaged"])
def test_a_row_lost_or_damaged_under_a_snapshot_summary_is_parsed_again(
    tmp_path: Path, how: str, parallel_everything: None
) -> None:
    root = make(tmp_path)
    expected, _ = run(root, cache=False)
    run(root, jobs=2)
    change = "DELETE FROM facts" if how == "lost" else "UPDATE facts SET summary = x'00ff'"
    _forget_results(root, change)
    warnings: list[str] = []
    again, _ = run(root, jobs=1, warnings=warnings)
    assert again == expected
    assert bool(warnings) == (how == "damaged")
    with sqlite3.connect(root / ".handbook-lint-cache" / "facts.sqlite") as db:
        stored = db.execute("SELECT path, summary FROM facts").fetchall()
    assert len({path for path, blob in stored if blob != b"\x00\xff"}) == len(PAGES)  # anew
    _forget_results(root)
    again, _ = run(root, jobs=2, warnings=warnings)  # (details read in the workers)
    assert again == expected


def test_a_corrupt_cache_is_rebuilt_with_a_warning(tmp_path: Path) -> None:
    root = make(tmp_path)
    expected, _ = run(root, cache=False)
    db = root / ".handbook-lint-cache" / "facts.sqlite"
    db.parent.mkdir()
    db.write_bytes(b"this is not a database" * 100)
    warnings: list[str] = []
    findings, linter = run(root, warnings=warnings)
    assert findings == expected
    assert len(warnings) == 1 and "was unreadable" in warnings[0]
    assert list(db.parent.glob("facts.sqlite.corrupt-*"))
    again, linter = run(root)
    assert again == expected and linter.from_cache


def test_a_foreign_sqlite_file_is_replaced(tmp_path: Path) -> None:
    root = make(tmp_path)
    db = root / ".handbook-lint-cache" / "facts.sqlite"
    db.parent.mkdir()
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE other (x)")
    warnings: list[str] = []
    run(root, warnings=warnings)
    assert "was unreadable" in warnings[0]
    assert run(root)[1].from_cache


def test_an_unwritable_location_means_no_cache(tmp_path: Path) -> None:
    root = make(tmp_path)
    (root / ".handbook-lint.yaml").write_text(
        "extends: gitlab-handbook\ncache_dir: /proc/handbook-lint-cache\n"
    )
    warnings: list[str] = []
    findings, linter = run(root, warnings=warnings)
    assert len(findings) == 80
    assert linter.store.cache is None or linter.store.cache.db is None
    assert "running without a cache" in warnings[0]


def test_two_runs_at_once_share_the_cache(tmp_path: Path) -> None:
    root = make(tmp_path)
    cmd = [sys.executable, "-m", "handbook_lint", "check", "--format", "json", "-j", "1"]
    procs = [
        subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [1, 1, 1, 1]
    assert all(err == "" for _, err in outputs), [err for _, err in outputs]
    assert len({out for out, _ in outputs}) == 1
    with sqlite3.connect(root / ".handbook-lint-cache" / "facts.sqlite") as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("SELECT count(*) FROM facts").fetchone() == (len(PAGES),)
    _, linter = run(root)
    assert linter.from_cache


def test_the_cache_keeps_the_facts_of_the_versions_on_disk_only(tmp_path: Path) -> None:
    """Each edit leaves one facts row per page (the old version's goes), one
    page at a time and many at once; so does a staged version of a page,
    parsed from git's copy."""
    root = make(tmp_path)
    database = root / ".handbook-lint-cache" / "facts.sqlite"

    def rows() -> list[tuple[str, str]]:
        with sqlite3.connect(database) as con:
            return sorted(con.execute("SELECT path, hash FROM facts").fetchall())

    def on_disk() -> list[tuple[str, str]]:
        return sorted((p, store.content_hash((root / p).read_bytes())) for p in PAGES)

    run(root)
    assert rows() == on_disk()
    page = root / "content/section-0/page-0.md"
    original = page.read_text("utf-8")
    for edit in range(3):  # one page
        page.write_text(page.read_text("utf-8") + f"\nEdit {edit}.\n", "utf-8")
        run(root, paths=[str(page)])
        assert rows() == on_disk()
    # Back to the version the snapshot holds, in a run that lints another page:
    # nothing parsed, only the page's file state written.
    page.write_text(original, "utf-8")
    run(root, paths=[str(root / "content/section-1/page-1.md")])
    assert set(rows()) <= set(on_disk())  # (the page's own facts are parsed when linted)
    for path in PAGES:  # every page, more than are looked at one by one
        with (root / path).open("a", encoding="utf-8") as out:
            out.write("\nAll edited.\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cache_db, "PRUNE_EACH_MAX", 3)
        run(root)
    assert rows() == on_disk()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    page.write_text(page.read_text("utf-8") + "\nStaged.\n", "utf-8")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    page.write_text(page.read_text("utf-8") + "\nNot staged.\n", "utf-8")
    run(root, paths=[str(page)])
    assert rows() == on_disk()
    proc = subprocess.run(
        [sys.executable, "-m", "handbook_lint", "check", "-q", "--staged", str(page)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    assert rows() == on_disk()


def test_a_parse_setting_change_is_not_served_stale_facts(tmp_path: Path) -> None:
    page = "---\ntitle: T\n---\n\nOur misson is clear.\n"
    write_site(tmp_path, {"content/a.md": page}, {"extends": "gitlab-handbook"})
    assert run(tmp_path)[0] == []
    write_site(tmp_path, {}, {"extends": "gitlab-handbook", "rules": {"spelling": {"prose": True}}})
    found, _ = run(tmp_path)  # prose text is parsed only when asked for: parse again
    assert [(f[1], f[3], f[5]) for f in found] == [(5, "spelling", "mission")]


@dataclass
class _Inner:
    a: int


@dataclass
class _Outer:
    by_name: dict[str, _Inner]


def test_the_codec_refuses_a_field_it_cannot_carry() -> None:
    with pytest.raises(TypeError, match=r"cannot carry _Outer.by_name"):
        codec._packer(_Outer)


def test_every_page_fact_survives_the_codec(tmp_path: Path) -> None:
    text = (
        "---\ntitle: T\ndate: 2024-01-02\n---\n\n## A {#a}\n\n[x](/y/#z) [r][l]\n\n[l]: /l/\n\n"
        '1. one\n\n   - two\n\n{{% include "i.md" %}}\n\n'
        "<!-- handbook-lint-disable-next-line -->\nx\n"
    )
    facts = parse_page(text, "content/a.md", ParseSettings("github", "plain"))
    assert codec.decode(codec.encode(facts)) == facts


def test_findings_survive_the_codec_and_a_row_of_another_length_is_damage() -> None:
    """Findings (frozen, with slots) are decoded by setting their slots: every
    field, a nested fix included, comes back; a row one field longer or
    shorter is no result at all, as a damaged one."""
    from handbook_lint.checks.registry import Edit, Finding, Fix

    fix = Fix((Edit(3, 4, "misson", "mission"), Edit(5, 0, "", "x", whole_line=True)), False)
    findings = [
        Finding("content/a.md", 3, 5, "spelling", "warning", "m", "s", "t", "d", fix),
        Finding("content/b.md", 1, 0, "link-broken", "error", "n"),
    ]
    decoded = codec.decode_findings(codec.encode_findings(findings))
    assert decoded == findings
    assert decoded is not None and decoded[0].fix is not None
    assert decoded[0].fix.edits[1].whole_line and not decoded[0].fix.safe
    rows = [tuple(codec._packer(Finding)(f)) for f in findings]
    for bad in ([*rows[:1], (*rows[1], None)], [rows[0], rows[1][:-1]]):
        assert codec.decode_findings(codec.seal((codec.FORMAT, bad))) is None


@dataclass(frozen=True, slots=True)
class _Base:
    """A slotted base."""

    a: int


@dataclass(frozen=True, slots=True)
class _Child(_Base):
    """Its field `a` is a slot of the base, not its own."""

    b: str = ""


@dataclass(frozen=True)
class _NoSlots:
    """Its default is a class attribute, not a slot."""

    a: int
    b: str = "x"


@dataclass(frozen=True, slots=True)
class _OwnInit:
    """An __init__ written by hand: what it does is not the codec's to skip."""

    a: int

    def __init__(self, a: int) -> None:
        object.__setattr__(self, "a", abs(a))


def test_only_plain_frozen_classes_with_slots_skip_their_init() -> None:
    from handbook_lint.checks.registry import Edit, Finding, Fix

    assert all(codec._frozen_slots(cls) for cls in (Finding, Fix, Edit))
    assert not any(codec._frozen_slots(cls) for cls in (_Child, _NoSlots, _OwnInit))
    for cls, value in ((_Child, _Child(1, "b")), (_NoSlots, _NoSlots(2))):
        assert codec._unpacker(cls)(codec._packer(cls)(value)) == value
    assert codec._unpacker(_OwnInit)((-3,)) == _OwnInit(3)


DAMAGE = {
    "NULL facts blobs": "UPDATE facts SET facts = NULL",
    "a NULL run result": "UPDATE results SET findings = NULL",
    "a summary with wrong inner types": (
        "UPDATE facts SET summary = X'"
        + marshal.dumps(("content/a.md", None, [], 0, 5, 5)).hex()
        + "' WHERE path = 'content/a.md'"
    ),
    "random summary blobs": "UPDATE facts SET summary = randomblob(40)",
    "NULL summary blobs": "UPDATE facts SET summary = NULL",
    "a summary of the wrong shape": "UPDATE facts SET summary = X'e903000000'",
    "random facts blobs": "UPDATE facts SET facts = randomblob(60)",
    "a size that is not a number": "UPDATE files SET size = 'big'",
    "a file hash that is not text": "UPDATE files SET hash = 42",
    "file paths stored as bytes": "UPDATE files SET path = CAST(path AS BLOB)",
    "a damaged run result": "UPDATE results SET findings = randomblob(30)",
    "summaries and facts swapped between pages": (
        "UPDATE facts SET summary = (SELECT f2.summary FROM facts f2 WHERE f2.path != "
        "facts.path LIMIT 1), facts = (SELECT f2.facts FROM facts f2 WHERE f2.path != "
        "facts.path LIMIT 1)"
    ),
    "a random snapshot blob": "UPDATE snapshots SET summaries = randomblob(50)",
    "a NULL snapshot": "UPDATE snapshots SET summaries = NULL",
    "a snapshot of another site's pages": "UPDATE snapshots SET key = key",  # (see below)
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_cache_rows_are_parsed_again_and_the_run_is_right(
    tmp_path: Path, damage: str
) -> None:
    pages = {
        "content/a.md": "---\ntitle: A\n---\n\n## Alpha\n\n[b](/b/#beta) [x](/b/#nope)\n",
        "content/b.md": "---\ntitle: B\n---\n\n## Beta\n\n1. x\n2. y\n2. z\n",
        "content/c.md": "---\ntitle: C\n---\n\n[a](/a/#alpha) [gone](/gone/)\n",
    }
    write_site(tmp_path, pages, {})
    command = [sys.executable, "-m", "handbook_lint", "check", "--format", "json", "-j", "1"]
    clean = subprocess.run([*command, "--no-cache"], cwd=tmp_path, capture_output=True)
    first = subprocess.run(command, cwd=tmp_path, capture_output=True)
    assert first.stdout == clean.stdout
    db = sqlite3.connect(tmp_path / ".handbook-lint-cache" / "facts.sqlite")
    db.execute(DAMAGE[damage])
    if "result" not in damage:  # (else the cached run result is all that is read)
        db.execute("DELETE FROM results")
    if "snapshot" not in damage:  # (else the snapshot is all the summaries read)
        db.execute("DELETE FROM snapshots")
    if "another site" in damage:  # a valid snapshot, sealed, of other pages
        from handbook_lint.cache import codec
        from handbook_lint.parsing.facts import PageSummary

        (digest,) = db.execute("SELECT hash FROM files WHERE path = 'content/a.md'").fetchone()
        other = PageSummary("content/other.md", {}, [("heading", "x", 1)], False, [], [])
        blob = codec.encode_snapshot({("content/a.md", digest): other})
        db.execute("UPDATE snapshots SET summaries = ?", (blob,))
    db.commit()
    db.close()
    for _ in range(2):  # the damaged run, then the run after it (repaired)
        again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
        assert "Traceback" not in again.stderr, again.stderr
        assert again.stdout == clean.stdout.decode(), damage


def _damage_page(table: str) -> Callable[[Path], None]:
    """Garbage over the first page of `table`: the file opens, the schema reads,
    the damage shows only when the run reads that table."""

    def damage(path: Path) -> None:
        with sqlite3.connect(path) as db:
            (root,) = db.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
            ).fetchone()
        data = bytearray(path.read_bytes())
        page = int.from_bytes(data[16:18], "big")
        start = (root - 1) * page
        data[start : start + page] = bytes((i * 13 + 5) % 251 for i in range(page))
        path.write_bytes(bytes(data))

    return damage


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    page = int.from_bytes(data[16:18], "big")
    path.write_bytes(data[: page * 2])


FILE_DAMAGE: dict[str, str | Callable[[Path], None]] = {
    "a lost facts table": "DROP TABLE facts",
    "a lost files table": "DROP TABLE files",
    "a lost results table": "DROP TABLE results",
    "a damaged page of facts": _damage_page("facts"),
    "a damaged page of files": _damage_page("files"),
    "a damaged page of snapshots": _damage_page("snapshots"),
    "a truncated file": _truncate,
}


@pytest.mark.parametrize("damage", sorted(FILE_DAMAGE))
def test_a_damaged_cache_file_is_rebuilt_and_the_next_run_is_warm(
    tmp_path: Path, damage: str
) -> None:
    root = make(tmp_path)
    expected, _ = run(root, cache=False)
    run(root)
    path = root / ".handbook-lint-cache" / "facts.sqlite"
    db = sqlite3.connect(path)
    # (no run result, and no snapshot unless that is the damage: the run reads
    # the facts table, as one does when pages changed since the snapshot)
    db.execute("DELETE FROM results")
    if "snapshots" not in damage:
        db.execute("DELETE FROM snapshots")
    db.commit()
    how = FILE_DAMAGE[damage]
    if isinstance(how, str):
        db.execute(how)
        db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    if not isinstance(how, str):
        how(path)
    warnings: list[str] = []
    damaged, _ = run(root, warnings=warnings)
    assert damaged == expected
    assert len(warnings) == 1, warnings
    assert "moved it to facts.sqlite.corrupt-" in warnings[0]
    # repaired, not run without: the next run is warm and says nothing
    warnings.clear()
    again, linter = run(root, warnings=warnings)
    assert again == expected and warnings == []
    assert linter.from_cache
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_page_edited_between_its_hash_and_its_parse_is_never_cached_as_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hash and the parse read a file apart; an edit in between (another
    editor, a checkout) used to store one version's facts under the other's
    hash, and a later run that saw that version again got the wrong facts. The
    facts now go under the hash of the bytes parsed."""
    page = tmp_path / "content/page.md"
    write_site(tmp_path, {"content/page.md": "---\ntitle: T\n---\n[x](/a/)\n"}, {})
    config = load_config(None, cwd=tmp_path)

    def targets() -> list[str | None]:
        result = Linter(config, active_rules(config), jobs=1).run()
        return [f.target for f in result.findings if f.rule == "link-broken"]

    edited = b"---\ntitle: T\n---\n[x](/b/)\n"
    real = read_page_bytes
    monkeypatch.setattr(store, "read_page_bytes", lambda path: (edited, None))
    assert targets() == ["/b/"]  # what was parsed: the edit
    monkeypatch.setattr(store, "read_page_bytes", real)
    assert page.read_text("utf-8").endswith("[x](/a/)\n")
    assert targets() == ["/a/"]  # the file as it is, never the edit's facts
    page.write_bytes(edited)
    assert targets() == ["/b/"]


@pytest.mark.slow
def test_concurrent_runs_with_edits_leave_a_cache_that_answers_as_no_cache(
    tmp_path: Path,
) -> None:
    """Four processes lint one site while its pages are edited under them; then
    a cached run must report exactly what a run with no cache reports. Ten
    rounds, each with other edits. (At this size the race of a hash and a parse
    reading different versions did not show even before the fix: the test
    above, which edits the page between the two, is the one that caught it.)"""
    pages: dict[str, str | bytes] = {
        f"content/p{i}.md": f"---\ntitle: P{i}\n---\n\n## Part {i}\n\n[n](/p{i + 1}/#part-{i + 1})"
        for i in range(40)
    }
    write_site(tmp_path, pages, {})
    cmd = [sys.executable, "-m", "handbook_lint", "check", "--format", "json", "--jobs", "2"]

    def findings(*extra: str) -> list[tuple[str, int, str, str]]:
        done = subprocess.run(
            [*cmd, *extra], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert "Traceback" not in done.stderr, done.stderr
        return sorted(
            (f["path"], f["line"], f["rule"], f["message"])
            for f in json.loads(done.stdout)["findings"]
        )

    for round_ in range(10):
        runs = [
            subprocess.Popen(
                cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            for _ in range(4)
        ]
        for k in range(60):  # edits while they run: headings, links, whole pages
            i = (round_ * 7 + k) % 40
            page = tmp_path / f"content/p{i}.md"
            heading = "Part" if (round_ + k) % 2 else "Section"
            page.write_text(
                f"---\ntitle: P{i}\n---\n\n## {heading} {i}\n\n"
                f"[next](/p{(i + k) % 45}/#part-{(i + k) % 45})\n",
                "utf-8",
            )
            time.sleep(0.005)
        for run in runs:
            run.wait(timeout=120)
        assert findings() == findings("--no-cache"), f"round {round_}"


def test_two_runs_meeting_the_same_damage_move_the_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both find the lost table at once; the second must not move aside the
    new file the first one just started (a slow move made it happen every time)."""
    import threading

    from handbook_lint.cache import sqlite as cache_sqlite

    folder = tmp_path / "cache"
    cache_sqlite.Cache(folder, lambda message: None).disable("made")  # (the file, whole)
    real_move = cache_sqlite.move_aside

    def slow_move(path: Path) -> Path:
        time.sleep(0.2)
        return real_move(path)

    monkeypatch.setattr(cache_sqlite, "move_aside", slow_move)
    opened, damaged = threading.Barrier(3), threading.Barrier(3)
    seen: list[dict[str, tuple[int, int, int, str]]] = []

    def run(first: bool) -> None:  # (SQLite connections stay in their thread)
        cache = cache_sqlite.Cache(folder, lambda message: None)
        opened.wait()
        damaged.wait()
        cache.summaries("key")  # meets the lost table, and repairs
        time.sleep(0.5)
        if first:
            cache.write([("a.md", 1, 2, 3, "h")], [])
        time.sleep(0.3)
        seen.append(cache.file_states())

    threads = [threading.Thread(target=run, args=(i == 0,)) for i in range(2)]
    for thread in threads:
        thread.start()
    opened.wait()
    with sqlite3.connect(folder / cache_sqlite.DB_NAME) as db:
        db.execute("DROP TABLE facts")
    db.close()
    damaged.wait()
    for thread in threads:
        thread.join()
    moved = folder.glob(f"{cache_sqlite.DB_NAME}.corrupt-*")
    # (one move takes the -wal and -shm files along when they exist: count moves)
    assert len({path.name.removesuffix("-wal").removesuffix("-shm") for path in moved}) == 1
    assert seen == [{"a.md": (1, 2, 3, "h")}] * 2  # one new file, both runs on it


def test_a_page_reverted_to_a_version_the_snapshot_holds_is_no_damage(tmp_path: Path) -> None:
    """The snapshot outlives a row the next write dropped (review finding): a
    page edited, then reverted, is parsed again quietly, and stored again."""
    root = make(tmp_path)
    run(root)
    page = root / "content/section-1/page-2.md"
    other = root / "content/section-3/page-0.md"
    first = page.read_text()
    page.write_text(first + "\nMore text.\n")
    run(root)  # (its first version's facts row is dropped; the snapshot keeps it)
    page.write_text(first)
    other.write_text(other.read_text() + "\nEdited.\n")
    warnings: list[str] = []
    found, _ = run(root, warnings=warnings)
    assert found == run(root, cache=False)[0] and warnings == []
    _, linter = run(root, paths=[str(page)], warnings=warnings)
    assert linter.store.parsed == 0 and warnings == []  # (stored again)
