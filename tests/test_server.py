"""`handbook-lint serve`: runs handed to it print, write and exit as runs of
their own process do; it stops on signals, when idle, and when the client runs
other code; without it (or with a dead socket) runs go on by themselves.
Real processes: the server and its clients, over a real Unix socket."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from subprocess import Popen

import pytest
from conftest import python_output, write_site
from gitrepo import git
from test_signals import _alive, _descendants

from handbook_lint import client
from handbook_lint.server import _request

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="a server needs Linux (fork, SCM_RIGHTS)"
)

LINT = [sys.executable, "-m", "handbook_lint"]


def _env(sock: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HANDBOOK_LINT_NO_SERVER"}
    return {**env, "HANDBOOK_LINT_SOCKET": str(sock), **more}


def _alone(**more: str) -> dict[str, str]:
    return {**os.environ, "HANDBOOK_LINT_NO_SERVER": "1", **more}


def _check_json(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """`check --format json` in `cwd` (served, or alone, by `env`)."""
    return subprocess.run(
        [*LINT, "check", "--format", "json"], cwd=cwd, capture_output=True, env=env, check=False
    )


def _elsewhere(tmp_path: Path) -> str:
    """An import path with a copy of the package first: another installation."""
    import shutil

    import handbook_lint

    other = tmp_path / "elsewhere"
    shutil.copytree(Path(handbook_lint.__file__).parent, other / "handbook_lint")
    return os.pathsep.join(filter(None, [str(other), os.environ.get("PYTHONPATH", "")]))


class Server:
    """`handbook-lint serve --socket sock ARGS`, once it listens; `cwd`: started
    there; `through`: started by that command (a shell closing descriptors)."""

    def __init__(
        self,
        sock: Path,
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        through: tuple[str, ...] = (),
    ) -> None:
        self.sock = sock
        self.ended: tuple[int, str] | None = None
        self.proc = subprocess.Popen(
            [*through, *LINT, "serve", "--socket", str(sock), *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(sock, **(env or {})),
        )
        deadline = time.monotonic() + 30
        while not self.listening():  # (the socket file comes at bind, before listen)
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.monotonic() < deadline, "the server never listened"
            time.sleep(0.02)

    def listening(self) -> bool:
        return client.listening(str(self.sock))

    def stop(self) -> tuple[int, str]:
        """Its exit code and what it printed (SIGTERM first, if it still runs)."""
        if self.ended is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                _, err = self.proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # (no server outlives its test)
                self.proc.communicate()
                raise
            self.ended = (self.proc.returncode, err)
        return self.ended

    def runs_said(self) -> int:
        """Stop it, and count the runs it took (a verbose server says each)."""
        return len(re.findall(r"handbook-lint: run \d+: ", self.stop()[1]))


@pytest.fixture
def sock(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    return folder / "server.sock"


@pytest.fixture
def server(sock: Path) -> Iterator[Server]:
    started = Server(sock, "--verbose")
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


def _big(tmp_path: Path) -> Path:
    """A site whose cold run takes seconds, in 2 workers."""
    files = {
        f"content/p{i}.md": f"---\ntitle: P{i}\n---\n\n# P{i}\n\n" + "Text. " * 3000
        for i in range(1500)
    }
    return write_site(tmp_path / "big", files, {})


def _launch(
    sock: Path, root: Path, *args: str, env: dict[str, str] | None = None, group: int = -1
) -> Popen[bytes]:
    """A client of the server at `sock`: a cold run of `root` in 2 workers
    (`group` 0: in a process group of its own)."""
    return subprocess.Popen(
        [*LINT, "check", "--no-cache", "-j", "2", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(sock, **(env or {})),
        process_group=group,
    )


def _started(server: Server) -> set[int]:
    """The run's processes once its 2 workers started (a probe's copy is no run)."""
    deadline = time.monotonic() + 60
    runs: set[int] = set()
    while time.monotonic() < deadline and len(runs) < 3:
        runs = _descendants(server.proc.pid)
        time.sleep(0.02)
    assert len(runs) >= 3, "the run never started its workers"
    return runs


def _gone(runs: set[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(runs) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(runs)


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
    assert server.runs_said() == 1  # (the run was the server's, not the client's own)


def test_a_served_run_is_run_by_the_server_not_by_the_client(server: Server, repo: Path) -> None:
    """The client imports no part of the linter (PYTHONPROFILEIMPORTTIME lists
    what the client's process imports; the server's copy imported it all before)."""
    timed = {"PYTHONPROFILEIMPORTTIME": "1"}
    served = subprocess.run(
        [*LINT, "check", "--format", "json"],
        cwd=repo / "docs",
        capture_output=True,
        text=True,
        env=_env(server.sock, **timed),
        check=False,
    )
    assert served.returncode == 1
    assert "handbook_lint.client" in served.stderr
    assert "handbook_lint.cli" not in served.stderr.replace("handbook_lint.client", "")
    rules = {f["rule"] for f in json.loads(served.stdout)["findings"]}
    assert rules == {"link-broken", "link-anchor-missing"}, rules
    alone = subprocess.run(
        [*LINT, "check", "--format", "json"],
        cwd=repo / "docs",
        capture_output=True,
        text=True,
        env=_alone(**timed),
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
    assert server.runs_said() == 1


def test_ctrl_c_of_a_client_stops_its_run_in_the_server(server: Server, tmp_path: Path) -> None:
    root = _big(tmp_path)
    client = _launch(server.sock, root, "--format", "json")
    runs = _started(server)
    client.send_signal(signal.SIGINT)
    out, err = client.communicate(timeout=30)
    assert client.returncode == 130
    assert b"stopped (SIGINT)" in err
    assert out == b""
    assert _gone(runs, 10), "the run or its workers outlived the client's Ctrl-C"
    assert server.proc.poll() is None  # (the server goes on)
    again = subprocess.run(
        [*LINT, "check", "-q", "content/p1.md"], cwd=root, env=_env(server.sock), check=False
    )
    assert again.returncode == 0


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
    server = Server(sock, "--idle-timeout", "2")
    server.proc.wait(timeout=30)
    code, err = server.stop()
    assert code == 0
    assert "no run for 2 s" in err
    assert not sock.exists()


def _changing_code(sock: Path, tmp_path: Path) -> tuple[Server, Path, Path, dict[str, str]]:
    """A server whose imports come first from `extra` (a folder of PYTHONPATH:
    a file added there changes its code), and a site whose cold run takes
    seconds; and the environment its clients need."""
    extra = tmp_path / "extra"
    extra.mkdir()
    more = {"PYTHONPATH": os.pathsep.join(filter(None, [str(extra), os.environ.get("PYTHONPATH")]))}
    server = Server(sock, "--verbose", env=more)
    body = "".join(f"## Part {i}\n\n[x](/p{i}/) and [y](#part-{i}).\n\n" for i in range(60))
    files = {f"content/p{i}.md": f"---\ntitle: P{i}\n---\n\n{body}" for i in range(800)}
    return server, write_site(tmp_path / "site", files, {}), extra, more


def test_a_server_whose_code_changed_stops_listening_and_lets_its_runs_finish(
    sock: Path, tmp_path: Path
) -> None:
    """A package installed where imports come from (a folder of PYTHONPATH
    here; pip in site-packages alike) changes what runs would import: a client
    then runs by itself, the server stops taking runs, and the run under way
    ends as it would have, not stopped."""
    server, root, extra, more = _changing_code(sock, tmp_path)
    long = _launch(sock, root, "-q", env=more)
    _started(server)
    (extra / "new_package.py").write_text("", "utf-8")  # (the folder changed)
    by_itself = subprocess.run(
        [*LINT, "check", "-q", "content/p1.md"],
        cwd=root,
        capture_output=True,
        env=_env(sock, **more),
        check=False,
    )
    assert (by_itself.returncode, by_itself.stderr) == (0, b"")
    server.proc.wait(timeout=60)
    out, err = long.communicate(timeout=60)
    assert (long.returncode, out, err) == (0, b"", b""), err
    code, log = server.stop()
    assert code == 0, log
    assert re.search(r"run \d+: check --no-cache -j 2 -q ", log), log  # (the server's run)
    assert "code changed since the server started: stopping" in log
    assert not sock.exists()


def test_a_client_of_another_install_runs_by_itself_and_the_server_goes_on(
    server: Server, repo: Path, tmp_path: Path
) -> None:
    """pre-commit's own environment, say: the same code elsewhere is another
    stamp (its dependencies may differ too), so the client runs by itself."""
    done = _check_json(repo / "docs", _env(server.sock, PYTHONPATH=_elsewhere(tmp_path)))
    alone = _check_json(repo / "docs", _alone())
    assert (done.returncode, done.stdout, done.stderr) == (1, alone.stdout, alone.stderr)
    time.sleep(1.0)  # (the server's loop looks at its runs twice a second)
    assert server.proc.poll() is None and server.listening()
    _, log = server.stop()
    assert "a run left to its client: another installation" in log
    assert not re.search(r"handbook-lint: run \d+: ", log)


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


# A client asks a "server" (the test) that answers as another installation's
# would (`S`): the whole handshake up to the run's hand-over, then the
# descriptors sent as to a server that takes the run.
_CLIENT = """
import sys
heavy = {heavy!r}
from handbook_lint import client, entry
import _socket
assert client.delegate(["handbook-lint", "check"]) is None
one, two = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
client.send_fds(one, b"G", [0, 1, 2])
print(sorted(m for m in heavy if m in sys.modules))
"""


def test_a_client_imports_little_to_hand_its_run_over(tmp_path: Path) -> None:
    """What a served run's own process imports is its start-up: none of the
    standard modules that import enum, collections or selectors (15 ms).
    Without `site` (-S), which imports some of them in some installations."""
    heavy = ["signal", "socket", "contextlib", "threading", "struct", "enum", "collections"]
    heavy += ["selectors", "functools", "typing", "re", "json"]
    folder = tmp_path / "sock"
    folder.mkdir(mode=0o700)
    path = str(folder / "s.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    import handbook_lint

    env = {**_env(Path(path)), "PYTHONPATH": str(Path(handbook_lint.__file__).parents[1])}
    child = Popen(
        [sys.executable, "-S", "-c", _CLIENT.format(heavy=heavy)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        listener.settimeout(30)
        conn, _ = listener.accept()
        with conn:
            asked = _request(conn)
            assert (
                asked is not None
                and asked["argv"] == ["handbook-lint", "check"]
                and asked["cwd"] == os.getcwd()
            )
            conn.sendall(b"S\n")  # (another installation's: the client runs it)
        out, err = child.communicate(timeout=30)
    finally:
        listener.close()
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    assert out.strip() == "[]", out


def test_the_server_compiles_the_spelling_patterns_runs_use() -> None:
    code = (
        "from handbook_lint import server\n"
        "from handbook_lint.checks import speller\n"
        "server.warm()\n"
        "print(speller.patterns.cache_info().currsize)\n"
    )
    assert python_output(code) == "1"


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
    assert "must be a folder of this user's alone" in done.stderr
    assert "Traceback" not in done.stderr


def _two_copies(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path]:
    return (write_site(tmp_path / "a", files, {}), write_site(tmp_path / "b", files, {}))


def _tree(root: Path) -> list[tuple[str, int]]:
    """Every file and folder under `root`: its path and mode."""
    return sorted((p.relative_to(root).as_posix(), p.stat().st_mode) for p in root.rglob("*"))


def test_a_served_run_writes_the_files_a_run_of_its_own_writes(
    server: Server, tmp_path: Path
) -> None:
    """The cache folder (facts, codespell's keys, its .gitignore) and a fix,
    byte for byte where they are not a database, with the same names and modes."""
    page = "---\ntitle: L\n---\n\n# L\n\nSee [our misson](/l/).\n\n1. a\n3. b\n"
    served_root, alone_root = _two_copies(tmp_path, {"content/l.md": page})
    command = [*LINT, "check", "--fix", "--format", "json"]
    served = subprocess.run(
        command, cwd=served_root, capture_output=True, env=_env(server.sock), check=False
    )
    alone = subprocess.run(command, cwd=alone_root, capture_output=True, env=_alone(), check=False)
    assert (served.returncode, served.stdout, served.stderr) == (
        alone.returncode,
        alone.stdout,
        alone.stderr,
    )
    assert _tree(served_root) == _tree(alone_root)
    assert any("codespell-keys" in name for name, _ in _tree(served_root)), _tree(served_root)
    fixed = (served_root / "content/l.md").read_text("utf-8")
    assert fixed == (alone_root / "content/l.md").read_text("utf-8")
    assert "mission" in fixed and "2. b" in fixed
    for name, _ in _tree(alone_root):
        if name.endswith((".gitignore", ".marshal")):
            assert (served_root / name).read_bytes() == (alone_root / name).read_bytes(), name
    assert server.runs_said() == 1


@pytest.mark.parametrize(
    "env",
    [
        {"FORCE_COLOR": "1"},
        {"NO_COLOR": "1"},
        {"PYTHONUNBUFFERED": "1"},
        {"PYTHONIOENCODING": "latin-1"},
    ],
)
def test_a_served_run_takes_the_clients_environment_and_streams(
    server: Server, repo: Path, env: dict[str, str]
) -> None:
    """Output that depends on the environment (colour, a stream's buffering
    and encoding) is the client's: stdout and stderr merged, as pre-commit
    reads them, come in the same order."""
    command = ["sh", "-c", " ".join(LINT) + " check content/about.md content/team.md 2>&1"]
    served = subprocess.run(
        command, cwd=repo / "docs", capture_output=True, env=_env(server.sock, **env), check=False
    )
    alone = subprocess.run(
        command, cwd=repo / "docs", capture_output=True, env=_alone(**env), check=False
    )
    assert (served.returncode, served.stdout) == (alone.returncode, alone.stdout)
    assert (b"\x1b[" in served.stdout) == ("FORCE_COLOR" in env)
    assert server.runs_said() == 1


def test_two_clients_at_once_get_their_own_runs(server: Server, repo: Path) -> None:
    commands = [
        [*LINT, "check", "--format", "json", "content/about.md"],
        [*LINT, "check", "--format", "json", "content/team.md"],
    ]
    running = [
        subprocess.Popen(
            c,
            cwd=repo / "docs",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(server.sock),
        )
        for c in commands
    ]
    served = [(p.communicate(timeout=60), p.returncode) for p in running]
    for command, ((out, err), code) in zip(commands, served, strict=True):
        alone = subprocess.run(
            command, cwd=repo / "docs", capture_output=True, env=_alone(), check=False
        )
        assert (code, out, err) == (alone.returncode, alone.stdout, alone.stderr)
    assert server.runs_said() == 2


def test_a_closed_standard_input_is_no_server_run(server: Server, repo: Path) -> None:
    command = ["sh", "-c", " ".join(LINT) + " check -q 0<&-"]
    served = subprocess.run(
        command, cwd=repo / "docs", capture_output=True, env=_env(server.sock), check=False
    )
    assert (served.returncode, served.stderr) == (1, b"")
    assert server.runs_said() == 0  # (its descriptors could not be passed: it ran by itself)


def test_sigterm_to_the_server_stops_its_runs_as_sigterm_stops_a_run(
    sock: Path, tmp_path: Path
) -> None:
    server = Server(sock)
    running = _launch(sock, _big(tmp_path), "--format", "json")
    _started(server)
    code, _ = server.stop()
    out, err = running.communicate(timeout=30)
    assert code == 128 + signal.SIGTERM
    assert running.returncode == 128 + signal.SIGTERM
    assert b"stopped (SIGTERM)" in err and out == b""


def test_a_client_killed_takes_its_run_with_it(server: Server, tmp_path: Path) -> None:
    running = _launch(server.sock, _big(tmp_path), "-q")
    runs = _started(server)
    running.kill()
    running.communicate(timeout=30)
    # (2 s: the run alone would take longer)
    assert _gone(runs, 2), "the run or its workers outlived their client"
    assert server.proc.poll() is None


def test_a_server_that_does_not_answer_is_left_and_ctrl_c_still_stops(
    server: Server, repo: Path
) -> None:
    """A server stopped (Ctrl-Z, SIGSTOP) takes no run: a client waits for it
    a few seconds, then runs by itself; a client stopped while it waits ends as
    Ctrl-C ends a run, and the server, once it goes on, runs neither."""
    page = repo / "docs" / "content" / "list.md"
    page.write_text("---\ntitle: L\n---\n\n# L\n\n1. a\n3. b\n", "utf-8")
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        waited = subprocess.run(
            [*LINT, "check", "-q", "content/about.md"],
            cwd=repo / "docs",
            capture_output=True,
            env=_env(server.sock),
            check=False,
        )
        assert time.monotonic() - start >= 4.5  # (HANDSHAKE_SECONDS)
        assert (waited.returncode, waited.stderr) == (1, b"")
        stopped = subprocess.Popen(
            [*LINT, "check", "--fix", "content/list.md"],
            cwd=repo / "docs",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(server.sock),
        )
        time.sleep(2.0)  # (it waits for the server)
        stopped.send_signal(signal.SIGINT)
        _, err = stopped.communicate(timeout=30)
        assert stopped.returncode == 130
        assert b"stopped (SIGINT)" in err
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
    time.sleep(2.0)  # (the server takes the connections it had waiting)
    assert "2. b" not in page.read_text("utf-8")  # (no run fixed it)
    assert server.runs_said() == 0


def test_sighup_of_a_client_kills_it_and_its_run_as_it_kills_a_run(
    server: Server, tmp_path: Path
) -> None:
    client = _launch(server.sock, _big(tmp_path), "-q")
    runs = _started(server)
    client.send_signal(signal.SIGHUP)
    client.communicate(timeout=30)
    assert client.returncode == -signal.SIGHUP  # (killed by it, as a run of its own is)
    assert _gone(runs, 5)


def test_ctrl_z_of_a_client_stops_its_run_and_fg_goes_on(server: Server, tmp_path: Path) -> None:
    # (in a process group of its own under this one's session: a group that is
    # not orphaned, where Ctrl-Z stops a process, as in a shell; the kernel
    # ignores it in an orphaned one, in process and served alike)
    client = _launch(server.sock, _big(tmp_path), "--format", "json", group=0)
    runs = _started(server)
    client.send_signal(signal.SIGTSTP)
    time.sleep(0.5)

    def state(pid: int) -> str:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]

    assert state(client.pid) == "T"
    assert {state(pid) for pid in _alive(runs)} == {"T"}  # (the run and its workers)
    client.send_signal(signal.SIGCONT)
    out, err = client.communicate(timeout=120)
    assert (client.returncode, err) == (0, b""), err
    assert json.loads(out)["findings"] == []


@pytest.mark.skipif(not os.path.exists("/usr/bin/taskset"), reason="needs taskset")
def test_a_served_run_may_use_the_cpus_its_client_may(server: Server, repo: Path) -> None:
    command = ["taskset", "-c", "0", *LINT, "check", "-q", "--stats"]
    served = subprocess.run(
        command, cwd=repo / "docs", capture_output=True, env=_env(server.sock), check=False
    )
    alone = subprocess.run(
        command, cwd=repo / "docs", capture_output=True, env=_alone(), check=False
    )
    assert (served.returncode, served.stdout, served.stderr) == (
        alone.returncode,
        alone.stdout,
        alone.stderr,
    )
    assert b"1 (the CPUs this run may use)" in served.stdout + served.stderr
    assert server.runs_said() == 1


@pytest.mark.parametrize("closed", ["<&- >&- 2>&-", "<&- >&-"])
def test_a_server_started_with_its_standard_descriptors_closed_still_serves(
    sock: Path, repo: Path, closed: str
) -> None:
    """Its socket would have been descriptor 0, and a run's connection 1 or 2,
    which the run replaces with its client's; Python made no stream for them
    (its flushes before each fork failed): they are /dev/null instead."""
    server = Server(sock, "-v", through=("sh", "-c", f'exec "$@" {closed}', "sh"))
    try:
        closed_fds = (0, 1, 2) if "2>&-" in closed else (0, 1)
        standard = [os.readlink(f"/proc/{server.proc.pid}/fd/{fd}") for fd in closed_fds]
        assert standard == [os.devnull] * len(closed_fds)
        runs = [_check_json(repo / "docs", env) for env in (_env(sock), _env(sock), _alone())]
        assert server.proc.poll() is None, "the server ended with a run"
    finally:
        code, log = server.stop()
    alone = runs[-1]
    for served in runs[:-1]:
        assert (served.returncode, served.stdout, served.stderr) == (
            1,
            alone.stdout,
            alone.stderr,
        )
    assert code == 143
    if "2>&-" not in closed:  # (its log: the runs were its)
        assert len(re.findall(r"handbook-lint: run \d+: ", log)) == 2, log


# A yaml.py that says it was imported, and stays the `yaml` of the process,
# passing everything on to the real one.
_OWN_YAML = """
import os, sys
sys.stderr.write("the yaml.py of this folder\\n")
here = os.path.dirname(os.path.abspath(__file__))
me, kept = sys.modules["yaml"], list(sys.path)
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != here]
del sys.modules["yaml"]
import yaml as _real
sys.path[:] = kept
sys.modules["yaml"] = me
__path__ = _real.__path__
def __getattr__(name):
    return getattr(_real, name)
