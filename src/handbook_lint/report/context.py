"""What a report says about its run beyond the findings: the site's commit,
where a finding's source line is on the forge, where a rule's documentation
is. Worked out here (from git, the CI's variables and the installed package)
before the report is written, so the writers only format what they get.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit

from handbook_lint.engine.git import GitError, output
from handbook_lint.report.model import Source


def commit_of(root: Path) -> str | None:
    """The commit the site's checkout is at (CI's own variable first)."""
    for name in ("CI_COMMIT_SHA", "GITHUB_SHA"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        return output(root, "rev-parse", "HEAD") or None
    except GitError:
        return None


def source(repo_url: str, branch: str, root: Path, cwd: Path) -> Source | None:
    """The source-link template for a site at `root` linted from `cwd`: from the
    config's `repo_url`, else GitLab CI's or GitHub Actions' variables. The ref
    is the commit CI builds, else the config's `branch`, else the checkout's
    commit."""
    url = repo_url.strip().rstrip("/")
    if not url and os.environ.get("CI_PROJECT_URL"):
        url = os.environ["CI_PROJECT_URL"].rstrip("/")
    if not url and os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        url = f"{server}/{os.environ['GITHUB_REPOSITORY']}"
    if not url:
        return None
    url = url.removesuffix(".git")
    ci = os.environ.get("CI_COMMIT_SHA") or os.environ.get("GITHUB_SHA")
    ref = ci or branch.strip() or commit_of(root) or "HEAD"
    try:
        top = Path(output(root, "rev-parse", "--show-toplevel"))
    except GitError:
        top = root
    actions = "GITHUB_REPOSITORY" in os.environ  # (a GitHub Actions run: GitHub)
    template = f"{url}/{_blob(url, actions)}/{quote(ref, safe='')}/{{path}}#L{{line}}"
    return Source(template, str(top.resolve()), str(cwd.resolve()))


def docs_template(docs_url: str) -> str | None:
    """Where rule documentation is, with `{rule}` in it: the config's, else the
    docs/rules.md of this handbook-lint as pip installed it (from a git URL: its
    blob at the installed commit; from a folder: the file), else None."""
    given = docs_url.strip()
    if given:
        return given if "{rule}" in given else f"{given.split('#', 1)[0]}#{{rule}}"
    try:
        info = json.loads(_direct_url() or "null")
    except ValueError:
        return None
    if not isinstance(info, dict) or not isinstance(info.get("url"), str):
        return None
    url: str = info["url"]
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict) and isinstance(vcs.get("commit_id"), str):
        base = url.removeprefix("git+").removesuffix(".git").rstrip("/")
        if urlsplit(base).scheme not in ("http", "https"):
            return None  # (an ssh or file git URL has no web page)
        return f"{base}/{_blob(base)}/{vcs['commit_id']}/docs/rules.md#{{rule}}"
    if url.startswith("file://") and isinstance(info.get("dir_info"), dict):
        rules = Path(urlsplit(url).path) / "docs" / "rules.md"
        return f"{rules.as_uri()}#{{rule}}" if rules.is_file() else None
    return None


def _direct_url() -> str | None:
    """The direct_url.json pip wrote for this install, found as
    importlib.metadata finds its metadata (the first folder of sys.path with a
    handbook_lint .dist-info, else .egg-info, name normalised) without
    importing it: with zipfile and email, 15 ms a run. None when that
    metadata has no direct_url.json (a source checkout on PYTHONPATH)."""
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found = sorted(
            (not name.lower().endswith(".dist-info"), name)
            for name in names
            if name.lower().endswith((".dist-info", ".egg-info"))
            and _normalized(name.rsplit(".", 1)[0].partition("-")[0]) == "handbook_lint"
        )
        if found:
            try:
                return (Path(entry or ".") / found[0][1] / "direct_url.json").read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                return None
    return None


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _blob(url: str, on_github: bool = False) -> str:
    """The path part of a file's page on the forge: GitHub's `blob`, GitLab's
    `-/blob`. `on_github`: known to be GitHub whatever the server's name."""
    return "blob" if on_github or urlsplit(url).hostname == "github.com" else "-/blob"
