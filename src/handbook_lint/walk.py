"""`os.walk`, top-down, without recursion: Python 3.11's walk recurses once per
folder level, so a tree 1,000 folders deep ends in a RecursionError. Same
contract: (folder, subfolder names, file names); the caller may prune the
subfolder names in place; symlinked folders are listed but not entered (no
loops); an unreadable folder goes to `onerror`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator


def walk(
    top: str | os.PathLike[str], onerror: Callable[[OSError], None] | None = None
) -> Iterator[tuple[str, list[str], list[str]]]:
    stack = [os.fspath(top)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            if onerror is not None:
                onerror(exc)
            continue
        folders: list[str] = []
        files: list[str] = []
        links: set[str] = set()  # (the listing knows: no lstat per folder)
        for entry in entries:
            try:
                inside = entry.is_dir()
            except OSError:
                inside = False
            if inside:
                with contextlib.suppress(OSError):  # (as os.path.islink: not a link)
                    if entry.is_symlink():
                        links.add(entry.name)
            (folders if inside else files).append(entry.name)
        yield folder, folders, files
        for name in reversed(folders):  # (depth first, in the caller's order)
            if name not in links:
                stack.append(os.path.join(folder, name))
