"""A team's day, end to end: a git repository of a handbook (at its top or in a
subfolder, with include files and old findings on main), commits through the
real pre-commit framework with the README's snippet, and merge requests checked
by the job in docs/ci/gitlab-ci.yml against a real origin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from gitrepo import (
    Handbook,
    found,
    git,
    job_script,
    places,
    project_rev,
    push_and_branch,
    readme_block,
    run_after_script,
    run_job,
)

pytestmark = pytest.mark.slow  # real pre-commit environments and git repositories

OLD = ("content/handbook/tools.md", 7, "link-broken")  # on main before the hook came


@pytest.fixture(scope="session")
def rev() -> str:
    found = project_rev()
    if found is None:
        pytest.skip("the project is not a git checkout with a commit")
    return found


@pytest.fixture(scope="session")
def hooks_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def adopted(tmp_path: Path, rev: str, hooks_home: Path, site_dir: str = "") -> Handbook:
    """A handbook with history (an old broken link on main), then the hook adopted."""
    handbook = Handbook(tmp_path / "handbook", site_dir, hooks_home)
    git(handbook.top, "add", "-A")
    git(handbook.top, "commit", "-q", "-m", "the handbook so far")
    handbook.install_hook(rev)
    git(handbook.top, "add", "-A")
    git(handbook.top, "commit", "-q", "-m", "adopt handbook-lint", env=handbook.env)
    return handbook


@pytest.mark.parametrize("site_dir", ["", "site"])
def test_commits_are_refused_only_for_what_they_introduce(
    tmp_path: Path, rev: str, hooks_home: Path, site_dir: str
) -> None:
    handbook = adopted(tmp_path, rev, hooks_home, site_dir)
    prefix = f"{site_dir}/" if site_dir else ""
    commits = handbook.commits()

    # (a) An include edit, an edit to a page with an old finding, and to the
    # README beside the site: all commit.
    handbook.append("assets/includes/engineering-nav.md", "\nMore about engineering.\n")
    handbook.append("content/handbook/tools.md", "\nA new paragraph.\n")
    (handbook.top / "README.md").write_text("# Changed\n\nStill no front matter.\n", "utf-8")
    ok = handbook.commit("edits")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert handbook.commits() == commits + 1

    # (b) A broken link added to an include file is refused, at the include's line.
    handbook.append("assets/includes/engineering-nav.md", "\n[Broken](/handbook/nowhere/)\n")
    bad = handbook.commit("broken include link")
    out = bad.stdout + bad.stderr
    assert bad.returncode != 0
    assert (
        f"{prefix}assets/includes/engineering-nav.md:9:10: error link-broken link to "
        "'/handbook/nowhere/': no such page or file"
    ) in out
    assert "tools.md" not in out  # the old finding is not this commit's doing
    git(handbook.top, "reset", "-q", "--hard")

    # (c) Deleting a page that others link to is refused, with the linking places.
    (handbook.site / "content/handbook/values.md").unlink()
    gone = handbook.commit("delete values")
    out = gone.stdout + gone.stderr
    assert gone.returncode != 0
    note = "content/handbook/values.md was deleted by this change: add an alias or a redirect"
    assert places(out, "link-broken") == [
        f"{prefix}assets/includes/engineering-nav.md:3",
        f"{prefix}content/handbook/_index.md:7",
        f"{prefix}content/handbook/engineering/_index.md:9",
    ], out
    assert out.count(note) == 3
    git(handbook.top, "reset", "-q", "--hard")

    # Renamed, with an alias that keeps the old URL working: commits.
    old, new = "content/handbook/values.md", "content/handbook/our-values.md"
    git(handbook.top, "mv", prefix + old, prefix + new)
    page = handbook.site / new
    text = page.read_text("utf-8").replace(
        "title: Values", "title: Values\naliases: [/handbook/values/]"
    )
    page.write_text(text, "utf-8")
    moved = handbook.commit("rename values, keep its URL")
    assert moved.returncode == 0, moved.stdout + moved.stderr

    # (d) A commit of images only (pre-commit passes the hook no file): a
    # screenshot beside a page is refused; in static/images/ it commits.
    (handbook.site / "content/handbook/screenshot.png").write_bytes(b"\x89PNG\r\n")
    media = handbook.commit("a screenshot")
    out = media.stdout + media.stderr
    assert media.returncode != 0
    assert (
        f"{prefix}content/handbook/screenshot.png:1: error media-location an image outside "
        "static/images/"
    ) in out, out
    git(handbook.top, "mv", f"{prefix}content/handbook/screenshot.png", f"{prefix}static/images/")
    media = handbook.commit("a screenshot, in its place")
    assert media.returncode == 0, media.stdout + media.stderr

    # pre-commit run --all-files still lints everything (the old finding too).
    run = handbook.run_hooks("--all-files")
    assert run.returncode != 0
    assert f"{prefix}content/handbook/tools.md:7:27: error link-broken" in run.stdout


@pytest.mark.parametrize("site_dir", ["", "site"])
def test_the_merge_request_job_reports_exactly_what_the_branch_introduced(
    tmp_path: Path, rev: str, hooks_home: Path, site_dir: str
) -> None:
    handbook = Handbook(tmp_path / "handbook", site_dir)
    git(handbook.top, "add", "-A")
    git(handbook.top, "commit", "-q", "-m", "main, with an old broken link")
    work = push_and_branch(handbook, tmp_path)
    site = work / site_dir if site_dir else work
    prefix = f"{site_dir}/" if site_dir else ""

    # (d) Two new findings (one in an include file), edits to a page with an old
    # finding that move it down, and a README change.
    tools = site / "content/handbook/tools.md"
    tools.write_text(
        tools.read_text("utf-8").replace("## Editors", "Intro.\n\n## Editors"), "utf-8"
    )
    nav = site / "assets/includes/engineering-nav.md"
    nav.write_text(nav.read_text("utf-8") + "\n[Broken](/handbook/nowhere/)\n", "utf-8")
    values = site / "content/handbook/values.md"
    values.write_text(values.read_text("utf-8").replace("## Iteration", "## Iterate"), "utf-8")
    (work / "README.md").write_text("# Changed\n", "utf-8")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "feature")

    code, log, report = run_job(work)
    assert code == 1, log
    assert found(report) == [
        (f"{prefix}assets/includes/engineering-nav.md", 7, "link-broken"),
        (f"{prefix}content/handbook/engineering/_index.md", 9, "link-anchor-missing"),
    ]
    assert "(1 was already on origin/main, not counted)" in log
    assert f"{prefix}content/handbook/tools.md" not in log.split("checked")[0]


def test_a_clean_branch_passes_despite_old_findings(tmp_path: Path) -> None:
    handbook = Handbook(tmp_path / "handbook")
    git(handbook.top, "add", "-A")
    git(handbook.top, "commit", "-q", "-m", "main")
    work = push_and_branch(handbook, tmp_path)
    (work / "content/handbook/more.md").write_text(
        "---\ntitle: More\n---\n\n[Values](/handbook/values/#credit)\n", "utf-8"
    )
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "clean")
    code, log, report = run_job(work)
    assert code == 0, log
    assert report == []


FIXABLE_PAGE = (
    "---\ntitle: Steps\n---\n\nRead the [GitLab misson](/handbook/values/).\n\n"
    "1. one\n1. two\n2. three\n"
)
FIXED_PAGE = FIXABLE_PAGE.replace("misson", "mission").replace("2. three", "1. three")


def test_the_fix_hook_fixes_staged_pages_and_the_commit_waits_for_a_look(
    tmp_path: Path, rev: str, hooks_home: Path
) -> None:
    handbook = Handbook(tmp_path / "handbook", "", hooks_home)
    git(handbook.top, "add", "-A")
    git(handbook.top, "commit", "-q", "-m", "the handbook so far")
    handbook.install_hook(rev, "### Fixing what it finds")  # the README's two hooks
    git(handbook.top, "add", "-A")
    git(handbook.top, "commit", "-q", "-m", "adopt handbook-lint", env=handbook.env)
    commits = handbook.commits()
    old = (handbook.site / "content/handbook/tools.md").read_bytes()

    handbook.write("content/handbook/steps.md", FIXABLE_PAGE)
    first = handbook.commit("steps")
    out = first.stdout + first.stderr
    assert first.returncode != 0 and handbook.commits() == commits, out
    assert "files were modified by this hook" in out
    assert "fixed 2 findings in 1 file (list-numbering 1, spelling 1)" in out
    page = handbook.site / "content/handbook/steps.md"
    assert page.read_text("utf-8") == FIXED_PAGE
    # Only the staged page was touched (tools.md has an old, unfixable finding).
    assert (handbook.site / "content/handbook/tools.md").read_bytes() == old

    again = handbook.commit("steps, fixed")  # the user looked, staged, committed
    assert again.returncode == 0, again.stdout + again.stderr
    assert handbook.commits() == commits + 1
    shown = git(handbook.top, "show", "HEAD:content/handbook/steps.md").stdout
    assert shown == FIXED_PAGE


def _refused_for_a_broken_include_link(handbook: Handbook) -> None:
    handbook.append("assets/includes/engineering-nav.md", "\n[Broken](/handbook/nowhere/)\n")
    bad = handbook.commit("a broken include link")
    assert bad.returncode != 0
    assert (
        "site/assets/includes/engineering-nav.md:7:10: error link-broken link to "
        "'/handbook/nowhere/': no such page or file"
    ) in bad.stdout + bad.stderr


def test_the_readme_local_hook_has_commits_checked_by_a_running_server(
    tmp_path: Path, hooks_home: Path
) -> None:
    """The README's server section: `handbook-lint serve` listening and the
    local hook that runs the handbook-lint on PATH; a commit's check is run by
    the server (its --verbose line), and refuses and passes as the hook does."""
    from test_server import Server

    handbook = Handbook(tmp_path / "handbook", "site", hooks_home)
    git(handbook.top, "add", "-A")
    git(handbook.top, "commit", "-q", "-m", "the handbook so far")
    bin_dir = str(Path(sys.executable).parent)  # (handbook-lint on PATH)
    sock = tmp_path / "run" / "server.sock"
    sock.parent.mkdir(mode=0o700)
    handbook.env.update(
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        HANDBOOK_LINT_SOCKET=str(sock),
        HANDBOOK_LINT_NO_SERVER="",  # (the tests' default is no server)
    )
    handbook.install_config(readme_block("beside a server you start yourself:", "yaml"))
    server = Server(sock, "--verbose")
    try:
        adopt = handbook.commit("adopt handbook-lint")
        assert adopt.returncode == 0, adopt.stdout + adopt.stderr
        _refused_for_a_broken_include_link(handbook)
        git(handbook.top, "reset", "-q", "--hard")
        handbook.append("content/handbook/tools.md", "\nA new paragraph.\n")
        ok = handbook.commit("a paragraph")
        assert ok.returncode == 0, ok.stdout + ok.stderr
    finally:
        _, log = server.stop()
    assert len(re.findall(r": run \d+: check --staged\b", log)) == 3, log  # (every commit's)


def test_the_readme_hook_with_start_server_has_the_commits_after_the_first_served(
    tmp_path: Path, rev: str, hooks_home: Path
) -> None:
    """The README's `--start-server` snippet through the real pre-commit: the
    first commit's hook starts a server of the hook's own environment and the
    commit ends (pre-commit does not wait for it); the next commits are run by
    it (a served check has the server keep the folder's site: its holder's
    socket appears), refusing and passing as the hook does."""
    from test_server import _ended, _holder_socket, _listener, _servers_at

    handbook = Handbook(tmp_path / "handbook", "site", hooks_home)
    git(handbook.top, "add", "-A")
    git(handbook.top, "commit", "-q", "-m", "the handbook so far")
    sock = tmp_path / "run" / "server.sock"
    sock.parent.mkdir(mode=0o700)
    handbook.env.update(
        HANDBOOK_LINT_SOCKET=str(sock),
        HANDBOOK_LINT_NO_SERVER="",  # (the tests' default is no server)
        CI="",  # (as on a laptop, whatever runs these tests)
    )
    handbook.install_hook(rev, "let the hook start its own server")
    try:
        adopt = handbook.commit("adopt handbook-lint")
        assert adopt.returncode == 0, adopt.stdout + adopt.stderr
        pid = _listener(sock, 60)
        assert _servers_at(sock) == {pid}
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert command[0].startswith(os.fsencode(hooks_home))  # (the hook environment's Python)
        assert not _holder_socket(sock, handbook.top).exists()  # (no served check yet)
        _refused_for_a_broken_include_link(handbook)
        deadline = time.monotonic() + 30
        while not _holder_socket(sock, handbook.top).exists():
            assert time.monotonic() < deadline, "the commit's check was not served"
            time.sleep(0.05)
        git(handbook.top, "reset", "-q", "--hard")
        handbook.append("content/handbook/tools.md", "\nA new paragraph.\n")
        ok = handbook.commit("a paragraph")
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert _servers_at(sock) == {pid}  # (one server: the commits after it started none)
    finally:
        for started in _servers_at(sock):  # (none outlives the test, passed or failed)
            _ended(started)


def test_the_scheduled_fix_job_pushes_a_branch_with_the_fixes(tmp_path: Path) -> None:
    handbook = Handbook(tmp_path / "handbook")
    handbook.write("content/handbook/steps.md", FIXABLE_PAGE)
    git(handbook.top, "add", "-A")
    git(handbook.top, "commit", "-q", "-m", "main")
    work = push_and_branch(handbook, tmp_path)
    git(work, "checkout", "-q", "main")
    origin = tmp_path / "origin.git"
    # GitLab takes the merge request from push options; a bare origin must accept them.
    git(origin, "config", "receive.advertisePushOptions", "true")
    env = {
        **os.environ,
        "HANDBOOK_LINT_PUSH_URL": str(origin),
        "CI_DEFAULT_BRANCH": "main",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    script = "\n".join(job_script("handbook-lint-fix"))
    proc = subprocess.run(
        ["bash", "-e", "-c", script], cwd=work, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    branches = git(origin, "branch", "--format=%(refname:short)").stdout.split()
    (fixes,) = [b for b in branches if b.startswith("handbook-lint-fixes-")]
    assert git(origin, "show", f"{fixes}:content/handbook/steps.md").stdout == FIXED_PAGE
    changed = git(origin, "diff", "--name-only", "main", fixes).stdout.split()
    assert changed == ["content/handbook/steps.md"]

    # Run again on the fixed branch: nothing to fix, nothing pushed.
    git(work, "checkout", "-q", fixes)
    proc = subprocess.run(
        ["bash", "-e", "-c", script], cwd=work, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0 and "nothing to fix" in proc.stdout, proc.stderr
    assert git(origin, "branch", "--format=%(refname:short)").stdout.split() == branches


class _Notes:
    """A stand-in for GitLab's notes API on 127.0.0.1: records each POST."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], str]] = []
        notes = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                notes.posts.append((self.path, dict(self.headers), body))
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id": 1}')

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v4"