"""


WHOSE = ["client", "server", "both, after it started", "both, gone after it started", "frozen"]


@pytest.mark.parametrize("whose", WHOSE)
def test_a_module_in_the_first_import_folder_of_one_side_only_is_no_server_run(
    tmp_path: Path, sock: Path, repo: Path, whose: str
) -> None:
    """`python -m` puts the working directory first on the import path, and the
    stamp leaves that folder out: a yaml.py in the client's (or the server's;
    or in the folder of both, written, or removed, after the server imported
    its yaml) makes the client run by itself, as the server's code is not the
    client's. An os.py is no reason (os is frozen: no folder replaces it)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    docs = repo / "docs"
    server_in = docs if whose.startswith("both") else elsewhere
    if whose == "frozen":
        (docs / "os.py").write_text("raise SystemExit('the os.py of this folder')\n")
    elif whose != "both, after it started":
        where = elsewhere if whose == "server" else docs
        (where / "yaml.py").write_text(_OWN_YAML, encoding="utf-8")
    server = Server(sock, "--verbose", cwd=server_in)
    try:
        if whose == "both, after it started":
            # (the folder's time kept, as rsync -a or tar leave it: only a look
            # anew at the folder sees the file)
            before = docs.stat()
            (docs / "yaml.py").write_text(_OWN_YAML, encoding="utf-8")
            os.utime(docs, ns=(before.st_atime_ns, before.st_mtime_ns))
        elif whose == "both, gone after it started":
            (docs / "yaml.py").unlink()
        done = _check_json(docs, _env(sock))
    finally:
        _, log = server.stop()
    alone = _check_json(docs, _alone())
    assert (done.returncode, done.stdout, done.stderr) == (1, alone.stdout, alone.stderr)
    served = len(re.findall(r"handbook-lint: run \d+: ", log))
    if whose == "frozen":
        assert served == 1 and "a run left to its client" not in log, log
        return
    mine = whose in ("client", "both, after it started")
    assert (b"the yaml.py of this folder" in done.stderr) == mine
    assert served == 0, log
    reason = {
        "client": f"{(docs / 'yaml.py').resolve()} would be the client's yaml, not the server's",
        "server": "the server imported yaml from its own first import folder",
        "both, after it started": f"{(docs / 'yaml.py').resolve()} would be the client's yaml",
        "both, gone after it started": "the server imported yaml from its own first import",
    }[whose]
    assert f"a run left to its client: {reason}" in log, log


