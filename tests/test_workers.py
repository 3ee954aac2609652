"""workers.signals_held: Ctrl-C and SIGTERM held while a run forks, and never
left held (the run's signal handlers may raise inside the blocking call)."""

from __future__ import annotations

import signal
import sys

import pytest

from handbook_lint.engine import workers

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signal masks")

HELD = {signal.SIGINT, signal.SIGTERM}


def _mask() -> set[int]:
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, ()))


def test_the_signals_are_held_in_the_block_and_the_mask_is_restored_after() -> None:
    before = _mask()
    with workers.signals_held():
        assert _mask() >= HELD
    assert _mask() == before


def test_a_handler_that_raises_inside_the_blocking_call_leaves_nothing_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CPython runs a pending signal's handler inside pthread_sigmask, after the
    mask changed: what the handler raises (the run's SystemExit) must not
    leave Ctrl-C and SIGTERM blocked for good."""
    real = signal.pthread_sigmask
    before = _mask()

    def blocking_then_raising(how: int, mask: object) -> set[int | signal.Signals]:
        result = real(how, mask)  # type: ignore[arg-type]
        if how == signal.SIG_BLOCK and set(mask) >= HELD:  # type: ignore[call-overload]
            raise SystemExit(130)  # (a Ctrl-C that was pending)
        return result

    monkeypatch.setattr(signal, "pthread_sigmask", blocking_then_raising)
    try:
        with pytest.raises(SystemExit), workers.signals_held():
            pytest.fail("the block ran")
        assert _mask() == before
    finally:
        real(signal.SIG_SETMASK, before)
