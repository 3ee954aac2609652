"""`handbook-lint serve`: a process that has imported everything and forks a
copy of itself for each run a client hands it (client.py says why and what
the client sends).

The server itself runs nothing of a run: it imports, listens and forks. Each
copy takes the client's descriptors, working directory, environment, umask and
arguments, and runs the command line through entry.run as a new process would;
it ends with os._exit, never back in the server's loop. The server stops on
SIGINT or SIGTERM (and after `idle` seconds without a run), terminating the runs
it started; a run whose client is stopped is signalled by the client itself.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import marshal
import os
import shlex
import signal
import socket
import stat
import struct
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

from handbook_lint import client

STALE = 75  # a run's exit status when the server's own code changed: it stops
_MAX_REQUEST = 16 * 1024 * 1024
_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # what stops the server
# What runs import when they first need it (`-X importtime` of runs): the
# suggestions for misspelt links, the workers and a parsing child's
# PR_SET_PDEATHSIG, atomic writes, TOML front matter, --diff, the presets.
_RUN_IMPORTS = (
    "rapidfuzz",
    "ctypes",
    "fcntl",
    "multiprocessing",
    "concurrent.futures",
    "tempfile",
    "shutil",
    "tomllib",
    "difflib",
    "importlib.resources",
    *(f"handbook_lint.report.{name}" for name in ("codequality", "sarif", "junit", "github")),
    *(f"handbook_lint.report.{name}" for name in ("markdown", "html")),
    "handbook_lint.engine.changes",
    "handbook_lint.engine.fixer",
)


class ServeError(Exception):
    """The server cannot listen (the message says why)."""


class _Stop(Exception):
    def __init__(self, signum: int) -> None:
        self.signum = signum


def warm() -> None:
    """Import what runs use and make what they make first (the parser)."""
    from handbook_lint import cli  # noqa: F401
    from handbook_lint.checks import speller
    from handbook_lint.checks.registry import all_rules
    from handbook_lint.engine import linter  # noqa: F401
    from handbook_lint.parsing.markdown import load_parser
    from handbook_lint.report import json_report, text  # noqa: F401

    all_rules()
    load_parser()
    for name in _RUN_IMPORTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    # codespell's dictionary, parsed (a run of one page reads its keys from the
    # cache and parses its entries when a word is misspelt); without codespell,
    # each run says so
    with contextlib.suppress(Exception):
        speller.load_dictionary()


def listen(path: str) -> socket.socket:
    """A socket at `path`, in a folder of this user's alone; a socket left by a
    server that is gone is replaced, one that answers is an error."""
    folder = Path(path).parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = folder.stat()
    except OSError as exc:
        raise ServeError(f"cannot make the folder {folder}: {exc.strerror or exc}") from exc
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise ServeError(f"{folder} must be this user's alone (chmod 700 it)")
    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(path)
            except OSError:
                os.unlink(path)  # (a server that is gone)
            else:
                raise ServeError(f"a server already listens at {path}")
            finally:
                probe.close()
        else:
            raise ServeError(f"{path} exists and is not a socket")
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ServeError(f"cannot use {path}: {exc.strerror or exc}") from exc
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        os.chmod(path, 0o600)
        sock.listen(64)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen at {path}: {exc.strerror or exc}") from exc
    return sock


def serve(path: str, idle: float, log: Callable[[str], None], verbose: bool = False) -> int:
    """Take runs at `path` until a signal, `idle` seconds (0: no limit) with no
    run, or a change of its own code; `verbose`: a line on standard error for
    each run. The exit code: 0, or 128 + the signal."""
    stamp = client.code_stamp()
    warm()
    gc.freeze()  # (the imports' objects: a run's collections need not look at them)
    sock = listen(path)
    ours = os.stat(path).st_ino
    runs: set[int] = set()
    code = 0

    def stop(signum: int, frame: types.FrameType | None) -> None:
        raise _Stop(signum)

    before = {s: signal.signal(s, stop) for s in _SIGNALS}
    last = time.monotonic()
    try:
        log(f"listening at {path} (process {os.getpid()})")
        sock.settimeout(0.5)
        while True:
            if _reap(runs):
                log("handbook-lint's code changed since the server started: stopping")
                break
            if idle and not runs and time.monotonic() - last > idle:
                log(f"no run for {idle:g} s: stopping")
                break
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            # (a signal is held while forking: raised in os.fork's own hooks,
            # _Stop would be printed and lost, and the server would go on)
            held = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
            try:
                pid = os.fork()
                if pid == 0:
                    try:
                        for s in _SIGNALS:
                            signal.signal(s, signal.SIG_DFL)
                        signal.pthread_sigmask(signal.SIG_SETMASK, held)
                        sock.close()
                        _run(conn, stamp, verbose)
                    except BaseException as exc:  # (its client says the run ended without a code)
                        _say(f"the server could not run this: {type(exc).__name__}: {exc}")
                    finally:
                        os._exit(1)  # (a run never returns to the loop)
                conn.close()
                runs.add(pid)
                last = time.monotonic()
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
    except _Stop as signalled:
        code = 128 + signalled.signum
        log(f"stopped ({signal.Signals(signalled.signum).name})")
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
        sock.close()
        try:
            if os.stat(path).st_ino == ours:
                os.unlink(path)
        except OSError:
            pass
        _end(runs)
    return code


def _say(message: str) -> None:
    """A line on standard error: the client's, once the run has taken it."""
    with contextlib.suppress(OSError):
        os.write(2, f"handbook-lint: {message}\n".encode("utf-8", "backslashreplace"))


