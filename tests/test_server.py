"""`handbook-lint serve`: runs handed to it print, write and exit as runs of
their own process do; it stops on signals, when idle, and when the client runs
other code; without it (or with a dead socket) runs go on by themselves.
Real processes: the server and its clients, over a real Unix socket."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import write_site
from gitrepo import git
from test_signals import _alive, _descendants

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="a server needs Linux (fork, SCM_RIGHTS)"
)

LINT = [sys.executable, "-m", "handbook_lint"]


def _env(sock: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HANDBOOK_LINT_NO_SERVER"}
    return {**env, "HANDBOOK_LINT_SOCKET": str(sock), **more}


def _alone(**more: str) -> dict[str, str]:
    return {**os.environ, "HANDBOOK_LINT_NO_SERVER": "1", **more}


class Server:
    def __init__(self, sock: Path, *args: str) -> None:
        self.sock = sock
        self.proc = subprocess.Popen(
            [*LINT, "serve", "--socket", str(sock), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(sock),
        )
        deadline = time.monotonic() + 30
        while not self.listening():
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.monotonic() < deadline, "the server never listened"
            time.sleep(0.02)

    def listening(self) -> bool:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(self.sock))
        except OSError:
            return False
        finally:
            probe.close()
        return True

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # (no server outlives its test)
            self.proc.communicate()
            raise
        return self.proc.returncode, err


@pytest.fixture
def sock(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    return folder / "server.sock"


@pytest.fixture
def server(sock: Path) -> Iterator[Server]:
    started = Server(sock)
    yield started
    started.stop()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with the site in a subfolder: a broken link and a
    misspelt one, committed, then a page edited and staged."""
    top = tmp_path / "repo"
    site = top / "docs"
    write_site(
        site,
        {
            "content/_index.md": "---\ntitle: Home\n---\n\n# Home\n\nSee [the team](/team/).\n",
            "content/team.md": "---\ntitle: Team\n---\n\n# Team\n\n## Values\n\nText.\n",
            "content/about.md": "---\ntitle: About\n---\n\n# About\n\n[x](/nowhere/#top)\n",
        },
        {},
    )
    (site / "hugo.toml").write_text('title = "t"\n', encoding="utf-8")
    git(top, "init", "-q")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "site")
    page = site / "content" / "team.md"
    page.write_text(page.read_text("utf-8") + "\n[Values](#valeus)\n", encoding="utf-8")
    git(top, "add", "-A")
    return top


COMMANDS = [
    ("docs", ["check"]),
    ("docs", ["check", "--format", "json"]),
    ("docs", ["check", "content/team.md", "--no-color"]),
    ("docs/content", ["check", "--staged"]),
    ("docs", ["check", "no/such/path.md"]),
    ("docs", ["check", "--format", "nonsense"]),
    ("docs", ["explain", "link-broken"]),
    (".", ["rules", "--config", "docs/.handbook-lint.yaml"]),
]


@pytest.mark.parametrize(("where", "args"), COMMANDS)
def test_a_served_run_prints_and_exits_as_a_run_of_its_own(
    server: Server, repo: Path, where: str, args: list[str]
) -> None:
    alone = subprocess.run(
        [*LINT, *args], cwd=repo / where, capture_output=True, env=_alone(), check=False
    )
    served = subprocess.run(
        [*LINT, *args], cwd=repo / where, capture_output=True, env=_env(server.sock), check=False
    )
    assert (served.returncode, served.stdout, served.stderr) == (
        alone.returncode,
        alone.stdout,
        alone.stderr,
    )
    assert alone.returncode in (0, 1, 2)


