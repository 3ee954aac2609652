"""Files written whole or not at all: through a temporary file in the same
folder, renamed over the file. A reader (another run, an editor) sees the old
file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write `data` (text as UTF-8); the file gets the mode a new file gets
    (the umask), or keeps its own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    _replace(path, data.encode("utf-8") if isinstance(data, str) else data, mode, None)


def write_keeping_mode(path: Path, data: bytes) -> None:
    """Write `data` over an existing file, which keeps its mode and, where
    allowed, its owner."""
    st = path.stat()
    _replace(path, data, st.st_mode & 0o7777, (st.st_uid, st.st_gid))


def _replace(path: Path, data: bytes, mode: int, owner: tuple[int, int] | None) -> None:
    import tempfile  # (with shutil, 5 ms: only runs that write a file pay it)

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        if owner is not None:
            with contextlib.suppress(PermissionError, AttributeError):
                os.chown(tmp, *owner)  # (only root may give a file away)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
