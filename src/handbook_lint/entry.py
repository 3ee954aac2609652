"""The `handbook-lint` command's entry point: signal handlers first, then the
command line (whose imports take a while: a Ctrl-C during them must end the
run as any other)."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # (typing's without importing it: a served run imports little)
if TYPE_CHECKING:
    import signal
    from collections.abc import Callable
else:  # (the module under `signal`, without its enums: 5 ms of a served run's client)
    import _signal as signal


def run(reply: Callable[[int], None] | None = None) -> None:
    """Ctrl-C and SIGTERM (CI cancelling a job) stop the run the same way: the
    worker processes are terminated, the cache stays valid (its writes are
    transactions), and the exit code is 128 + the signal (130, 143).

    The run is handed to `handbook-lint serve` when one listens (client.py);
    `reply`: this is such a run, in the server's copy, and it gives the exit
    code to its client."""
    global _MAIN_PID
    _MAIN_PID = os.getpid()
    _REPLY[:] = [reply] if reply else []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stopped)
    if reply is None:
        from handbook_lint import client

        code = client.delegate(sys.argv)
        if code is not None:
            _out(code)
    try:
        if reply is not None:  # (a server's copy holds them until now: server.py)
            from handbook_lint.engine.workers import release_signals

            release_signals()
        from handbook_lint.cli import main

        main()
    except SystemExit as done:
        if _STOPPED or not isinstance(done.code, int | None):
            raise
        # The run is over: reports are renamed into place, worker pools are
        # shut down, the cache's writes are committed (and its files are closed
        # here). Freeing every object of a big site (a warm run holds all its
        # pages' summaries) took longer than some whole runs of one page, so
        # the process ends without it, as mypy does.
        cache = sys.modules.get("handbook_lint.cache.sqlite")
        if cache is not None:
            cache.close_all()
        _out(done.code or 0)
    finally:
        if _STOPPED:
            # Out at once: the interpreter's exit hooks would wake the worker
            # pool through a pipe its shutdown may have closed already, and
            # print "Exception ignored ... Bad file descriptor" (CPython 3.11).
            _out(_STOPPED[0])


def _out(code: int) -> None:
    """Flush what was printed and end the process at once. A closed pipe on
    stdout (`| head`) loses nothing that was asked for and is not an error; any
    other failure to write (a full disk) is, as Python's own exit says it (120)."""
    ahead = sys.modules.get("handbook_lint.cache.ahead")
    if ahead is not None:  # (a page parsed ahead that the run did not need)
        ahead.stop_all()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            pass
        except (OSError, ValueError) as exc:
            try:
                sys.stderr.write(f"handbook-lint: could not write the output: {exc}\n")
                sys.stderr.flush()
            except Exception:
                pass
            code = 120
    _exit_now(code)


GRACE_SECONDS = 2.0  # how long stopping may take (threads finishing a request)


_STOPPED: list[int] = []  # the exit code, once a signal stopped the run

_REPLY: list[Callable[[int], None]] = []  # a server's run: how its client hears the code


_MAIN_PID = os.getpid()
_NAMES: dict[int, str] = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}  # (what stops a run)


def served() -> bool:
    """This run is a server's copy, run for a client (server.py)."""
    return bool(_REPLY)


def stopped() -> bool:
    """A signal stopped this run (Ctrl-C, SIGTERM)."""
    return bool(_STOPPED)


def _exit_now(code: int) -> None:
    """Out, now (a run that would not stop in time); a server's client hears
    the code all the same."""
    for reply in _REPLY:
        try:  # noqa: SIM105  (no contextlib: a served run's client imports little)
            reply(code)
        except OSError:
            pass
    os._exit(code)


def _stopped(signum: int, frame: object) -> None:
    code = 128 + signum
    if os.getpid() != _MAIN_PID:
        # A child forked before it set its own handlers (a parse-ahead child,
        # cache/ahead.py; a worker, engine/workers.py): it ends quietly, as it
        # would with them.
        os._exit(code)
    _STOPPED.append(code)
    for other in (signal.SIGINT, signal.SIGTERM):  # (a second signal changes nothing)
        signal.signal(other, signal.SIG_IGN)
    sys.stderr.write(f"\nhandbook-lint: stopped ({_NAMES.get(signum, signum)})\n")
    # Threads in the middle of a request (external links) would hold the exit
    # up; CI follows SIGTERM with SIGKILL a few seconds later. (`threading` is
    # not imported here, where the signal may have come in the middle of its
    # import: a run that has not finished importing it has no thread to wait for.)
    threading = sys.modules.get("threading")
    if threading is not None and not getattr(threading.__spec__, "_initializing", False):
        timer = threading.Timer(GRACE_SECONDS, _exit_now, (code,))
        timer.daemon = True
        timer.start()
    raise SystemExit(code)
