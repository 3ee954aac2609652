"""`--diff-base` / `--staged` report exactly what a change introduced: checked
against the slow, obvious answer (lint the whole site before and after, subtract
by fingerprint) on random changes to a git repository of a small site."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from dataclasses import replace
from pathlib import Path

from conftest import write_site
from gitrepo import git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handbook_lint.checks.registry import Finding, all_rules
from handbook_lint.checks.selection import active_rules
from handbook_lint.config.settings import load_config
from handbook_lint.engine.changes import run_change
from handbook_lint.engine.git import SiteChanges, changes_since, staged_changes
from handbook_lint.engine.linter import Linter

SITE = {
    ".handbook-lint.yaml": "extends: gitlab-handbook\n",
    "content/_index.md": "---\ntitle: Home\n---\n\n[A](/a/) [B](/b/#two) [C](c/) [S](/s/t/)\n",
    "content/a.md": "---\ntitle: A\n---\n\n## One\n\n## Two\n\n[B](/b/#one) [gone](/x/)\n",
    "content/b.md": (
        "---\ntitle: B\naliases: [/old-b/]\n---\n\n"
        '{{% include "includes/nav.md" %}}\n{{% include "includes/sub.md" %}}\n\n'
        "## One\n\n## Two\n"
    ),
    "content/c/_index.md": (
        "---\ntitle: C\n---\n\n[A two](/a/#two) [old B](/old-b/#one) [d](d) [old](/old/d/)\n"
    ),
    "content/c/d.md": "---\ntitle: D\n---\n\n[up](../) [A](../../a.md#one) [e](e#x)\n",
    "content/c/e.md": "---\ntitle: E\n---\n\n## X\n",
    "content/s/_index.md": "---\ntitle: S\ncascade:\n  build:\n    render: never\n---\n",
    "content/s/t.md": "---\ntitle: T\n---\n\n[B](/b/#sub-heading) [up](../nowhere/)\n",
    "assets/includes/nav.md": (
        "[Home](/) [A one](/a/#one) [here](#two) [sub](#sub-heading) [r][ref] [sibling](../a/)\n"
    ),
    "assets/includes/sub.md": "## Sub heading\n\n[ref]: /a/\n",
    "static/images/x.svg": "<svg/>",
    "static/_redirects": "# moved pages\n/x/ /a/ 301\n/old/* /c/:splat 301\n",
}
PAGES = [
    "content/a.md",
    "content/b.md",
    "content/c/_index.md",
    "content/c/d.md",
    "content/c/e.md",
    "content/s/t.md",
]
INCLUDES = ["assets/includes/nav.md", "assets/includes/sub.md"]
FILES = [*PAGES, *INCLUDES, "content/_index.md"]


CHANGES = st.lists(
    st.one_of(
        st.tuples(st.just("delete"), st.sampled_from([*PAGES, *INCLUDES, "static/images/x.svg"])),
        st.tuples(st.just("rename"), st.sampled_from([*PAGES, *INCLUDES])),
        st.tuples(st.just("heading"), st.sampled_from([*PAGES, *INCLUDES])),
        st.tuples(st.just("link"), st.sampled_from(FILES)),
        st.tuples(st.just("alias"), st.sampled_from(PAGES)),
        st.tuples(st.just("unalias"), st.just("content/b.md")),
        st.tuples(st.just("slug"), st.sampled_from(PAGES)),
        st.tuples(st.just("include"), st.sampled_from(PAGES)),
        st.tuples(st.just("definition"), st.just("assets/includes/sub.md")),
        st.tuples(st.just("cascade"), st.just("content/s/_index.md")),
        st.tuples(st.just("redirect"), st.just("static/_redirects")),
        st.tuples(st.just("config"), st.just(".handbook-lint.yaml")),
        st.tuples(st.just("add"), st.sampled_from(["content/e.md", "content/c/f.md"])),
    ),
    min_size=1,
    max_size=4,
)


def apply(site: Path, kind: str, path: str, n: int) -> None:
    target = site / path
    if kind == "add":
        write_site(site, {path: f"---\ntitle: New\n---\n\n## Two\n\n[nowhere](/n{n}/)\n"})
        return
    if not target.exists():
        return
    if kind == "delete":
        git(site, "rm", "-q", "-f", path)
        return
    if kind == "rename":
        new = path.replace(".md", f"-{n}.md")
        git(site, "mv", path, new)
        return
    text = target.read_text("utf-8")
    if kind == "heading":
        text = text.replace("## One", f"## Uno {n}", 1).replace("## Sub heading", "## Sub", 1)
        text = text.replace("## X", f"## Ex {n}", 1)
    elif kind == "link":
        text += f"\n[broken {n}](/missing-{n}/) [anchor](/a/#nope-{n}) [rel](../zz{n}/)\n"
    elif kind == "unalias":
        text = text.replace("aliases: [/old-b/]\n", "", 1)
    elif kind == "definition":
        text = text.replace("[ref]: /a/", f"[other{n}]: /a/", 1)
    elif kind == "redirect":
        text = text.replace("/x/ /a/ 301\n", f"/y{n}/ /a/ 301\n", 1)
    elif kind == "cascade":
        text = text.replace("cascade:\n  build:\n    render: never\n", "", 1)
    elif kind == "alias":
        text = text.replace("title:", f"aliases: [/alias-{n}/]\ntitle:", 1)
    elif kind == "slug":
        text = text.replace("title:", f"slug: s{n}\ntitle:", 1)
    elif kind == "include":
        text += '\n{{% include "includes/nav.md" %}}\n'
    elif kind == "config":
        text += "rules:\n  link-anchor-missing: warning\n"
    target.write_text(text, "utf-8")


def whole(root: Path) -> list[Finding]:
    config = load_config(root / ".handbook-lint.yaml")
    return Linter(config, active_rules(config), jobs=1, use_cache=False).run().findings


def truth(now: list[Finding], before: list[Finding], renamed: dict[str, str]) -> Counter[tuple]:  # type: ignore[type-arg]
    """What the change introduced, the slow way: every finding of the site after
    it minus every finding before it (files renamed), as a multiset."""
    had = Counter(_id(replace(f, path=renamed.get(f.path, f.path))) for f in before)
    return Counter(_id(f) for f in now) - had


def _id(f: Finding) -> tuple:  # type: ignore[type-arg]
    """A finding without its place: rule, file, message and detail."""
    key = _key(f)
    return (key[0], key[3], key[4], key[5])


def _key(f: Finding) -> tuple:  # type: ignore[type-arg]
    # What a change adds (a deleted or moved page) is not in a whole-site run.
    kept = [part for part in (f.detail or "").split("; ") if "this change" not in part]
    return (f.path, f.line, f.column, f.rule, f.message, "; ".join(kept) or None)


def make_repo(tmp: Path) -> Path:
    repo = tmp / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    write_site(repo, SITE)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "main")
    return repo


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(CHANGES, st.booleans())
def test_introduced_equals_whole_site_before_minus_after(
    tmp_path: Path, changes: list[tuple[str, str]], staged: bool
) -> None:
    repo = make_repo(tmp_path)
    before = whole(repo)
    for n, (kind, path) in enumerate(changes):
        apply(repo, kind, path, n)
    git(repo, "add", "-A")
    if not staged:
        git(repo, "checkout", "-q", "-b", "feature")
        git(repo, "commit", "-q", "-m", "change", "--allow-empty")
    change = (staged_changes(repo) if staged else changes_since(repo, "main")).under(repo)
    now = whole(repo)
    expected = truth(now, before, change.renamed)
    config = load_config(repo / ".handbook-lint.yaml")
    linter = Linter(config, active_rules(config), jobs=1, use_cache=False)
    # (the rules of a change, such as page-url-lost, have no whole-site run to
    # compare with: their cases are in tests/cases/)
    found = [
        f for f in run_change(linter, change).findings if all_rules()[f.rule].scope != "change"
    ]
    got = Counter(_id(f) for f in found)
    assert got == expected, (
        changes,
        sorted((got - expected).elements()),
        sorted((expected - got).elements()),
    )
    # ... and each at a place where the site has that finding now.
    assert {_key(f) for f in found} <= {_key(f) for f in now}


def test_a_first_commit_introduces_everything(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_site(repo, SITE)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    git(repo, "add", "-A")
    change = staged_changes(repo).under(repo)
    assert change.label == "the empty repository"
    config = load_config(repo / ".handbook-lint.yaml")
    linter = Linter(config, active_rules(config), jobs=1, use_cache=False)
    assert {_key(f) for f in run_change(linter, change).findings} == {_key(f) for f in whole(repo)}


def test_a_commit_split_over_several_runs_reports_each_file_once(tmp_path: Path) -> None:
    """pre-commit splits a long list of staged files over several runs of the hook:
    each run reports on its own files (and on files the commit does not touch)."""
    repo = make_repo(tmp_path)
    write_site(
        repo,
        {
            "content/b.md": SITE["content/b.md"] + "\n[gone](/gone-b/)\n",
            "content/c/d.md": SITE["content/c/d.md"] + "\n[gone](/gone-d/)\n",
            "content/a.md": SITE["content/a.md"].replace("## Two", "## Deux"),
        },
    )
    git(repo, "add", "-A")
    config = load_config(repo / ".handbook-lint.yaml")

    def hook(*paths: str) -> set[tuple]:  # type: ignore[type-arg]
        linter = Linter(config, active_rules(config), jobs=1, use_cache=False)
        change = staged_changes(repo).under(repo)
        named = [str(repo / p) for p in paths]
        return {_key(f) for f in run_change(linter, change, named, only_named=True).findings}

    everything = hook("content/b.md", "content/c/d.md", "content/a.md")
    first, second = hook("content/b.md"), hook("content/c/d.md", "content/a.md")
    assert first | second == everything
    assert {k[0] for k in first} == {"content/b.md", "content/c/_index.md"}
    assert {k[0] for k in second} == {"content/c/d.md", "content/c/_index.md"}


def test_what_a_commit_introduces_is_the_same_with_an_earlier_runs_cache(tmp_path: Path) -> None:
    """With the cache of earlier runs (as the pre-commit hook has it): the page's
    version in HEAD is in the snapshot of a run before the edit, and its row is
    gone (a run after the edit kept only the new version's). The site before
    the change still has HEAD's anchors: `#two` broken by the edit is new."""
    repo = make_repo(tmp_path)
    config = load_config(repo / ".handbook-lint.yaml")

    def linter(cache: bool = True) -> Linter:
        return Linter(config, active_rules(config), jobs=1, use_cache=cache)

    linter().run()
    page = repo / "content/a.md"
    page.write_text(page.read_text().replace("## Two", "## Deux"))
    linter().run()
    git(repo, "add", "-A")
    got = run_change(linter(), staged_changes(repo).under(repo)).findings
    expected = run_change(linter(cache=False), staged_changes(repo).under(repo)).findings
    assert [_key(f) for f in got] == [_key(f) for f in expected]
    assert ("content/c/_index.md", "link-anchor-missing") in {(f.path, f.rule) for f in got}


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(CHANGES, st.booleans(), st.booleans(), st.sampled_from([1, 2]))
def test_any_change_is_judged_alike_with_and_without_the_cache(
    tmp_path: Path, changes: list[tuple[str, str]], run_between: bool, staged: bool, jobs: int
) -> None:
    """The cache of earlier runs (before the change; maybe one after it, which
    keeps only the new versions' rows) changes nothing a change is judged by;
    nor do pages parsed ahead by a child (two jobs with a cache: ahead.py)."""
    repo = make_repo(tmp_path)
    config = load_config(repo / ".handbook-lint.yaml")

    def linter(cache: bool = True) -> Linter:
        return Linter(config, active_rules(config), jobs=jobs if cache else 1, use_cache=cache)

    linter().run()
    for n, (kind, path) in enumerate(changes):
        apply(repo, kind, path, n)
    if run_between:
        linter().run()
    git(repo, "add", "-A")
    if not staged:
        git(repo, "checkout", "-q", "-b", "feature")
        git(repo, "commit", "-q", "-m", "change", "--allow-empty")

    def change() -> SiteChanges:
        return (staged_changes(repo) if staged else changes_since(repo, "main")).under(repo)

    got = run_change(linter(), change()).findings
    expected = run_change(linter(cache=False), change()).findings
    assert [_key(f) for f in got] == [_key(f) for f in expected], changes