def _holder_socket(sock: Path, cwd: Path) -> Path:
    """Where the server's holder of `cwd`'s site listens (client.holder_path)."""
    st = os.stat(cwd)
    return Path(f"{sock}.{st.st_dev}-{st.st_ino}")


def _held(sock: Path, cwd: Path) -> Path:
    """The holder's socket, once it listens (it loads the site first)."""
    held = _holder_socket(sock, cwd)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(held))
            return held
        except OSError:
            time.sleep(0.05)
        finally:
            probe.close()
    raise AssertionError("no holder of the site listened")


def test_the_runs_after_the_first_reuse_the_site_and_find_what_runs_of_their_own_find(
    server: Server, repo: Path
) -> None:
    """After a `check`, the server keeps the folder's site loaded (a holder):
    the runs it makes from it reuse what did not change, and find what a run
    of its own finds after edits, a new page, a deleted one, a new config."""
    docs = repo / "docs"
    # (what changed in the last 2 s is never kept, walk.RACY_SECONDS: then
    # nothing of the repository just written would be reused)
    time.sleep(2.1)
    first = _check_json(docs, _env(server.sock))
    assert first.returncode == 1
    _held(server.sock, docs)
    content = docs / "content"

    def same(*args: str) -> None:
        command = [*LINT, "check", "--format", "json", *args]
        served = subprocess.run(command, cwd=docs, capture_output=True, env=_env(server.sock))
        # (without the cache, whose results the served run just wrote)
        alone = subprocess.run(
            [*command, "--no-cache"], cwd=docs, capture_output=True, env=_alone()
        )
        assert (served.returncode, served.stdout, served.stderr) == (
            alone.returncode,
            alone.stdout,
            alone.stderr,
        )

    same()
    (content / "about.md").write_text("---\ntitle: About\n---\n\n[t](/team/#values)\n", "utf-8")
    same()
    team = (content / "team.md").read_text("utf-8").replace("## Values", "## Principles")
    team = team.replace("title: Team", "title: Team\nslug: crew")
    (content / "team.md").write_text(team, "utf-8")
    same()  # (the links to team.md lost their page and anchor: its URL and headings changed)
    (content / "new.md").write_text("---\ntitle: New\n---\n\n## Part\n\n[h](/)\n", "utf-8")
    (content / "_index.md").write_text("---\ntitle: Home\n---\n\n[n](/new/#part)\n", "utf-8")
    same()
    same("content/_index.md")
    (content / "team.md").unlink()
    same()
    git(repo, "add", "-A")
    same("--staged")
    same("--diff-base", "HEAD")
    (docs / ".handbook-lint.yaml").write_text("rules:\n  link-anchor-missing: off\n", "utf-8")
    same()
    log = server.stop()[1]
    assert len(re.findall(r"run \d+: check .*, the site kept\)", log)) == 9, log  # (all served)


