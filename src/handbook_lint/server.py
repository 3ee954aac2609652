"""`handbook-lint serve`: a process that has imported everything and forks a
copy of itself for each run a client hands it (client.py says why, and what
the two say to each other).

The server itself runs nothing of a run: it imports, listens and forks. Each
copy takes the client's descriptors, working directory, environment, umask,
arguments and import path, its CPU affinity, priority and resource limits, and
runs the command line through entry.run as a new process would, in a session
of its own (the server's terminal is not the run's); it ends with os._exit,
never back in the server's loop, and kills itself if its client dies first.
The server stops on SIGINT or SIGTERM, terminating the runs it started; after
`idle` seconds without a run, or when its own code changed, it stops listening
and lets the runs under way finish.
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
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from handbook_lint import client

_MAX_REQUEST = 16 * 1024 * 1024
_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # what stops the server, and a run
_STAMP_EVERY = 2.0  # seconds between looks at the server's own code
HOLDERS_MAX = 2  # folders whose site is kept loaded at once (the handbook's: about 75 MB)
HOLDER_IDLE = 600.0  # a holder with no run for this long ends
_RETRY_HOLDER = 60.0  # seconds before a folder with nothing to hold is tried again
_NOTHING_HELD = 3  # a holder's exit code: no site there, or it does not load
# What runs import when they first need it (`-X importtime` of runs): the
# suggestions for misspelt links, the workers and a parsing child's
# PR_SET_PDEATHSIG, atomic writes, TOML front matter, --diff, the presets, the
# reports.
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
    *(
        f"handbook_lint.report.{name}"
        for name in ("codequality", "sarif", "junit", "github", "markdown", "html")
    ),
    "handbook_lint.engine.changes",
    "handbook_lint.engine.fixer",
)


class ServeError(Exception):
    """The server cannot listen (the message says why)."""


class _Stop(Exception):
    def __init__(self, signum: int) -> None:
        self.signum = signum


def warm() -> None:
    """Import what runs use, make the parser and compile the spelling's
    patterns (7 ms, for their classes of CJK characters). Nothing a run reads
    from its folder or its cache (codespell's dictionary is read, and its keys
    kept, by each run as a run of its own process does)."""
    from handbook_lint import cli  # noqa: F401
    from handbook_lint.checks import speller
    from handbook_lint.checks.registry import all_rules
    from handbook_lint.engine import linter  # noqa: F401
    from handbook_lint.parsing.markdown import load_parser
    from handbook_lint.report import json_report, text  # noqa: F401

    all_rules()
    load_parser()
    speller.patterns()
    for name in _RUN_IMPORTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def listen(path: str) -> socket.socket:
    """A socket at `path`, in a folder of this user's alone; a socket left by a
    server that is gone is replaced, one that answers is an error."""
    folder = Path(path).parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ServeError(f"cannot make the folder {folder}: {exc.strerror or exc}") from exc
    why = client.unusable(path)  # (what `check --start-server` looks at before it starts one)
    if why is not None:
        raise ServeError(why)
    if os.path.lexists(path):  # (a socket: unusable says what else it may not be)
        if client.listening(path):
            raise ServeError(f"a server already listens at {path}")
        try:
            os.unlink(path)  # (a server that is gone)
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


def serve(
    path: str,
    idle: float,
    log: Callable[[str], None],
    verbose: bool = False,
    give_way: bool = False,
) -> int:
    """Take runs at `path` until a signal, `idle` seconds (0: no limit) with no
    run, or a change of its own code; `verbose`: a line on standard error for
    each run; `give_way` (a server a run started, client.start_server): also
    as soon as a client of another installation asks (its next run starts its
    own). A client that is not served (another installation's) is no run: it
    keeps no server from its idle end. The exit code: 0, or 128 + the signal."""
    global _IMPORTED
    path = os.path.abspath(path)  # (its holders leave the folder they start in)
    _open_standard_descriptors()  # (before the socket, which would be one of them)
    sock = listen(path)  # (first: a second server is refused at once)
    runs: set[int] = set()
    code = 0
    ours: int | None = None  # (the socket's inode: removed only while it is this server's)

    def stop(signum: int, frame: types.FrameType | None) -> None:
        raise _Stop(signum)

    def say(message: str) -> None:
        with contextlib.suppress(OSError):  # (its own output closed: it goes on)
            log(message)

    before = {s: signal.signal(s, stop) for s in _SIGNALS}
    # The runs' copies say here which folder they ran in; when no run is under
    # way, a holder of that folder's site is started (see _hold).
    asked_r, asked_w = os.pipe()
    os.set_blocking(asked_r, False)
    os.set_blocking(asked_w, False)  # (a copy never waits on a full pipe: it says nothing)
    wanted: set[str] = set()
    holders: dict[tuple[int, int], int] = {}  # (device, inode) of the folder -> process
    failed: dict[tuple[int, int], float] = {}  # folders with nothing to hold -> since when
    try:
        ours = os.stat(path).st_ino
        warm()
        _IMPORTED = _imported()
        gc.freeze()  # (the imports' objects: a run's collections need not look at them)
        stamp = client.code_stamp()  # (after the imports, which may write bytecode)
        say(f"listening at {path} (process {os.getpid()})")
        last = looked = time.monotonic()
        sock.settimeout(0.5)
        while True:
            _reap(runs)
            _reap_holders(holders, failed)
            said = _asked(asked_r)
            if give_way and _OTHER in said:
                say("a run of another installation asked: giving way to its server")
                break
            ran = [folder for folder in said if folder != _OTHER]
            if ran:  # (a run, here or in a holder)
                wanted.update(folder for folder in ran if folder)
                last = time.monotonic()
            if not runs and wanted:
                cwd = wanted.pop()
                key = _folder_key(cwd)
                if (
                    key is not None
                    and key not in holders
                    and len(holders) < HOLDERS_MAX
                    and time.monotonic() - failed.get(key, -_RETRY_HOLDER) >= _RETRY_HOLDER
                ):
                    closed = (sock, asked_r)
                    _hold(cwd, key, holders, path, closed, asked_w, stamp, verbose, say)
            now = time.monotonic()
            if idle and not runs and now - last > idle:
                say(f"no run for {idle:g} s: stopping")
                break
            if now - looked > _STAMP_EVERY:
                looked = now
                if client.code_stamp() != stamp:
                    say("handbook-lint's code changed since the server started: stopping")
                    break
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError as exc:  # (out of descriptors, a client gone at once)
                say(f"could not take a run: {exc.strerror or exc}")
                time.sleep(0.1)
                continue
            _fork(conn, (sock, asked_r), stamp, verbose, say, runs, asked_w)
        sock.close()
        _unlink(path, ours)
        _wait(runs, None)  # (the runs under way finish)
    except _Stop as signalled:
        code = 128 + signalled.signum
        say(f"stopped ({signal.Signals(signalled.signum).name})")
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
        sock.close()
        _unlink(path, ours)
        # (stopped by a signal, the holders are too; else they let their runs
        # finish, as this server did, and end once they see it gone)
        held = set(holders.values()) if code else set()
        _end(runs | held, grace=5.0 if held else 3.0)  # (a holder ends its own runs in 3 s)
        os.close(asked_r)
        os.close(asked_w)
    return code


def _fork(
    conn: socket.socket,
    closed: tuple[socket.socket | int, ...],
    stamp: str,
    verbose: bool,
    log: Callable[[str], None],
    runs: set[int],
    tell: int | None = None,
    by: str = "",
) -> bool:
    """A copy of the server for the run at `conn`, added to `runs` (before a
    signal held meanwhile stops the server: it terminates its runs). The copy
    closes `closed` (the listening socket); it writes the folder it runs in to
    `tell` (the server's pipe); `by` names what made it, in the log."""
    from handbook_lint.engine.workers import signals_held

    sys.stdout.flush()
    sys.stderr.flush()
    # Signals are held while forking: raised in os.fork's own hooks, _Stop would
    # be printed and lost. The copy holds them until entry.run has its handlers.
    with signals_held(), contextlib.closing(conn):
        try:
            pid = os.fork()
        except OSError as exc:
            log(f"could not start a run: {exc.strerror or exc}")
            return False
        if pid == 0:
            try:
                os.setsid()  # (the server's terminal, its Ctrl-C or Ctrl-Z, is not the run's)
                for s in _SIGNALS:
                    signal.signal(s, signal.SIG_DFL)
                _close(closed)
                _run(conn, stamp, verbose, tell, by)
            except (BrokenPipeError, ConnectionResetError):
                pass  # (the client went away before the run started)
            except BaseException as exc:  # (its client says the run ended without a code)
                _say(f"the server could not run this: {type(exc).__name__}: {exc}")
            finally:
                os._exit(1)  # (a run never returns to the loop)
        runs.add(pid)
        return True


def _close(closed: tuple[socket.socket | int, ...]) -> None:
    for thing in closed:
        if isinstance(thing, int):
            os.close(thing)
        else:
            thing.close()


# What a copy says when its client was another installation's (no folder is this).
_OTHER = "\x01"


def _asked(fd: int) -> list[str]:
    """What the copies (the server's and its holders') said since last asked,
    a message each: the folder of a `check`, "" for another run, or _OTHER for
    a client of another installation."""
    data = b""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 65536):
            data += chunk
    return [os.fsdecode(part) for part in data.split(b"\0")[:-1]]


def _folder_key(folder: str) -> tuple[int, int] | None:
    """A folder as client.holder_path names its holder: its device and inode."""
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _reap_holders(
    holders: dict[tuple[int, int], int], failed: dict[tuple[int, int], float]
) -> None:
    """Forget the holders that ended; those that had nothing to hold (no site,
    a config that does not load, a load that failed) are not started again
    for _RETRY_HOLDER seconds."""
    for key, pid in list(holders.items()):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, 0
        if done:
            del holders[key]
            if status:
                failed[key] = time.monotonic()


def _hold(
    cwd: str,
    key: tuple[int, int],
    holders: dict[tuple[int, int], int],
    path: str,
    closed: tuple[socket.socket | int, ...],
    tell: int,
    stamp: str,
    verbose: bool,
    log: Callable[[str], None],
) -> None:
    """A holder of the site of `cwd`: a copy of the server that loads that site
    once (engine/resident.py), then listens at `client.holder_path` and makes
    each run it is given from a copy of itself, as the server makes its runs
    (and says so at `tell`: the server is not idle meanwhile). It ends with
    the server, after HOLDER_IDLE seconds with no run, or when the code
    changes. Added to `holders` (before a signal held meanwhile stops the
    server: it terminates its holders)."""
    from handbook_lint.engine.workers import signals_held

    sys.stdout.flush()
    sys.stderr.flush()
    server = os.getpid()
    with signals_held():
        try:
            pid = os.fork()
        except OSError as exc:
            log(f"could not start a holder of {cwd}: {exc.strerror or exc}")
            return
        if pid == 0:
            code = 1
            try:
                os.setsid()  # (the server's terminal is not the holder's)
                _close(closed)
                code = _holder(cwd, path, server, tell, stamp, verbose)
            except _Stop:
                code = 0  # (a second signal as it cleaned up: stopped, as asked)
            except BaseException as exc:  # (a holder that fails leaves runs to the server)
                if verbose:
                    _say(f"the holder of {cwd} ended: {type(exc).__name__}: {exc}")
            finally:
                os._exit(code)
        holders[key] = pid


def _holder(cwd: str, path: str, server: int, tell: int, stamp: str, verbose: bool) -> int:
    from handbook_lint.engine.workers import release_signals

    def stop(signum: int, frame: types.FrameType | None) -> None:
        raise _Stop(signum)

    runs: set[int] = set()
    sock: socket.socket | None = None
    where: str | None = None
    ours: int | None = None
    try:
        for s in (*_SIGNALS, signal.SIGHUP):
            signal.signal(s, stop)
        release_signals()  # (held since the fork: _hold)
        os.chdir(cwd)
        where = client.holder_path(path)
        if where is None or not _keep_site():
            return _NOTHING_HELD
        gc.freeze()
        sock = listen(where)  # (once the site is loaded: a client waits for no load)
        ours = os.stat(where).st_ino
        os.chdir("/")  # (its runs take their client's folder; this one holds none busy)
        if verbose:
            _say(f"holding the site of {cwd} (process {os.getpid()})")
        last = looked = time.monotonic()
        sock.settimeout(0.5)
        while True:
            _reap(runs)
            now = time.monotonic()
            if os.getppid() != server or (not runs and now - last > HOLDER_IDLE):
                break
            if now - looked > _STAMP_EVERY:
                looked = now
                if client.code_stamp() != stamp:
                    break
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                time.sleep(0.1)
                continue
            # (its copies tell the server of each run they make, or of a client
            # of another installation: as the server's own copies do)
            if _fork(conn, (sock,), stamp, verbose, _say, runs, tell, "the site kept"):
                last = time.monotonic()
        # (the server gone, the code changed, idle: no new run, those under way finish)
        sock.close()
        _unlink(where, ours)
        _wait(runs, None)
    except ServeError:
        return _NOTHING_HELD
    except _Stop:
        pass
    finally:
        # (stopping: a second signal, `pkill` reaching it and the server both,
        # must not cut the clean-up short)
        for s in (*_SIGNALS, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        if sock is not None:
            sock.close()
        if where is not None:
            _unlink(where, ours)
        _end(runs)
    return 0


def _keep_site() -> bool:
    """Load the site of the working directory and keep it for the runs made
    from this process (cli.RESIDENT); False when there is none to keep."""
    from handbook_lint import cli
    from handbook_lint.cache.sqlite import close_all
    from handbook_lint.checks.selection import active_rules
    from handbook_lint.config.settings import ConfigError, load_config
    from handbook_lint.config.sites import group
    from handbook_lint.engine.resident import Resident

    groups = group([], Path.cwd(), None).groups
    if not groups:
        return False
    site = groups[0]
    try:
        config = load_config(site.config, cwd=site.root)
    except ConfigError:
        return False
    cli.RESIDENT = Resident.load((site.config, site.root), config, active_rules(config))
    # (its runs open connections of their own: one held open here would keep the
    # write-ahead log beside the database for as long as the holder lives)
    close_all()
    return True


def _unlink(path: str, ours: int | None) -> None:
    """Remove the socket, if it is still this server's."""
    with contextlib.suppress(OSError):
        if ours is not None and os.stat(path).st_ino == ours:
            os.unlink(path)


def _say(message: str) -> None:
    """A line on standard error: the server's, or the client's once the run has
    taken its descriptors."""
    with contextlib.suppress(OSError):
        os.write(2, f"handbook-lint: {message}\n".encode("utf-8", "backslashreplace"))


def _reap(runs: set[int]) -> None:
    """Forget the runs that ended."""
    for pid in list(runs):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            runs.discard(pid)


def _wait(runs: set[int], seconds: float | None) -> None:
    """Until the runs ended, or `seconds` passed (None: no limit)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    while runs and (deadline is None or time.monotonic() < deadline):
        _reap(runs)
        time.sleep(0.02)


def _end(runs: set[int], grace: float = 3.0) -> None:
    """Terminate the runs still going (they stop as on Ctrl-C, within
    entry.GRACE_SECONDS), and wait for them."""
    for pid in runs:
        client.kill(pid, signal.SIGTERM)
    _wait(runs, grace)
    for pid in runs:
        client.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _run(
    conn: socket.socket, stamp: str, verbose: bool, tell: int | None = None, by: str = ""
) -> None:
    """In the forked copy: become the client's run, and run it (and say the
    folder of a `check` to the server, at `tell`)."""
    client_pid, uid, _ = client.peer_credentials(conn)
    if uid != os.getuid():
        return
    conn.settimeout(client.HANDSHAKE_SECONDS)
    asked = _request(conn)
    if asked is None:
        return
    why = _other(asked, stamp) if asked.get("stamp") != stamp else _shadowed(asked)
    if why is not None:
        conn.sendall(b"S\n")  # (other code than the server's: its client runs it)
        if verbose:
            _say(f"a run left to its client: {why}")
        if tell is not None:
            with contextlib.suppress(OSError):
                os.write(tell, _OTHER.encode() + b"\0")
        return
    _become(asked, client_pid)  # (before the client hears of the run: if it fails, it runs it)
    if signal.sigpending() & set(_SIGNALS):
        return  # (the server is stopping: the client runs it)
    conn.sendall(f"P{os.getpid()}\n".encode())
    # The client's descriptors come only now, with its `G`: a server that never
    # got here (stopped) holds no pipe of the client's open.
    go, fds, _, _ = socket.recv_fds(conn, 1, 3)
    try:
        if go != b"G" or len(fds) != 3:
            return  # (the client went away: nothing has run)
        if verbose:
            made = f", {by}" if by else ""
            _say(f"run {os.getpid()}: {shlex.join(sys.argv[1:])} (in {os.getcwd()}{made})")
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
    finally:
        for fd in fds:
            os.close(fd)
    if tell is not None:
        held = sys.argv[1:2] == ["check"] and "--no-cache" not in sys.argv
        with contextlib.suppress(OSError):  # (one short write: whole, or not at all)
            os.write(tell, (os.fsencode(os.getcwd()) if held else b"") + b"\0")
        os.close(tell)
    _streams(asked["streams"])
    conn.settimeout(None)
    replied: list[int] = []
    _watch(conn, replied)
    from handbook_lint import entry

    def reply(code: int) -> None:
        replied.append(code)
        conn.sendall(f"X{code}\n".encode())

    try:
        entry.run(reply)
    except BaseException as exc:  # (what a run of its own would end with, less the traceback)
        _say(f"internal error: {type(exc).__name__}: {exc}")
        entry._out(1)


def _request(conn: socket.socket) -> dict[str, object] | None:
    """The client's request, once all of it came (None: not a whole one)."""
    header = _exactly(conn, 4)
    if header is None:
        return None
    size = int.from_bytes(header, "big")  # (as client._exchange writes it)
    body = _exactly(conn, size) if size <= _MAX_REQUEST else None
    if body is None:
        return None
    try:
        asked = marshal.loads(body)
    except (ValueError, EOFError, TypeError):
        return None  # (another Python's marshal)
    return asked if isinstance(asked, dict) else None


def _exactly(conn: socket.socket, size: int) -> bytes | None:
    """`size` bytes from `conn` (None: it ended before)."""
    data = bytearray()
    while len(data) < size:
        chunk = conn.recv(min(size - len(data), 1 << 20))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _watch(conn: socket.socket, replied: list[int]) -> None:
    """The client sends nothing after its `G`: the end of its socket before the
    run's exit code means it was killed (SIGKILL), and so is the run, as it
    would have been (its workers die with it, as they die with any run). The
    kernel says when the socket changes (SIGIO, to this process alone): no
    thread, which the run's forks would not want."""
    import fcntl

    def changed(signum: int, frame: types.FrameType | None) -> None:
        try:
            gone = conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            gone = False  # (writable, or nothing yet)
        except OSError:
            gone = True
        if gone and not replied:
            os.kill(os.getpid(), signal.SIGKILL)

    signal.signal(signal.SIGIO, changed)
    fd = conn.fileno()
    fcntl.fcntl(fd, fcntl.F_SETOWN, os.getpid())
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC)
    changed(signal.SIGIO, None)  # (gone already?)


