"""Pages parsed ahead (cache/ahead.py): a short run's pages are parsed by a
forked child while the run finds the site; the run takes a result only for the
bytes it hashed, and the child never outlives the run."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import write_site
from gitrepo import git
from test_cache import PAGES, make, run
from test_changes import make_repo
from test_signals import _alive, _descendants, _gone

from handbook_lint.cache import ahead, store
from handbook_lint.cache.ahead import Ahead
from handbook_lint.checks.selection import active_rules
from handbook_lint.config.settings import load_config
from handbook_lint.engine.changes import run_change
from handbook_lint.engine.git import staged_changes
from handbook_lint.engine.linter import Linter
from handbook_lint.parsing.markdown import ParseSettings

PAGE = "content/section-1/page-2.md"


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The pages this process parses itself (a child's parses are its own)."""
    parsed: list[str] = []
    real = store.parse_file
    me = os.getpid()

    def counted(root: Path, path: str, *args: object, **kwargs: object) -> store.Parsed:
        if os.getpid() == me:
            parsed.append(path)
        return real(root, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "parse_file", counted)
    yield parsed


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Ahead | None]:
    """Each child a run starts."""
    children: list[Ahead | None] = []
    real = Ahead.start.__func__  # type: ignore[attr-defined]

    def start(cls: type[Ahead], *args: object) -> Ahead | None:
        child = real(cls, *args)
        children.append(child)
        return child  # type: ignore[no-any-return]

    monkeypatch.setattr(Ahead, "start", classmethod(start))
    return children


def test_a_changed_page_is_parsed_ahead_and_its_findings_are_those_without(
    tmp_path: Path, in_process: list[str], started: list[Ahead | None]
) -> None:
    root = make(tmp_path)
    run(root, jobs=2)
    page = root / PAGE
    page.write_text(page.read_text() + "\nMore [text](/section-1/page-3/#nothing).\n")
    in_process.clear()
    found, linter = run(root, jobs=2, paths=[str(page)])
    assert len(started) == 1 and started[0] is not None  # (a whole-site run has none)
    assert linter.store.parsed == 1 and in_process == []
    expected, _ = run(root, cache=False, paths=[str(page)])
    assert found == expected
    assert (PAGE, 11, 13, "link-anchor-missing") in [f[:4] for f in found]
    # ... and the next run has its facts from the cache, as after any parse.
    again, linter = run(root, jobs=2, paths=[str(page)])
    assert again == expected and linter.store.parsed == 0


def test_a_page_changed_after_it_was_parsed_ahead_is_parsed_again(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    in_process: list[str],
    started: list[Ahead | None],
) -> None:
    """The child parsed the bytes before an edit, the run hashed those after:
    the child's result is not taken, and the findings are the edited page's."""
    root = make(tmp_path)
    run(root, jobs=2)
    page = root / PAGE
    page.write_text(page.read_text() + "\nFirst [text](/section-1/page-3/#first).\n")
    real = store.FactStore.hash_files

    def edited_first(self: store.FactStore, paths: list[str]) -> bool:
        [child] = self.aheads
        for lane in child._lanes:  # (the child is done with the first bytes)
            while lane.fd >= 0:
                lane.read(wait=True)
        page.write_text(page.read_text().replace("#first", "#second"))
        return real(self, paths)

    monkeypatch.setattr(store.FactStore, "hash_files", edited_first)
    in_process.clear()
    found, linter = run(root, jobs=2, paths=[str(page)])
    assert in_process == [PAGE]
    assert "no anchor #second on /section-1/page-3/" in [f[4] for f in found]
    assert "no anchor #first on /section-1/page-3/" not in [f[4] for f in found]
    assert linter.store.revised == 0  # (parsed once, from the bytes hashed)


def test_a_child_whose_page_did_not_change_is_stopped_with_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: list[Ahead | None]
) -> None:
    root = make(tmp_path)
    run(root, jobs=2)
    real_stop = Ahead.stop
    reaped: list[int] = []

    def stop(self: Ahead) -> None:
        reaped.append(self._pid)
        real_stop(self)

    monkeypatch.setattr(Ahead, "stop", stop)
    _, linter = run(root, jobs=2, paths=[str(root / PAGE)])
    assert linter.store.parsed == 0
    (child,) = started
    assert child is not None and child._lanes[0].fd == -1 and reaped[0] > 0
    with pytest.raises(ChildProcessError):  # (reaped: no zombie left)
        os.waitpid(reaped[0], os.WNOHANG)
    assert ahead._RUNNING == []