def test_a_holder_ends_with_its_server_and_takes_its_socket(server: Server, repo: Path) -> None:
    docs = repo / "docs"
    _check_json(docs, _env(server.sock))
    held = _held(server.sock, docs)
    holders = _descendants(server.proc.pid)
    assert holders  # (the holder: the run that made it is gone)
    code, log = server.stop()
    assert code == 128 + signal.SIGTERM and "holding the site of" in log
    assert _gone(holders, 5.0) and not held.exists()


def test_no_holder_for_a_run_without_the_cache(server: Server, repo: Path) -> None:
    docs = repo / "docs"
    run = subprocess.run(
        [*LINT, "check", "--no-cache"], cwd=docs, capture_output=True, env=_env(server.sock)
    )
    assert run.returncode == 1
    time.sleep(1.5)  # (the server's loop looks at what runs said every half second)
    assert not _descendants(server.proc.pid)  # (no holder, not even one loading)
    assert not _holder_socket(server.sock, docs).exists()
    assert not (docs / ".handbook-lint-cache").exists()
    assert "holding" not in server.stop()[1]


def test_a_holder_lets_its_runs_finish_when_the_code_changes(sock: Path, tmp_path: Path) -> None:
    """As the server does: its run under way ends as it would have, and it
    takes no new one (the client then runs by itself)."""
    server, root, extra, more = _changing_code(sock, tmp_path)
    first = subprocess.run([*LINT, "check", "-q"], cwd=root, env=_env(sock, **more), check=False)
    assert first.returncode == 0
    held = _held(sock, root)
    long = _launch(sock, root, "-q", env=more)  # (taken by the holder)
    time.sleep(1.0)
    (extra / "new_package.py").write_text("", "utf-8")  # (the folder changed)
    deadline = time.monotonic() + 30
    while held.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not held.exists() and long.poll() is None  # (it takes no run; its run goes on)
    after = subprocess.run(
        [*LINT, "check", "-q", "content/p1.md"], cwd=root, env=_env(sock, **more), check=False
    )
    assert after.returncode == 0  # (by itself)
    out, err = long.communicate(timeout=120)
    assert (long.returncode, out, err) == (0, b"", b""), err
    server.proc.wait(timeout=60)  # (it too sees its code changed, at its next look)
    code, log = server.stop()
    assert code == 0, log
    assert re.search(r"run \d+: check --no-cache -j 2 -q \(in .*, the site kept\)", log), log
    assert "content/p1.md" not in log  # (the client after the change ran by itself)


