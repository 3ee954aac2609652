"""A run handed to `handbook-lint serve`, when one is listening.

Python's start and the linter's imports are about 0.2 s of a run of one page
(0.3 to 0.5 s on a 2-core machine). A server that has imported everything forks
a copy of itself for each run, and the copy runs the command line as a new
process would: with this process's arguments, working directory, environment,
umask, import path, CPU affinity, priority and resource limits, and its
standard input, output and error (the descriptors themselves travel over the
socket), so what it prints, writes and exits with is the same. Each run starts
from the server's state as it was after the imports, not from an earlier run's.

The exchange: this process connects and sends its request; the copy answers
`P<pid>` when it is ready, or `S` when the server is another installation's
(then this process runs the command itself); this process answers `G` with its
three descriptors and the copy runs; `X<code>` is its exit code. Until `G`,
either side may walk away: nothing has run, and no descriptor of this process's
is held by a server that does not answer. Signals that stop a run (Ctrl-C,
SIGTERM, SIGHUP, SIGQUIT) and Ctrl-Z are passed on to the copy; if this process
is killed, the copy kills itself (server.py).

This module is imported before anything else (entry.py) and imports little of
the standard library (marshal, not json: json imports re, 9 ms); a run without
a server pays one `stat` for it.
"""

from __future__ import annotations

# The C modules under `signal` and `socket` (and no `contextlib`): without their
# enums, `selectors`, `collections` and `functools`, this process imports 15 ms
# less, nearly all it imported.
import _socket
import marshal
import os
import stat  # (os imports it already)
import sys

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing: 5 to 9 ms a run)
if TYPE_CHECKING:
    import signal
    from types import FrameType
else:
    import _signal as signal

SOCKET_ENV = "HANDBOOK_LINT_SOCKET"  # the server's socket (default: socket_path())
OFF_ENV = "HANDBOOK_LINT_NO_SERVER"  # set (to anything but ""): never hand a run over
HANDSHAKE_SECONDS = 5.0  # a server that does not answer by then is left (one SIGSTOPped)

# Passed on to the run: what stops it, and what suspends and resumes it.
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_SUSPEND = (signal.SIGTSTP, signal.SIGCONT)


class _Interrupted(Exception):
    """A signal before the run started: this process ends as it would have."""


def socket_path() -> str:
    """Where the server of this user listens: $HANDBOOK_LINT_SOCKET, else a
    folder of this user's alone in $XDG_RUNTIME_DIR (or the temp folder)."""
    given = os.environ.get(SOCKET_ENV)
    if given:
        return given
    base = os.environ.get("XDG_RUNTIME_DIR") or os.environ.get("TMPDIR") or "/tmp"
    return os.path.join(base, f"handbook-lint-{os.getuid()}", "server.sock")


def holder_path(path: str) -> str | None:
    """Where the server's holder of the working directory's site listens (see
    server.py; None: a name too long for a socket)."""
    try:
        st = os.stat(".")
    except OSError:
        return None
    held = f"{path}.{st.st_dev}-{st.st_ino}"
    return None if _too_long(held) else held


def _too_long(path: str) -> bool:
    """Too long for a Unix socket's address (108 bytes with its NUL, on Linux)."""
    return len(path.encode("utf-8", "surrogateescape")) >= 108


def available() -> bool:
    """A server can take runs on this system (Linux: fork, and descriptors
    passed over a Unix socket)."""
    return sys.platform.startswith("linux") and hasattr(_socket.socket, "sendmsg")


