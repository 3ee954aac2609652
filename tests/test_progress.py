"""The progress line: on a terminal only, never in machine formats."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from conftest import write_site

PAGES = {f"content/p{i}.md": f"---\ntitle: P{i}\n---\n\n1. [x](/p{i + 1}/)\n" for i in range(80)}


def run(root: Path, *args: str, tty: bool) -> str:
    env = {**os.environ, "HANDBOOK_LINT_PROGRESS_DELAY": "0"}
    cmd = [sys.executable, "-m", "handbook_lint", "check", "-j", "1", "--no-cache", *args]
    if not tty:
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
        return proc.stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


def test_progress_on_a_terminal_only(tmp_path: Path) -> None:
    write_site(tmp_path, PAGES, {})
    on_tty = run(tmp_path, tty=True)
    assert "parsing [" in on_tty and "80/80" in on_tty
    assert run(tmp_path, tty=False) == ""
    assert "parsing" not in run(tmp_path, "--format", "json", tty=True)