def _reap(runs: set[int]) -> bool:
    """Forget the runs that ended; True when one found the server's code changed."""
    stale = False
    for pid in list(runs):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            runs.discard(pid)
            continue
        if done:
            runs.discard(pid)
            stale = stale or os.waitstatus_to_exitcode(status) == STALE
    return stale


def _end(runs: set[int], grace: float = 2.0) -> None:
    """Terminate the runs still going (they stop as on Ctrl-C), and wait for them."""
    for pid in runs:
        client.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while runs and time.monotonic() < deadline:
        _reap(runs)
        time.sleep(0.02)
    for pid in runs:
        client.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _run(conn: socket.socket, stamp: str, verbose: bool) -> None:
    """In the forked copy: become the client's run, and run it."""
    if client.peer_uid(conn) != os.getuid():
        return
    conn.settimeout(10)
    header, fds, _, _ = socket.recv_fds(conn, 4, 3)
    try:
        if len(header) < 4 or len(fds) != 3:
            return
        size = struct.unpack("!I", header)[0]
        if size > _MAX_REQUEST:
            return
        body = bytearray()
        while len(body) < size:
            chunk = conn.recv(min(size - len(body), 1 << 20))
            if not chunk:
                return
            body += chunk
        try:
            asked = marshal.loads(bytes(body))
        except (ValueError, EOFError, TypeError):
            asked = None  # (another Python's marshal)
        if not isinstance(asked, dict) or asked.get("stamp") != stamp:
            conn.sendall(b"S\n")
            if verbose:
                _say(f"a run left to its client: {_other(asked, stamp)}")
            # The client is another install (pre-commit's own, say): it runs by
            # itself and the server goes on, unless its own code changed.
            os._exit(STALE if client.code_stamp() != stamp else 0)
        if verbose:
            _say(f"run {os.getpid()}: {shlex.join(asked['argv'][1:])} (in {asked['cwd']})")
        _become(asked)  # (before the client hears of the run: if it fails, the client runs it)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
    finally:
        for fd in fds:
            os.close(fd)
    _streams(asked["streams"])
    conn.settimeout(None)
    conn.sendall(f"P{os.getpid()}\n".encode())
    from handbook_lint import entry

    def reply(code: int) -> None:
        conn.sendall(f"X{code}\n".encode())

    entry.run(reply)


def _other(asked: object, stamp: str) -> str:
    """How the client's code differs from the server's (the first difference)."""
    theirs = asked.get("stamp") if isinstance(asked, dict) else None
    if not isinstance(theirs, str):
        return "not a request of this handbook-lint"
    for mine, its in zip(stamp.splitlines(), theirs.splitlines(), strict=False):
        if mine != its:
            shown = its.replace("\0", " "), mine.replace("\0", " ")
            return f"another installation ({shown[0]!r} there, {shown[1]!r} here)"
    return "another installation"


def _become(asked: dict[str, object]) -> None:
    """Take the client's working directory, environment, umask and arguments."""
    env = asked["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(str(asked["cwd"]))
    umask = asked["umask"]
    assert isinstance(umask, int)
    os.umask(umask)
    argv, path = asked["argv"], asked["path"]
    assert isinstance(argv, list) and isinstance(path, list)
    sys.argv = [str(a) for a in argv]
    sys.path[:] = path  # (its first folder: the client's script's, or its cwd with -m)
    # (click names the program from __main__: `python -m handbook_lint`, or the
    # script's name)
    main = types.ModuleType("__main__")
    main.__package__ = asked.get("main_package")  # type: ignore[assignment]
    sys.modules["__main__"] = main


def _streams(given: object) -> None:
    """Standard streams on the client's descriptors, with the encodings and
    buffering the client's own had."""
    assert isinstance(given, dict)
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        settings = given.get(name)
        if settings:
            encoding, errors, line = settings
            mode = "r" if fd == 0 else "w"
            setattr(
                sys,
                name,
                open(  # noqa: SIM115  (the stream of the run, as Python's own)
                    fd, mode, 1 if line else -1, encoding, errors, closefd=False
                ),
            )
