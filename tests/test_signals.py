"""Stopping a run: SIGTERM and Ctrl-C end it with 143 and 130 and no worker
left behind; SIGKILL of the run takes its workers with it; the next run is
correct. Real processes: the installed command on a site big enough to be
parsed in worker processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write_site

from handbook_lint.entry import GRACE_SECONDS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

COMMAND = [sys.executable, "-m", "handbook_lint", "check", "--jobs", "2", "--format", "json"]


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big")
    body = "".join(
        f"## Part {i}\n\n[x](/p{i}/) and text with a [link](#part-{i}).\n\n" for i in range(60)
    )
    files = {f"content/p{i}.md": f"---\ntitle: P{i}\n---\n\n{body}" for i in range(3000)}
    write_site(root, files, {})
    return root


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (from /proc's children lists)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":  # (a zombie is dead, waiting to be reaped)
            out.add(pid)
    return out


def _start_and_wait_for_workers(root: Path) -> tuple[subprocess.Popen[bytes], set[int]]:
    proc = subprocess.Popen(
        [*COMMAND, "--no-cache"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        workers = _descendants(proc.pid)
        time.sleep(0.02)
    assert len(workers) >= 2, "the run never started its workers"
    return proc, workers


def _gone(pids: set[int], within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not _alive(pids):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stopped_run_exits_128_plus_the_signal_and_leaves_no_worker(
    big_site: Path, signum: int, code: int
) -> None:
    proc, workers = _start_and_wait_for_workers(big_site)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err.decode()
    assert f"stopped ({signal.Signals(signum).name})" in err.decode()
    assert "Traceback" not in err.decode()
    assert _gone(workers), f"workers left: {_alive(workers)}"


def test_sigkill_of_the_run_takes_its_workers_and_the_next_run_is_right(big_site: Path) -> None:
    clean = subprocess.run([*COMMAND, "--no-cache"], cwd=big_site, capture_output=True, check=False)
    expected = json.loads(clean.stdout)["findings"]
    for delay in (0.0, 0.3, 0.8):
        proc, workers = _start_and_wait_for_workers(big_site)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        assert _gone(workers), f"workers outlived a SIGKILLed run: {_alive(workers)}"
    again = subprocess.run(COMMAND, cwd=big_site, capture_output=True, check=False)
    assert json.loads(again.stdout)["findings"] == expected


def test_a_second_signal_while_stopping_changes_nothing(big_site: Path) -> None:
    for _ in range(3):
        proc, workers = _start_and_wait_for_workers(big_site)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err.decode()
        assert "Traceback" not in err.decode() and "Exception ignored" not in err.decode()
        assert _gone(workers)


# A run whose every fork is followed at once by a Ctrl-C: the signal lands
# while os.fork runs its at-fork hooks in the parent.
_CTRL_C_AT_FORK = """
import os, signal, sys, time
FORKS = sys.argv[1]
def hit():
    with open(FORKS, "a") as forks:
        forks.write(f"{time.monotonic()}\\n")
    os.kill(os.getpid(), signal.SIGINT)
os.register_at_fork(after_in_parent=hit)
sys.argv = ["handbook-lint", *sys.argv[2:]]
from handbook_lint.entry import run
run()
"""


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--no-cache"], id="workers"),
        pytest.param(["content/p1.md", "content/p2.md"], id="parsed-ahead"),
    ],
)
def test_a_ctrl_c_during_a_fork_stops_the_run_at_once_with_no_child_left(
    big_site: Path, tmp_path: Path, args: list[str]
) -> None:
    """Held while a child is forked and recorded (workers.signals_held), the
    signal is not lost in the fork's hooks ("Exception ignored", and the run
    going on until the grace timer ended it) and no child outlives the run."""
    subprocess.run(COMMAND, cwd=big_site, capture_output=True, check=False)  # (a warm cache)
    page = big_site / "content/p1.md"
    page.write_text(page.read_text() + "\nOne more line.\n")
    forks = tmp_path / "forks"
    proc = subprocess.Popen(
        [sys.executable, "-c", _CTRL_C_AT_FORK, str(forks), *COMMAND[3:], *args],
        cwd=big_site,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    children: set[int] = set()
    while proc.poll() is None:
        children |= _descendants(proc.pid)
        time.sleep(0.001)
    ended = time.monotonic()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert forks.exists(), "the run forked nothing: the test tests nothing"
    # (not the grace timer's exit, 2 s after the signal: CLOCK_MONOTONIC is the
    # whole system's)
    assert ended - float(forks.read_text().split()[0]) < GRACE_SECONDS
    assert proc.returncode == 130, err
    assert "stopped (SIGINT)" in err
    assert "Exception ignored" not in err and "Traceback" not in err, err
    assert _gone(children, within=5), f"children left: {_alive(children)}"


# A run whose main thread stops but another thread never ends (as an external
# link's request that hangs): the interpreter's exit would wait for it.
_STUCK_THREAD = """
import os, signal, threading, time
from handbook_lint import entry
signal.signal(signal.SIGTERM, entry._stopped)
threading.Thread(target=time.sleep, args=(60,)).start()
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(60)
"""


def test_a_run_held_up_by_a_thread_ends_after_the_grace_time() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _STUCK_THREAD], capture_output=True, text=True, timeout=30
    )
    took = time.monotonic() - started
    assert done.returncode == 143, done.stderr
    assert "stopped (SIGTERM)" in done.stderr and "Traceback" not in done.stderr
    assert GRACE_SECONDS <= took < GRACE_SECONDS + 5