def _listener(sock: Path, seconds: float = 30.0) -> int:
    """The process that listens at `sock` (its pid, from the connection's peer
    credentials), once one does."""
    deadline = time.monotonic() + seconds
    while True:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(sock))
            creds = probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            pid: int = struct.unpack("3i", creds)[0]
            return pid
        except OSError:
            assert time.monotonic() < deadline, f"nothing listened at {sock}"
            time.sleep(0.05)
        finally:
            probe.close()


def _servers_at(sock: Path) -> set[int]:
    """The servers running `serve --socket sock` (from /proc's command lines)."""
    found: set[int] = set()
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = entry.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in argv and os.fsencode(sock) in argv:
            found.add(int(entry.parent.name))
    # (a server's holders are its forks, with its command line)
    return {pid for pid in found if _parent(pid) not in found}


def _parent(pid: int) -> int | None:
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat_line.rsplit(")", 1)[1].split()[1])


def _ended(pid: int) -> None:
    """SIGTERM to a server the test did not start, and its end (no server
    outlives its test)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while _alive({pid}) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive({pid}):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def started(sock: Path) -> Iterator[Path]:
    """`sock`, where the test's runs may start servers: every one still there
    at its end is ended (none outlives a failed test)."""
    yield sock
    for pid in _servers_at(sock):
        _ended(pid)


@pytest.mark.parametrize(
    ("options", "more"),
    [
        ([], {}),
        (["-X", "warn_default_encoding", "-W", "default"], {}),
        ([], {"PYTHONDEVMODE": "1"}),
    ],
    ids=["plain", "interpreter options", "dev mode from the environment"],
)
def test_start_server_leaves_a_server_that_serves_the_runs_after(
    started: Path, repo: Path, options: list[str], more: dict[str, str]
) -> None:
    """`check --start-server` with no server: the run is the run it would be,
    ends while the server it started goes on (no descriptor of the run's held:
    its pipes closed; nothing said of it), and the runs after it, with the same
    interpreter options, are served by that server, the next `--start-server`
    starting none."""
    docs = repo / "docs"
    env = _env(started, CI="", **more)
    command = [sys.executable, *options, "-m", "handbook_lint", "check", "--format", "json"]
    first = subprocess.run(
        [*command, "--start-server"], cwd=docs, capture_output=True, env=env, timeout=120
    )
    alone = _check_json(docs, _alone())
    assert (first.returncode, first.stdout, first.stderr) == (1, alone.stdout, alone.stderr)
    pid = _listener(started)
    assert os.getsid(pid) == pid  # (a session of its own: no terminal's signal)
    assert _servers_at(started) == {pid}
    assert not any(  # (a commit's variables are not the server's)
        part.startswith(b"GIT_") for part in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    )
    timed = {**env, "PYTHONPROFILEIMPORTTIME": "1"}
    served = subprocess.run(
        [*command, "--start-server"], cwd=docs, capture_output=True, text=True, env=timed,
        timeout=120,
    )  # fmt: skip
    assert served.returncode == 1
    assert served.stdout == alone.stdout.decode("utf-8")
    assert "handbook_lint.cli" not in served.stderr.replace("handbook_lint.client", "")
    _held(started, docs)  # (a served check: the server keeps the folder's site)
    assert _servers_at(started) == {pid}  # (the same server: none started beside it)
    _ended(pid)
    assert not started.exists()


def test_a_started_server_gives_way_to_another_installations_run(
    started: Path, repo: Path, tmp_path: Path
) -> None:
    """The hook's new version (pre-commit's new environment) meets the old
    one's server: that server stops at the run it cannot serve, and the new
    version's runs then start and use their own."""
    docs = repo / "docs"
    command = [*LINT, "check", "-q", "--start-server"]
    assert subprocess.run(command, cwd=docs, env=_env(started, CI=""), timeout=120).returncode == 1
    old = _listener(started)
    # (served: the folder's site is then kept, and a client tries its holder first)
    assert subprocess.run(command, cwd=docs, env=_env(started, CI=""), timeout=120).returncode == 1
    held = _held(started, docs)
    newer = _env(started, CI="", PYTHONPATH=_elsewhere(tmp_path))
    assert subprocess.run(command, cwd=docs, env=newer, timeout=120).returncode == 1  # (by itself)
    deadline = time.monotonic() + 15
    while _alive({old}) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive({old}), "the old server did not give way"
    deadline = time.monotonic() + 15
    while held.exists() and time.monotonic() < deadline:  # (its holder goes with it)
        time.sleep(0.05)
    assert not held.exists()
    for _ in range(2):  # (the run that met it may have ended before it was gone)
        if _servers_at(started):
            break
        assert subprocess.run(command, cwd=docs, env=newer, timeout=120).returncode == 1
    new = _listener(started)
    assert new != old
    timed = {**newer, "PYTHONPROFILEIMPORTTIME": "1"}
    served = subprocess.run(command, cwd=docs, env=timed, capture_output=True, text=True)
    assert served.returncode == 1
    assert "handbook_lint.cli" not in served.stderr.replace("handbook_lint.client", "")