def test_a_served_run_is_run_by_the_server_not_by_the_client(server: Server, repo: Path) -> None:
    """The client imports no part of the linter (`-X importtime` lists what
    the client's process imports; the server's copy imported it all before)."""
    served = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "handbook_lint", "check", "--format", "json"],
        cwd=repo / "docs",
        capture_output=True,
        text=True,
        env=_env(server.sock),
        check=False,
    )
    assert served.returncode == 1
    assert "handbook_lint.client" in served.stderr
    assert "handbook_lint.cli" not in served.stderr.replace("handbook_lint.client", "")
    rules = {f["rule"] for f in json.loads(served.stdout)["findings"]}
    assert rules == {"link-broken", "link-anchor-missing"}, rules
    alone = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "handbook_lint", "check", "--format", "json"],
        cwd=repo / "docs",
        capture_output=True,
        text=True,
        env=_alone(),
        check=False,
    )
    assert "handbook_lint.cli" in alone.stderr.replace("handbook_lint.client", "")


def test_a_served_run_takes_the_clients_environment_umask_and_fixes_files(
    server: Server, tmp_path: Path
) -> None:
    root = write_site(
        tmp_path / "site",
        {"content/list.md": "---\ntitle: L\n---\n\n# L\n\n1. a\n1. b\n3. c\n"},
        {"rules": {"list-numbering": {"style": "ordered"}}},
    )
    before = (root / "content/list.md").read_text("utf-8")
    done = subprocess.run(
        ["sh", "-c", "umask 077 && exec " + " ".join(LINT) + " check --fix --format json"],
        cwd=root,
        capture_output=True,
        env=_env(server.sock, HANDBOOK_LINT_PROGRESS_DELAY="0"),
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    after = (root / "content/list.md").read_text("utf-8")
    assert after != before and "2. b" in after
    # (a file the run made has the client's umask, not the server's)
    cache = root / ".handbook-lint-cache"
    made = [p for p in cache.rglob("*") if p.is_file()]
    assert made and all(p.stat().st_mode & 0o077 == 0 for p in made), [
        oct(p.stat().st_mode) for p in made
    ]


def test_ctrl_c_of_a_client_stops_its_run_in_the_server(server: Server, tmp_path: Path) -> None:
    body = "".join(f"## Part {i}\n\n[x](/p{i}/) and [y](#part-{i}).\n\n" for i in range(60))
    files = {f"content/p{i}.md": f"---\ntitle: P{i}\n---\n\n{body}" for i in range(1500)}
    root = write_site(tmp_path / "big", files, {})
    client = subprocess.Popen(
        [*LINT, "check", "--no-cache", "-j", "2", "--format", "json"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(server.sock),
    )
    deadline = time.monotonic() + 60
    runs: set[int] = set()
    while time.monotonic() < deadline and len(runs) < 3:  # (the run and its 2 workers)
        runs = _descendants(server.proc.pid)
        time.sleep(0.02)
    assert len(runs) >= 3, "the run never started its workers"
    client.send_signal(signal.SIGINT)
    out, err = client.communicate(timeout=30)
    assert client.returncode == 130
    assert b"stopped (SIGINT)" in err
    assert out == b""
    deadline = time.monotonic() + 10
    while _alive(runs) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(runs), "the run or its workers outlived the client's Ctrl-C"
    assert server.proc.poll() is None  # (the server goes on)
    again = subprocess.run(
        [*LINT, "check", "-q", "content/p1.md"], cwd=root, env=_env(server.sock), check=False
    )
    assert again.returncode == 0  # (its links all resolve)


def test_sigterm_stops_the_server_its_runs_and_removes_its_socket(sock: Path, repo: Path) -> None:
    server = Server(sock)
    code, err = server.stop()
    assert code == 128 + signal.SIGTERM
    assert "stopped (SIGTERM)" in err
    assert not sock.exists()
    after = subprocess.run(
        [*LINT, "check", "-q"], cwd=repo / "docs", env=_env(sock), capture_output=True, check=False
    )
    assert after.returncode == 1 and after.stderr == b""


def test_an_idle_server_stops_by_itself(sock: Path) -> None:
    server = Server(sock, "--idle-timeout", "0.3")
    server.proc.wait(timeout=30)
    code, err = server.stop()
    assert code == 0
    assert "no run for 0.3 s" in err
    assert not sock.exists()


def test_a_client_of_other_code_runs_by_itself_and_the_server_stops(
    server: Server, repo: Path
) -> None:
    """A file of the package changed since the server started (an upgrade, an
    edited checkout): the server would not run what the client would."""
    import handbook_lint

    marker = Path(handbook_lint.__file__).parent / "py.typed"
    st = marker.stat()
    os.utime(marker, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    try:
        done = subprocess.run(
            [*LINT, "check", "--format", "json"],
            cwd=repo / "docs",
            capture_output=True,
            env=_env(server.sock),
            check=False,
        )
    finally:
        os.utime(marker, ns=(st.st_atime_ns, st.st_mtime_ns))
    alone = subprocess.run(
        [*LINT, "check", "--format", "json"],
        cwd=repo / "docs",
        capture_output=True,
        env=_alone(),
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (1, alone.stdout, alone.stderr)
    server.proc.wait(timeout=30)
    code, err = server.stop()
    assert code == 0 and "code changed since the server started: stopping" in err
    assert not server.sock.exists()


def test_a_client_of_another_install_runs_by_itself_and_the_server_goes_on(
    server: Server, repo: Path, tmp_path: Path
) -> None:
    """pre-commit's own environment, say: the same code elsewhere is another
    stamp (its dependencies may differ too), so the client runs by itself."""
    import shutil

    import handbook_lint

    other = tmp_path / "elsewhere"
    shutil.copytree(Path(handbook_lint.__file__).parent, other / "handbook_lint")
    path = os.pathsep.join(filter(None, [str(other), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [*LINT, "check", "--format", "json"],
        cwd=repo / "docs",
        capture_output=True,
        env=_env(server.sock, PYTHONPATH=path),
        check=False,
    )
    alone = subprocess.run(
        [*LINT, "check", "--format", "json"],
        cwd=repo / "docs",
        capture_output=True,
        env=_alone(),
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (1, alone.stdout, alone.stderr)
    time.sleep(1.0)  # (the server's loop looks at its runs twice a second)
    assert server.proc.poll() is None and server.listening()


def test_a_verbose_server_says_each_run(sock: Path, repo: Path) -> None:
    server = Server(sock, "--verbose")
    subprocess.run(
        [*LINT, "check", "-q", "--staged"], cwd=repo / "docs", env=_env(sock), check=False
    )
    _, err = server.stop()
    assert re.search(r"handbook-lint: run \d+: check -q --staged \(in .*/docs\)\n", err), err


def test_a_socket_nobody_listens_at_is_no_server(sock: Path, repo: Path) -> None:
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(sock))
    dead.close()  # (the file stays, no one listens)
    done = subprocess.run(
        [*LINT, "check", "-q"], cwd=repo / "docs", env=_env(sock), capture_output=True, check=False
    )
    assert done.returncode == 1 and done.stderr == b""
    server = Server(sock)  # (a new server takes the dead socket's place)
    assert server.stop()[0] == 128 + signal.SIGTERM


def test_a_second_server_on_the_same_socket_is_refused(server: Server) -> None:
    second = subprocess.run(
        [*LINT, "serve", "--socket", str(server.sock)],
        capture_output=True,
        text=True,
        env=_env(server.sock),
        check=False,
    )
    assert second.returncode == 2
    assert f"a server already listens at {server.sock}" in second.stderr
    assert server.listening()


def test_a_socket_folder_others_may_enter_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    done = subprocess.run(
        [*LINT, "serve", "--socket", str(folder / "s.sock")],
        capture_output=True,
        text=True,
        env=_alone(),
        check=False,
    )
    assert done.returncode == 2
    assert "must be this user's alone" in done.stderr
    assert "Traceback" not in done.stderr
