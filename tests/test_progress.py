"""The progress line: on a terminal only, never in machine formats."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from conftest import write_site
from local_http import Server

PAGES = {f"content/p{i}.md": f"---\ntitle: P{i}\n---\n\n1. [x](/p{i + 1}/)\n" for i in range(80)}


def run(root: Path, *args: str, tty: bool) -> str:
    env = {**os.environ, "HANDBOOK_LINT_PROGRESS_DELAY": "0"}
    cmd = [sys.executable, "-m", "handbook_lint", "check", "-j", "1", "--no-cache", *args]
    if not tty:
        done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
        return done.stderr
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


def test_external_link_progress_counts_done_and_failed(tmp_path: Path, server: Server) -> None:
    paths = [f"/404?n={i}" if i % 3 == 0 else f"/ok/{i}" for i in range(30)]
    links = "".join(f"- [p{i}]({server.url(path)})\n" for i, path in enumerate(paths))
    write_site(
        tmp_path,
        {"content/a.md": f"---\ntitle: A\n---\n\n{links}"},
        {"external": {"allow_private": True}},
    )
    on_tty = run(tmp_path, "--external", tty=True)
    assert "external links [" in on_tty and "30/30 10 failed" in on_tty
    assert "external links" not in run(tmp_path, "--external", tty=False)
    assert "external links" not in run(tmp_path, "--external", "--format", "json", tty=True)