def _other(asked: dict[str, object], stamp: str) -> str:
    """How the client's code differs from the server's (the first difference)."""
    theirs = asked.get("stamp")
    if not isinstance(theirs, str):
        return "not a request of this handbook-lint"
    for mine, its in zip(stamp.splitlines(), theirs.splitlines(), strict=False):
        if mine != its:
            shown = its.replace("\0", " "), mine.replace("\0", " ")
            return f"another installation ({shown[0]!r} there, {shown[1]!r} here)"
    return "another installation"


def _open_standard_descriptors() -> None:
    """Descriptors 0, 1 and 2 open (on /dev/null where they were closed), and
    the streams Python left None for them made: the socket or a run's
    connection must not become one of them, which a run's copy replaces with
    its client's, and the server's own writes (its log, flushes before each
    fork) must not fail."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)  # (the lowest free: this one)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
            os.set_inheritable(fd, True)  # (a standard descriptor, as it would have been)
        if getattr(sys, name) is None:
            # (the process's own, for its whole life; /dev/null takes anything)
            stream = open(  # noqa: SIM115
                fd, mode, buffering=1, closefd=False, encoding="utf-8", errors="backslashreplace"
            )
            setattr(sys, name, stream)


class _Imports(NamedTuple):
    """What the server's copies compare a client's first import folder with."""

    first: str  # the server's own first import folder
    modules: dict[str, str]  # the top-level modules it imported from files -> their real path
    own: dict[str, tuple[int, int] | None]  # those it found in `first` -> size and time then


_IMPORTED: _Imports | None = None  # (set once the server is warm)


def _first_folder(path: list[str], cwd: str) -> str:
    """The folder `sys.path[0]` names ("": the working directory)."""
    return os.path.realpath(os.path.join(cwd, path[0])) if path else ""


def _imported() -> _Imports:
    """This process's imports: the top-level modules it imported from files, but
    those built in or frozen, which no folder on the import path can replace."""
    modules: dict[str, str] = {}
    for name, module in list(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None)
        if "." in name or name == "__main__" or not isinstance(origin, str):
            continue
        if not getattr(spec, "has_location", False):
            continue
        modules[name] = os.path.realpath(origin)
    ours = _first_folder(sys.path, os.getcwd())
    own = {
        name: _state(origin)
        for name, origin in modules.items()
        if name != "handbook_lint" and _module_in(ours, name, origin)  # (in the stamp)
    }
    return _Imports(ours, modules, own)


def _module_in(folder: str, name: str, origin: str) -> bool:
    """`origin` is what `folder` gives as module `name`: a file of it (`name.py`,
    `name.*.so`) or its package `name/` (asked of the path, not the folder,
    which may have changed since the import)."""
    where = os.path.dirname(origin)
    if os.path.basename(origin).startswith("__init__."):
        return os.path.dirname(where) == folder and os.path.basename(where) == name
    return where == folder


def _state(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _found_in(name: str, folders: list[str]) -> str | None:
    """The file the import path `folders` gives top-level module `name` (its
    real path; None: none there, or a namespace package)."""
    from importlib.machinery import PathFinder

    try:
        spec = PathFinder.find_spec(name, folders)
    except (ImportError, ValueError, OSError):
        return None
    origin = getattr(spec, "origin", None)
    if spec is None or not spec.has_location or not isinstance(origin, str):
        return None
    return os.path.realpath(origin)


def _shadowed(asked: dict[str, object]) -> str | None:
    """Why the client would import other code than the server did (None: it
    would not). The stamp leaves the first import folder out (a script's
    folder differs between installs of the same code), and `python -m` puts the
    working directory there: a `yaml.py` in it, or a module the server found in
    its own first folder and the client would find elsewhere, makes the client
    run by itself."""
    path, cwd = asked.get("path"), asked.get("cwd")
    if _IMPORTED is None or not (isinstance(path, list) and isinstance(cwd, str)):
        return None
    ours, modules, own = _IMPORTED
    folders = [str(p) for p in path]
    theirs = _first_folder(folders, cwd)
    # (the folder looked at anew: a finder the server kept for it lists what
    # was there when it looked, as long as the folder's time does not change)
    sys.path_importer_cache.pop(theirs, None)
    try:
        names = {entry.partition(".")[0] for entry in os.listdir(theirs)} & modules.keys()
    except OSError:
        names = set()  # (no folder: nothing in it to import)
    for name in sorted(names):
        found = _found_in(name, [theirs])
        if found is not None and found != modules[name]:
            return f"{found} would be the client's {name}, not the server's {modules[name]}"
    rest = [theirs, *folders[1:]]
    for name, state in sorted(own.items()):  # (mostly none: a yaml.py where it started)
        if _found_in(name, rest) != modules[name] or _state(modules[name]) != state:
            return f"the server imported {name} from its own first import folder {ours}"
    return None


def _become(asked: dict[str, object], client_pid: int) -> None:
    """Take the client's working directory, environment, umask, arguments,
    import path, signals it ignores, and what the system gives it alone."""
    env, argv, path = asked["env"], asked["argv"], asked["path"]
    umask, ignored = asked["umask"], asked.get("ignored", [])
    if not (
        isinstance(env, dict)
        and isinstance(argv, list)
        and isinstance(path, list)
        and isinstance(umask, int)
        and isinstance(ignored, list)
    ):
        raise ValueError("a malformed request")
    os.chdir(str(asked["cwd"]))
    os.environ.clear()
    os.environ.update(env)
    os.umask(umask)
    sys.argv = [str(a) for a in argv]
    sys.path[:] = path  # (its first folder: the client's script's, or its cwd with -m)
    # (click names the program from __main__: `python -m handbook_lint`, or the
    # script's name)
    main = types.ModuleType("__main__")
    main.__package__ = asked.get("main_package")  # type: ignore[assignment]
    sys.modules["__main__"] = main
    for signum in (signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_IGN if int(signum) in ignored else signal.SIG_DFL)
    _adopt(client_pid)


def _adopt(pid: int) -> None:
    """The client's CPU affinity, priority, resource limits (as far as this
    process may lower or keep its own) and cgroup (for the CPUs a run may use)."""
    import resource

    from handbook_lint.engine import workers

    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, os.sched_getaffinity(pid))
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, pid))

    def lower(a: int, b: int) -> int:
        infinite = resource.RLIM_INFINITY
        return b if a == infinite else a if b == infinite else min(a, b)

    for name in dir(resource):
        if name.startswith("RLIMIT_"):
            limit = getattr(resource, name)
            with contextlib.suppress(OSError, ValueError):
                soft, hard = resource.prlimit(pid, limit)
                _, own_hard = resource.getrlimit(limit)
                hard = lower(hard, own_hard)
                resource.setrlimit(limit, (lower(soft, hard), hard))
    workers.CGROUP_OF = f"/proc/{pid}/cgroup"


def _streams(given: object) -> None:
    """Standard streams on the client's descriptors, made as Python makes them
    (its encoding, errors, line buffering and write-through as the client's)."""
    import io

    assert isinstance(given, dict)
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        settings = given.get(name)
        if not settings:
            continue
        encoding, errors, line, through = settings
        # (io.open sizes the buffer from the file, as Python's own streams;
        # unbuffered below a write-through stream, as with -u)
        unbuffered = through and fd != 0
        buffered: Any = open(  # noqa: SIM115  (the stream of the run, as Python's own)
            fd, "rb" if fd == 0 else "wb", buffering=0 if unbuffered else -1, closefd=False
        )
        stream = io.TextIOWrapper(
            buffered,
            encoding=encoding,
            errors=errors,
            newline="\n",
            line_buffering=line,
            write_through=through,
        )
        setattr(sys, name, stream)