def test_a_client_it_cannot_serve_and_a_probe_keep_no_server_from_its_idle_end(
    sock: Path, repo: Path, tmp_path: Path
) -> None:
    """Only runs keep a server up: not a connection that sends nothing (what
    `--start-server` looks with) nor a client of another installation, whose
    runs it never takes (a server of the old version would otherwise hold the
    socket for ever)."""
    other = _env(sock, PYTHONPATH=_elsewhere(tmp_path))
    server = Server(sock, "--idle-timeout", "3")
    deadline = time.monotonic() + 4
    while server.proc.poll() is None and time.monotonic() < deadline:
        server.listening()  # (a probe: a connection that sends nothing)
        _check_json(repo / "docs", other)
        time.sleep(0.3)
    server.proc.wait(timeout=30)  # (by itself, its 3 s with no run counted from its start)
    code, err = server.stop()
    assert code == 0 and "no run for 3 s" in err, err


def test_start_server_says_why_it_cannot_start_one(started: Path, repo: Path) -> None:
    """A socket folder others may enter (server.listen refuses it): said on
    standard error, and the run is otherwise the run it would be."""
    started.parent.chmod(0o755)
    done = subprocess.run(
        [*LINT, "check", "--format", "json", "--start-server"],
        cwd=repo / "docs",
        capture_output=True,
        text=True,
        env=_env(started, CI=""),
        timeout=120,
    )
    alone = _check_json(repo / "docs", _alone())
    assert (done.returncode, done.stdout) == (1, alone.stdout.decode("utf-8"))
    assert done.stderr == (
        f"handbook-lint: --start-server: no server started: {started.parent} must be a "
        "folder of this user's alone (chmod 700 it)\n"
    )
    assert not _servers_at(started)