def test_a_page_whose_turn_has_not_come_is_parsed_by_the_run(tmp_path: Path) -> None:
    """The child parses in order (a commit's versions before it first): the run
    waits only for the page the child is on, and parses one it has not got to
    itself (a big page's two versions are then parsed at once)."""
    big = _big_page(4000)
    write_site(tmp_path, {"content/small.md": "---\ntitle: Small\n---\n\nText.\n"})
    small = store.content_hash((tmp_path / "content/small.md").read_bytes())
    child = Ahead.start(
        tmp_path, ParseSettings(), (), [("content/big.md", big), ("content/small.md", None)]
    )
    assert child is not None
    try:
        began = time.monotonic()
        assert child.take("content/small.md", small, False) is None  # (the child is on the big one)
        assert time.monotonic() - began < 0.5  # (it takes seconds)
        parsed = child.take("content/big.md", store.content_hash(big), True)
        assert parsed is not None and parsed[1] is None and parsed[2] is not None
        assert parsed[4] == store.content_hash(big)
    finally:
        child.stop()
    assert ahead._RUNNING == []


def test_no_child_with_one_job_without_a_cache_or_for_many_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: list[Ahead | None]
) -> None:
    root = make(tmp_path)
    run(root, jobs=2)
    page = str(root / PAGE)
    run(root, jobs=1, paths=[page])
    run(root, jobs=2, cache=False, paths=[page])
    monkeypatch.setattr(store, "AHEAD_MAX", 3)
    run(root, jobs=2, paths=[str(root / p) for p in list(PAGES)[:4]])
    assert started == []
    if hasattr(os, "sched_getaffinity"):  # nor by default on one CPU (`taskset -c 0`, CI)
        cpus = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(cpus)})
        try:
            run(root, jobs=0, paths=[page])
        finally:
            os.sched_setaffinity(0, cpus)
        assert started == []


def test_a_child_whose_output_breaks_off_leaves_the_pages_to_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_process: list[str]
) -> None:
    root = make(tmp_path)
    run(root, jobs=2)
    page = root / PAGE
    page.write_text(page.read_text() + "\nMore [text](/section-1/page-3/#nothing).\n")
    monkeypatch.setattr(ahead, "_child", lambda *args: os.write(args[-1], b"\x00garbage"))
    in_process.clear()
    found, _ = run(root, jobs=2, paths=[str(page)])
    assert in_process == [PAGE]
    expected, _ = run(root, cache=False, paths=[str(page)])
    assert found == expected


def _forked(pid: int) -> bool:
    """A process of ours (a fork of the run), not a git command it runs."""
    try:
        return b"handbook_lint" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def test_a_commits_page_and_its_version_before_are_parsed_by_children(
    tmp_path: Path, in_process: list[str], started: list[Ahead | None]
) -> None:
    """The pre-commit hook's run: the staged page and HEAD's version of it (not in
    the cache: a run after an edit keeps only the new version's row) come from
    a child each, and what the commit introduces is what a run without a cache
    or children finds."""
    repo = make_repo(tmp_path)
    config = load_config(repo / ".handbook-lint.yaml")

    def linter(jobs: int = 2, cache: bool = True) -> Linter:
        return Linter(config, active_rules(config), jobs=jobs, use_cache=cache)

    page = repo / "content/a.md"
    head = page.read_bytes()
    page.write_text(page.read_text().replace("## Two", "## Deux"))
    linter().run()  # (the cache: HEAD's version of the page is not in it)
    page.write_text(page.read_text().replace("## One", "## Uno"))
    git(repo, "add", "-A")
    now = linter()
    assert now.store.cache is not None
    assert not now.store.cache.has_facts("content/a.md", store.content_hash(head), now.store.key)
    in_process.clear()
    got = run_change(now, staged_changes(repo).under(repo)).findings
    assert in_process == [] and len(started) == 1 and started[0] is not None
    assert len(started[0]._lanes) == 2  # (the page, and its version before in a lane of its own)
    expected = run_change(linter(1, False), staged_changes(repo).under(repo)).findings
    assert got == expected
    assert ("content/c/_index.md", "link-anchor-missing") in {(f.path, f.rule) for f in got}