def code_stamp() -> str:
    """What the code of this process is: the interpreter and its flags, the
    package's version and every file of the package (its name, size and
    modification time), and where imports come from (the import path, but for
    the script's folder, and when each of its folders last changed: a package
    installed, upgraded or removed). A server with another stamp would not run
    what this process would."""
    import handbook_lint

    folder = os.path.dirname(os.path.abspath(handbook_lint.__file__))
    executable = os.path.realpath(sys.executable)  # (a venv's python and python3 are one)
    parts = [executable, sys.prefix, sys.version, handbook_lint.__version__, folder]
    parts += [repr(sys.flags), repr(sys.warnoptions), repr(sys._xoptions)]
    parts += [sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()]
    for entry in sys.path[1:]:
        try:
            parts.append(f"{entry}\0{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            parts.append(entry)
    for top, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = os.path.join(top, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            parts.append(f"{os.path.relpath(path, folder)}\0{st.st_size}\0{st.st_mtime_ns}")
    return "\n".join(parts)


def request(argv: list[str]) -> dict[str, object]:
    """All a run takes from its process, but for the descriptors and what the
    copy reads of this process itself (affinity, priority, limits, cgroup)."""
    main = sys.modules.get("__main__")
    return {
        "stamp": code_stamp(),
        "argv": argv,
        "cwd": os.getcwd(),
        "path": sys.path,
        "env": dict(os.environ),
        "umask": _umask(),
        "main_package": getattr(main, "__package__", None),
        "ignored": [int(s) for s in FORWARDED if signal.getsignal(s) == signal.SIG_IGN],
        "streams": {
            name: _stream_settings(getattr(sys, name)) for name in ("stdin", "stdout", "stderr")
        },
    }


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _stream_settings(stream: object) -> tuple[str, str, bool, bool] | None:
    encoding = getattr(stream, "encoding", None)
    errors = getattr(stream, "errors", None)
    if not isinstance(encoding, str) or not isinstance(errors, str):
        return None
    line = bool(getattr(stream, "line_buffering", False))
    return (encoding, errors, line, bool(getattr(stream, "write_through", False)))


def listening(path: str) -> bool:
    """Something accepts connections at `path` (a server, of any installation)."""
    probe = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        return False
    finally:
        probe.close()
    return True


def in_ci() -> bool:
    """A CI job runs this (GitLab, GitHub and most others set CI): a server
    started there would outlive the job's process, in a container about to go."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def start_server() -> int | None:
    """`check --start-server` in a run no server took: start this installation's
    server in the background, for the runs that follow, when none listens (nor
    another installation's, which holds the socket), none is wanted
    (HANDBOOK_LINT_NO_SERVER) and no CI job runs this. It is started as
    `handbook-lint serve` is (this interpreter with the options it was given,
    a session of its own, no descriptor of this run's: a pre-commit hook that
    waits for its output does not wait for it; no GIT_ variable of a
    commit's), stops as it does (after an hour with no run), and also gives
    way to another installation's run (a hook's new version: that run's next
    one starts its own). Its pid, or None when none was started; a socket it
    could not listen at, as far as it can tell, is said on standard error
    (what the server meets later, it says where no one reads it)."""
    if os.environ.get(OFF_ENV) or in_ci() or not available():
        return None
    path = os.path.abspath(socket_path())  # (the server's folder is not this run's)
    if listening(path):
        return None
    why = unusable(path)
    if why is not None:
        sys.stderr.write(f"handbook-lint: --start-server: no server started: {why}\n")
        return None
    import subprocess  # (only here: a served run's client imports little)

    command = [sys.executable, *_interpreter_options(), "-m", "handbook_lint", "serve"]
    try:
        server = subprocess.Popen(
            [*command, "--give-way", "--socket", path],
            cwd="/",  # (its import path's first folder: no module of the run's folder)
            env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        sys.stderr.write(f"handbook-lint: --start-server: no server started: {exc}\n")
        return None
    _STARTED.append(server)  # (not collected while it runs: no ResourceWarning says so)
    return server.pid


_STARTED: list[object] = []


def _interpreter_options() -> list[str]:
    """The options this interpreter was given on its command line (`-X dev`,
    `-W error`, ...): the server's code stamp must be this process's. What the
    environment gives (PYTHONDEVMODE ...) the server has from it as well."""
    given = sys.orig_argv[1 : len(sys.orig_argv) - (len(sys.argv) - 1)]
    last = given[-2] if len(given) > 1 else ""
    if last.startswith("-") and not last.startswith("--") and last.endswith("m"):
        flags = last[:-1]  # (`-m handbook_lint`, `-Im handbook_lint`: -I is kept)
        return given[:-2] + ([flags] if flags != "-" else [])
    return given[:-1]  # (the script, `-mhandbook_lint`: the console script or __main__.py)


def unusable(path: str) -> str | None:
    """Why no server may listen at `path` (server.listen refuses it for this), or
    None: a path too long, a folder that is not this user's alone, a file
    there that is not a socket. A folder not made yet is the server's to make."""
    if _too_long(path):
        return f"the socket's path is too long ({path})"
    folder = os.path.dirname(path)
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return None  # (the server makes it)
    except OSError as exc:
        return f"cannot use {folder}: {exc.strerror or exc}"
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return f"{folder} must be a folder of this user's alone (chmod 700 it)"
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            return f"{path} exists and is not a socket"
    except FileNotFoundError:
        pass
    except OSError as exc:
        return f"cannot use {path}: {exc.strerror or exc}"
    return None


def delegate(argv: list[str]) -> int | None:
    """Run the command line `argv` in the server and return its exit code; None
    when there is no server to run it (then this process runs it)."""
    if os.environ.get(OFF_ENV) or argv[1:2] == ["serve"]:
        return None
    if sys.stdin is None or sys.stdout is None or sys.stderr is None:
        return None  # (a standard stream closed: descriptor 0 may be the socket's)
    path = socket_path()
    if not os.path.exists(path) or not available():
        return None

    started: list[int] = []  # the run's process, once it may run
    stopped: list[int] = []  # the signals passed on
    handing: list[bool] = []  # (while the run is handed over)

    def forward(signum: int, frame: FrameType | None) -> None:
        stopped.append(signum)
        if started:
            # The run gets the signal, stops as any run does (its workers
            # terminated, 128 + the signal) and says its exit code.
            kill(started[0], signum)
        elif handing:
            raise _Interrupted

    def suspend(signum: int, frame: FrameType | None) -> None:
        # (Ctrl-Z: the run and its workers stop, then this process; whenever
        # this process goes on, so do they)
        if signum == signal.SIGTSTP:
            if started:
                killpg(started[0], signal.SIGSTOP)
            signal.signal(signal.SIGTSTP, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTSTP)
            signal.signal(signal.SIGTSTP, suspend)
        if started:
            killpg(started[0], signal.SIGCONT)

    # (a signal this process ignores, SIGHUP under nohup, stays ignored, here
    # and in the run)
    before = {s: signal.signal(s, forward) for s in FORWARDED if not _ignored(s)}
    before.update({s: signal.signal(s, suspend) for s in _SUSPEND if not _ignored(s)})
    code: int | None = None
    sock: _socket.socket | None = None
    try:
        try:
            handing.append(True)
            if stopped:
                raise _Interrupted
            # (the holder of this folder's site first: the runs it makes reuse it)
            held = holder_path(path)
            for where in [path] if held is None else [held, path]:
                sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
                try:
                    sock.settimeout(HANDSHAKE_SECONDS)
                    sock.connect(where)
                    break
                except OSError:
                    sock.close()
                    if where == path:
                        raise
            assert sock is not None  # (connected, or the main socket's error raised)
            code = _exchange(sock, argv, started)
        except (_Interrupted, OSError):
            code = None
        finally:
            handing.clear()
        if code is None and stopped and not started:
            # (stopped before the run started: as this process would have been)
            if sock is not None:
                sock.close()
            for signum, handler in before.items():
                signal.signal(signum, handler)
            signal.raise_signal(stopped[-1])
        if code is None and started:
            code = 128 + stopped[-1] if stopped else _ended_without_code()
        if stopped and stopped[-1] in (signal.SIGHUP, signal.SIGQUIT) and code == 128 + stopped[-1]:
            # (those kill a run of its own process: so they kill this one)
            signal.signal(stopped[-1], signal.SIG_DFL)
            os.kill(os.getpid(), stopped[-1])
        return code
    finally:
        if sock is not None:
            sock.close()
        for signum, handler in before.items():
            signal.signal(signum, handler)


def _ignored(signum: int) -> bool:
    return signal.getsignal(signum) == signal.SIG_IGN


def _exchange(sock: _socket.socket, argv: list[str], started: list[int]) -> int | None:
    """The run's exit code, over `sock` (connected); None when the server did
    not take it (another installation's, a standard stream closed) or it
    ended without saying one."""
    try:
        if peer_credentials(sock)[1] != os.getuid():
            return None  # (a socket of somebody else's: nothing is sent to it)
        body = marshal.dumps(request(argv))
        sock.sendall(len(body).to_bytes(4, "big") + body)
        replies = _Replies(sock)
        ready = replies.next()
        if ready is None or not ready.startswith("P") or not ready[1:].isdigit():
            return None  # ("S": the server is another installation's)
        # (the descriptors go with the `G`, once the run is ready for them; a
        # signal from now on is the run's, which holds it until it can stop)
        started.append(int(ready[1:]))
        try:
            send_fds(sock, b"G", [0, 1, 2])
        except OSError:
            started.clear()
            raise
        sock.settimeout(None)
    except (OSError, ValueError):
        return None  # (no server answers)
    end = replies.next()
    if end is not None and end.startswith("X") and end[1:].lstrip("-").isdigit():
        return int(end[1:])
    return None


def _ended_without_code() -> int:
    os.write(2, b"handbook-lint: the server's run ended without an exit code\n")
    return 1


def peer_credentials(sock: _socket.socket) -> tuple[int, int, int]:
    """The process, user and group at the other end (Linux's SO_PEERCRED: three
    C ints)."""
    creds = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
    pid, uid, gid = (
        int.from_bytes(creds[i : i + 4], sys.byteorder, signed=True) for i in (0, 4, 8)
    )
    return pid, uid, gid


def send_fds(sock: _socket.socket, data: bytes, fds: list[int]) -> None:
    """`data` with the descriptors `fds`: socket.send_fds, without importing
    `socket`."""
    rights = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in fds)
    sock.sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])


def kill(pid: int, signum: int) -> None:
    """Signal a run's process, if it has not ended."""
    try:  # noqa: SIM105  (contextlib: see the imports)
        os.kill(pid, signum)
    except OSError:
        pass


def killpg(pid: int, signum: int) -> None:
    """Signal a run and its workers (its process group: it leads one)."""
    try:  # noqa: SIM105  (contextlib: see the imports)
        os.killpg(pid, signum)
    except OSError:
        pass


class _Replies:
    """The server's lines: `P<pid>` when the run is ready, `X<code>` when it
    ends, `S` when the server is another installation's."""

    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def next(self) -> str | None:
        while b"\n" not in self.buffer:
            try:
                data = self.sock.recv(256)
            except OSError:
                return None
            if not data:
                return None
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("ascii", "replace")
