"""A run handed to `handbook-lint serve`, when one is listening.

Python's start and the linter's imports are two thirds of a run of one page
(about 0.2 s of 0.3 to 0.45 s on a 2-core machine). A server that has imported
everything forks a copy of itself for each run, and the copy runs the command
line as a new process would: with this process's arguments, working directory,
environment, umask and its standard input, output and error (the descriptors
themselves travel over the socket), so what it prints, writes and exits with
is the same. Each run starts from the server's state as it was after the
imports, not from an earlier run's.

This module is imported before anything else (entry.py) and imports only the
standard library, and of it little (marshal, not json: json imports re, 9 ms):
a run without a server pays one `stat` for it. When no server
listens, or the server runs other code than this process would (another
version, an edited checkout), the run goes on in this process.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import socket
import struct
import sys
from types import FrameType

SOCKET_ENV = "HANDBOOK_LINT_SOCKET"  # the server's socket (default: socket_path())
OFF_ENV = "HANDBOOK_LINT_NO_SERVER"  # set (to anything but ""): never hand a run over

_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def socket_path() -> str:
    """Where the server of this user listens: $HANDBOOK_LINT_SOCKET, else a
    folder of this user's alone in $XDG_RUNTIME_DIR (or the temp folder)."""
    given = os.environ.get(SOCKET_ENV)
    if given:
        return given
    base = os.environ.get("XDG_RUNTIME_DIR") or os.environ.get("TMPDIR") or "/tmp"
    return os.path.join(base, f"handbook-lint-{os.getuid()}", "server.sock")


def available() -> bool:
    """A server can take runs on this system (Linux: fork, and descriptors
    passed over a Unix socket)."""
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds")


def code_stamp() -> str:
    """What the code of this process is: the interpreter, the package's version
    and every file of the package (its name, size and modification time), and
    where imports come from (the import path, but for the script's folder, and
    when each of its folders last changed: a package installed, upgraded or
    removed). A server with another stamp would not run what this process would."""
    import handbook_lint

    folder = os.path.dirname(os.path.abspath(handbook_lint.__file__))
    executable = os.path.realpath(sys.executable)  # (a venv's python and python3 are one)
    parts = [executable, sys.prefix, sys.version, handbook_lint.__version__, folder]
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
    """All a run takes from its process, but for the descriptors."""
    main = sys.modules.get("__main__")
    return {
        "stamp": code_stamp(),
        "argv": argv,
        "cwd": os.getcwd(),
        "path": sys.path,
        "env": dict(os.environ),
        "umask": _umask(),
        "main_package": getattr(main, "__package__", None),
        "streams": {
            name: _stream_settings(getattr(sys, name)) for name in ("stdin", "stdout", "stderr")
        },
    }


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _stream_settings(stream: object) -> tuple[str, str, bool] | None:
    encoding = getattr(stream, "encoding", None)
    errors = getattr(stream, "errors", None)
    if not isinstance(encoding, str) or not isinstance(errors, str):
        return None
    return (encoding, errors, bool(getattr(stream, "line_buffering", False)))


def delegate(argv: list[str]) -> int | None:
    """Run the command line `argv` in the server and return its exit code; None
    when there is no server to run it (then this process runs it)."""
    if os.environ.get(OFF_ENV) or not available() or argv[1:2] == ["serve"]:
        return None
    path = socket_path()
    if not os.path.exists(path):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    pid: list[int] = []
    stopped: list[int] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        # The run's process gets the signal, stops as any run does (its
        # workers terminated, 128 + the signal) and says its exit code.
        stopped.append(signum)
        if pid:
            kill(pid[0], signum)

    before = {s: signal.signal(s, forward) for s in _FORWARDED}
    try:
        try:
            sock.connect(path)
            if peer_uid(sock) != os.getuid():
                return None  # (a socket of somebody else's: nothing is sent to it)
            body = marshal.dumps(request(argv))
            socket.send_fds(sock, [struct.pack("!I", len(body)) + body], [0, 1, 2])
        except (OSError, ValueError):
            return None  # (no server listens, or a standard stream is closed)
        replies = _Replies(sock)
        first = replies.next()
        if first is None or not first.startswith("P"):
            return None  # (the server runs other code: "S", and it stops)
        pid.append(int(first[1:]))
        if stopped:
            kill(pid[0], stopped[-1])
        last = replies.next()
        if last is not None and last.startswith("X"):
            return int(last[1:])
        if stopped:
            return 128 + stopped[-1]
        os.write(2, b"handbook-lint: the server's run ended without an exit code\n")
        return 1
    finally:
        sock.close()
        for signum, handler in before.items():
            signal.signal(signum, handler)


def peer_uid(sock: socket.socket) -> int:
    """The user of the process at the other end (Linux's SO_PEERCRED)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


def kill(pid: int, signum: int) -> None:
    """Signal a run's process, if it has not ended."""
    with contextlib.suppress(OSError):
        os.kill(pid, signum)


class _Replies:
    """The server's lines: `P<pid>` when the run starts, `X<code>` when it ends,
    `S` when the server runs other code."""

    def __init__(self, sock: socket.socket) -> None:
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