def test_a_failing_merge_request_gets_a_comment_with_the_new_findings(tmp_path: Path) -> None:
    handbook = Handbook(tmp_path / "handbook")
    git(handbook.top, "add", "-A")
    git(handbook.top, "commit", "-q", "-m", "main")
    work = push_and_branch(handbook, tmp_path)
    handbook_page = work / "content/handbook/new.md"
    handbook_page.write_text("---\ntitle: New\n---\n\n[a | b](/handbook/nowhere/)\n", "utf-8")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "a broken link")
    notes = _Notes()
    try:
        env = {
            "CI_JOB_STATUS": "failed",
            "HANDBOOK_LINT_API_TOKEN": "glpat-secret",
            "CI_API_V4_URL": notes.url,
            "CI_PROJECT_ID": "7",
            "CI_MERGE_REQUEST_IID": "3",
        }
        code, log, _ = run_job(work)
        assert code == 1, log
        code, log = run_after_script(work, env)
        assert code == 0, log
        ((path, headers, body),) = notes.posts
        assert path == "/api/v4/projects/7/merge_requests/3/notes"
        assert headers["PRIVATE-TOKEN"] == "glpat-secret"
        comment = parse_qs(body)["body"][0]
        assert comment.startswith(
            "**handbook-lint**: 1 new finding (1 error, 0 warnings) in 1 file"
        )
        assert "| link-broken | content/handbook/new.md:5 | link to '/handbook/nowhere/'" in comment
        assert "glpat-secret" not in log

        # A passing job, or one without a token, posts nothing.
        assert run_after_script(work, {**env, "CI_JOB_STATUS": "success"})[0] == 0
        assert run_after_script(work, {**env, "HANDBOOK_LINT_API_TOKEN": ""})[0] == 0
        assert len(notes.posts) == 1
    finally:
        notes.httpd.shutdown()