@pytest.mark.parametrize(
    "env",
    [{"CI": "true"}, {"CI": "", "HANDBOOK_LINT_NO_SERVER": "1"}],
    ids=["in CI", "servers off"],
)
def test_start_server_starts_none_in_ci_nor_when_servers_are_off(
    started: Path, repo: Path, env: dict[str, str]
) -> None:
    """A CI job's container is about to go, and HANDBOOK_LINT_NO_SERVER says no."""
    docs = repo / "docs"
    done = subprocess.run(
        [*LINT, "check", "-q", "--start-server"], cwd=docs, env=_env(started, **env), timeout=120
    )
    assert done.returncode == 1
    # (a server started would be running: Popen returns once it is exec'd)
    assert not started.exists() and not _servers_at(started)


def test_start_server_with_another_installations_server_listening_starts_none(
    server: Server, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket is taken (pre-commit's copy of the linter, with a server of
    the one on PATH listening): the run goes on by itself and starts nothing,
    not even a server that would only be refused."""

    done = subprocess.run(
        [*LINT, "check", "-q", "--start-server"],
        cwd=repo / "docs",
        env=_env(server.sock, PYTHONPATH=_elsewhere(tmp_path), CI=""),
        timeout=120,
    )
    assert done.returncode == 1
    assert _servers_at(server.sock) == {server.proc.pid}
    # What that run did at its end, here, where a process started would be seen.
    monkeypatch.setenv("HANDBOOK_LINT_SOCKET", str(server.sock))
    monkeypatch.setenv("CI", "")
    monkeypatch.delenv("HANDBOOK_LINT_NO_SERVER", raising=False)
    started: list[list[str]] = []

    def popen(command: list[str], **options: object) -> Popen[bytes]:
        started.append(command)
        return Popen(["true"])

    monkeypatch.setattr(subprocess, "Popen", popen)
    assert client.start_server() is None and started == []
    server.stop()
    assert client.start_server() is not None  # (none listens now)
    assert started[0][-5:] == ["handbook_lint", "serve", "--give-way", "--socket", str(server.sock)]


SCRIPT = "/venv/bin/handbook-lint"
STARTS = {  # how the interpreter was started: (sys.orig_argv, sys.argv, its options)
    "console script": (["py", SCRIPT, "check", "-q"], [SCRIPT, "check", "-q"], []),
    "-m": (["py", "-m", "handbook_lint", "check"], ["/p/__main__.py", "check"], []),
    "options": (
        ["py", "-X", "dev", "-W", "error", "-m", "handbook_lint", "check"],
        ["/m", "check"],
        ["-X", "dev", "-W", "error"],
    ),
    "-Im": (["py", "-Im", "handbook_lint", "check"], ["/m", "check"], ["-I"]),
    "-mNAME": (["py", "-I", "-mhandbook_lint", "check"], ["/m", "check"], ["-I"]),
    "script with options": (
        ["py", "-X", "importtime", SCRIPT, "check"],
        [SCRIPT, "check"],
        ["-X", "importtime"],
    ),
}


@pytest.mark.parametrize(("orig_argv", "argv", "options"), STARTS.values(), ids=STARTS.keys())
def test_the_server_started_takes_the_options_the_interpreter_was_given(
    monkeypatch: pytest.MonkeyPatch, orig_argv: list[str], argv: list[str], options: list[str]
) -> None:

    monkeypatch.setattr(sys, "orig_argv", orig_argv)
    monkeypatch.setattr(sys, "argv", argv)
    assert client._interpreter_options() == options