def test_a_version_before_in_the_cache_is_not_parsed_again(
    tmp_path: Path, in_process: list[str], started: list[Ahead | None]
) -> None:
    """HEAD's version of the page is in the cache (a run saw it): only the page
    as it is now is parsed ahead, and nothing in the run."""
    repo = make_repo(tmp_path)
    config = load_config(repo / ".handbook-lint.yaml")
    Linter(config, active_rules(config), jobs=2).run()
    page = repo / "content/a.md"
    page.write_text(page.read_text().replace("## Two", "## Deux"))
    git(repo, "add", "-A")
    in_process.clear()
    now = Linter(config, active_rules(config), jobs=2)
    run_change(now, staged_changes(repo).under(repo))
    assert len(started) == 1 and started[0] is not None and in_process == []
    assert len(started[0]._lanes) == 1


def test_a_version_from_git_is_never_waited_for_from_a_child_reading_the_file(
    tmp_path: Path,
) -> None:
    """The child reading a file parses what is on disk: the run asking for a
    version from git's bytes of that path does not wait for it."""
    write_site(tmp_path, {"content/big.md": _big_page(4000).decode()})
    child = Ahead.start(tmp_path, ParseSettings(), (), [("content/big.md", None)])
    assert child is not None
    try:
        began = time.monotonic()
        assert child.take("content/big.md", store.content_hash(b"other bytes"), True) is None
        assert time.monotonic() - began < 0.5  # (the child is on it for a second)
    finally:
        child.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_child_holds_none_of_the_runs_output_and_is_stopped_with_it(tmp_path: Path) -> None:
    """Nor any other descriptor of the run's (a pipe a wrapper waits on, the cache)."""
    read_end, write_end = os.pipe()
    try:
        child = Ahead.start(tmp_path, ParseSettings(), (), [("content/big.md", _big_page(4000))])
        assert child is not None
        pid = child._pid
        theirs = os.readlink(f"/proc/self/fd/{write_end}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and theirs in _held(pid):
            time.sleep(0.01)
        assert theirs not in _held(pid)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert {os.readlink(f"/proc/{pid}/fd/{n}") for n in (0, 1, 2)} == {os.devnull}
    ahead.stop_all()  # (what the command's exit does: entry.py)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    assert ahead._RUNNING == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_versions_before_are_a_second_lane_that_dies_with_the_child(tmp_path: Path) -> None:
    """A commit's versions before it are parsed by the child's own child, at
    the same time as the pages (one import of the parser for both); stopping
    the child ends it too, even in the middle of a page."""
    write_site(tmp_path, {"content/big.md": _big_page(4000).decode()})
    small, big = _big_page(3), _big_page(12000)  # (about 3 s to parse)
    versions: list[tuple[str, bytes | None]] = [
        ("content/small.md", small),
        ("content/big.md", big),
    ]
    child = Ahead.start(tmp_path, ParseSettings(), (), [("content/big.md", None)], versions)
    assert child is not None and len(child._lanes) == 2
    try:
        deadline = time.monotonic() + 10
        second: set[int] = set()
        while time.monotonic() < deadline and not second:
            second = _descendants(child._pid)
            time.sleep(0.01)
        assert len(second) == 1, "no second lane"
        now = store.content_hash((tmp_path / "content/big.md").read_bytes())
        assert child.take("content/big.md", now, False) is not None
        parsed = child.take("content/small.md", store.content_hash(small), True)
        assert parsed is not None and parsed[4] == store.content_hash(small)
        assert _alive(second), "the second lane ended before its big page"
    finally:
        child.stop()
    assert _gone(second, within=0.5), f"left behind: {_alive(second)}"


def test_the_second_lane_outlives_the_first_lanes_end(tmp_path: Path) -> None:
    """The child waits for its own child: a version it still parses when the
    pages are done is not lost."""
    write_site(tmp_path, {"content/small.md": "---\ntitle: S\n---\n\nText.\n"})
    big = _big_page(6000)
    child = Ahead.start(
        tmp_path, ParseSettings(), (), [("content/small.md", None)], [("content/big.md", big)]
    )
    assert child is not None
    try:
        now = store.content_hash((tmp_path / "content/small.md").read_bytes())
        assert child.take("content/small.md", now, False) is not None
        assert child.take("content/big.md", store.content_hash(big), True) is not None
    finally:
        child.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_each_lanes_write_end_is_held_by_its_writer_only(tmp_path: Path) -> None:
    """Else the run could wait for the end of one lane that the other lane's
    writer holds open."""
    child = _two_lanes(tmp_path, 2000, 4000)
    try:
        second = _second_lane(child)
        time.sleep(0.2)  # (past the closes)
        pipes = [os.readlink(f"/proc/self/fd/{lane.fd}") for lane in child._lanes]
        assert pipes[0] in _held(child._pid) and pipes[1] not in _held(child._pid)
        assert pipes[1] in _held(second) and pipes[0] not in _held(second)
    finally:
        child.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_second_lane_ends_with_stop_and_is_reaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a parent-death signal (macOS) too, and reaped by the child, not
    left a zombie for init (which may never reap it in a container)."""
    from handbook_lint.engine import workers

    monkeypatch.setattr(workers, "die_with_parent", lambda: None)
    child = _two_lanes(tmp_path, 100, 8000)
    second = _second_lane(child)
    child.stop()
    assert _gone({second}, within=0.5), "the second lane outlived stop()"
    deadline = time.monotonic() + 0.5
    while Path(f"/proc/{second}").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not Path(f"/proc/{second}").exists(), "the second lane was left a zombie"


def _two_lanes(tmp_path: Path, page: int, version: int) -> Ahead:
    """A child parsing a page on disk, and in its second lane a version from git
    (each of that many parts)."""
    write_site(tmp_path, {"content/a.md": _big_page(page).decode()})
    versions: list[tuple[str, bytes | None]] = [("content/b.md", _big_page(version))]
    child = Ahead.start(tmp_path, ParseSettings(), (), [("content/a.md", None)], versions)
    assert child is not None
    return child


def _second_lane(child: Ahead) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = _descendants(child._pid)
        if found:
            return found.pop()
        time.sleep(0.01)
    raise AssertionError("no second lane")


def _held(pid: int) -> set[str]:
    """What a process's descriptors are (pipe:[inode], paths)."""
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            out.add(os.readlink(fd))
    return out


def test_no_child_while_threads_run_nor_from_a_forked_process(tmp_path: Path) -> None:
    """A fork copies no thread but the locks they hold: no child then. A check
    worker forked from the run holds a copy of the child's handle: it neither
    reads the run's pipe nor kills the run's child."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert Ahead.start(tmp_path, ParseSettings(), (), [("content/x.md", b"x")]) is None
    finally:
        stop.set()
        thread.join()
    big = _big_page(4000)
    digest = store.content_hash(big)
    child = Ahead.start(tmp_path, ParseSettings(), (), [("content/big.md", big)])
    assert child is not None
    try:
        worker = os.fork()
        if worker == 0:  # (a worker: takes nothing, stops nothing)
            code = 0 if child.take("content/big.md", digest, True) is None else 1
            child.stop()
            os._exit(code)
        _, status = os.waitpid(worker, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        parsed = child.take("content/big.md", digest, True)  # (the run's child was left alone)
        assert parsed is not None and parsed[4] == digest
    finally:
        child.stop()


def _big_page(parts: int) -> bytes:
    """A page that takes about a second to parse per 4,000 parts."""
    body = "".join(
        f"## Part {i}\n\n[x](/p{i}/) and *text* [link](#part-{i}).\n\n" for i in range(parts)
    )
    return f"---\ntitle: Big\n---\n\n{body}".encode()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_the_child_does_not_outlive_a_stopped_run(tmp_path: Path, signum: int) -> None:
    """A page that takes seconds to parse, its run stopped while the child parses it."""
    root = make(tmp_path)
    command = [sys.executable, "-m", "handbook_lint", "check", "--jobs", "2", "--format", "json"]
    subprocess.run(command, cwd=root, capture_output=True, check=False)
    body = "".join(
        f"## Part {i}\n\n[x](/p{i}/) and *text* with a [link](#part-{i}).\n\n" for i in range(20000)
    )
    write_site(root, {PAGE: f"---\ntitle: Big\n---\n\n{body}"})
    proc = subprocess.Popen(
        [*command, PAGE], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    children: set[int] = set()
    while time.monotonic() < deadline and not children:
        children = {pid for pid in _descendants(proc.pid) if _forked(pid)}
        time.sleep(0.01)
    assert children, "the run never started its child"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)  # (nothing holds its output open)
    assert proc.returncode == (143 if signum == signal.SIGTERM else -9), err.decode()
    assert "Traceback" not in err.decode()
    assert _gone(children, within=2), f"left behind: {_alive(children)}"
    # ... and the next run is right.
    again = subprocess.run([*command, PAGE], cwd=root, capture_output=True, check=False)
    clean = subprocess.run(
        [*command, "--no-cache", PAGE], cwd=root, capture_output=True, check=False
    )
    assert json.loads(again.stdout)["findings"] == json.loads(clean.stdout)["findings"]
