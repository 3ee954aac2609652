"""GitLab's CODEOWNERS syntax and matching, against the examples of GitLab's own
documentation (doc/user/project/codeowners/reference.md and advanced.md)."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handbook_lint.site import codeowners
from handbook_lint.site.codeowners import FileSet, matches, parse

# (pattern, paths it matches, paths it does not), from GitLab's documentation
DOCUMENTED = [
    ("README.md", ["README.md", "internal/README.md", "app/lib/README.md"], ["README.mdx"]),
    (
        "internal/README.md",
        ["internal/README.md", "docs/internal/README.md", "docs/api/internal/README.md"],
        ["README.md", "internal/x/README.md"],
    ),
    ("/README.md", ["README.md"], ["docs/README.md"]),
    ("/docs/README.md", ["docs/README.md"], ["README.md", "a/docs/README.md"]),
    ("/docs/", ["docs/a.md", "docs/api/graphql/x.rb", "docs/.hidden"], ["a/docs/b.md", "docs"]),
    ("/docs/*", ["docs/a.md", "docs/.x"], ["docs/api/a.md"]),
    ("/docs/*.md", ["docs/a.md"], ["docs/api/a.md", "docs/a.mdx"]),
    ("/docs/index.*", ["docs/index.md", "docs/index.html", "docs/index.xml"], ["docs/x/index.md"]),
    (
        "/docs/*spec*",
        ["docs/qa_specs.rb", "docs/spec_helpers.rb", "docs/runtime.spec"],
        ["docs/a/spec.rb"],
    ),
    ("/docs/*/README.md", ["docs/api/README.md"], ["docs/README.md", "docs/a/b/README.md"]),
    (
        "/docs/**/index.md",
        ["docs/index.md", "docs/api/index.md", "docs/api/graphql/index.md"],
        ["index.md", "docs/api/index.mdx"],
    ),
    ("/db/**/index.md", ["db/index.md", "db/a/b/index.md"], ["x/db/index.md"]),
    ("*", ["a", ".gitignore", "a/b/c.rb"], []),
    ("*.rb", ["a.rb", "lib/a.rb", "lib/.hidden.rb"], ["a.rbx", "a.rb/x"]),
    (
        "**/*.rb",
        ["config/database.rb", "app/controllers/users/stars_controller.rb", "x.rb"],
        ["x.py"],
    ),
    ("\\#file_with_pound.rb", ["#file_with_pound.rb", "a/#file_with_pound.rb"], ["file.rb"]),
    ("/path\\ with\\ spaces/", ["path with spaces/a.md"], ["path/a.md"]),
    ("docs", ["docs", "a/docs"], ["docs/a.md"]),  # files only: no trailing /
    ("/file[0-9].md", ["file1.md"], ["filea.md", "file/.md"]),
    ("/file[!0-9].md", ["filea.md"], ["file1.md", "file/.md"]),
    ("/{a,b}.md", ["{a,b}.md"], ["a.md"]),  # no braces (FNM_EXTGLOB is off)
]


@pytest.mark.parametrize(("pattern", "yes", "no"), DOCUMENTED)
def test_patterns_match_as_gitlab_documents(pattern: str, yes: list[str], no: list[str]) -> None:
    for path in yes:
        assert matches(pattern, path), f"{pattern!r} should match {path!r}"
    for path in no:
        assert not matches(pattern, path), f"{pattern!r} should not match {path!r}"
    files = FileSet(yes + no)
    assert files.any_match(pattern) == bool(yes)


def test_sections_defaults_approvals_and_optional() -> None:
    text = """
# comment
* @general-approvers

[Documentation][2] @docs-team
docs/
README.md

^[Database] @database-team @agarcia
model/db/
config/db/database-setup.md @docs-team

[documentation]
*.txt
^[DATABASE]
"""
    owners = parse(text)
    assert owners.problems == []
    assert set(owners.sections) == {"documentation", "database"}
    docs = owners.sections["documentation"]
    assert (docs.name, docs.approvals, docs.optional, docs.owners) == (
        "Documentation",
        2,
        False,
        ("@docs-team",),
    )
    database = owners.sections["database"]
    assert database.optional  # both headers optional: the section is
    assert database.owners == ("@database-team", "@agarcia")
    by_line = {e.line: e for e in owners.entries}
    assert owners.owners_of(by_line[3]) == ("@general-approvers",)
    assert owners.owners_of(by_line[6]) == ("@docs-team",)  # README.md: the default
    assert owners.owners_of(by_line[10]) == ("@database-team", "@agarcia")
    assert owners.owners_of(by_line[11]) == ("@docs-team",)  # its own, over the default
    assert by_line[14].section == "documentation"  # a second header of one section


def test_a_required_header_makes_a_section_required() -> None:
    owners = parse("^[Go]\n*.go @a\n[go]\n*.go @b\n")
    assert not owners.sections["go"].optional


def test_the_last_matching_entry_of_a_section_decides() -> None:
    owners = parse(
        "[README Owners]\nREADME.md @user1 @user2\ninternal/README.md @user4\n"
        "[Ruby]\n*.rb @ruby-team\n!/config/**/*.rb\n/config/routes.rb @ops\n"
    )
    found = owners.governing("readme owners", "internal/README.md")
    assert found is not None and found.owners == ("@user4",)
    found = owners.governing("readme owners", "README.md")
    assert found is not None and found.owners == ("@user1", "@user2")
    # An excluded file stays out of its section, whatever comes after.
    found = owners.governing("ruby", "config/routes.rb")
    assert found is not None and found.exclusion
    found = owners.governing("ruby", "app/models/user.rb")
    assert found is not None and found.owners == ("@ruby-team",)
    assert owners.governing("ruby", "README.md") is None


def test_inline_words_after_owners_are_not_owners() -> None:
    owners = parse("/docs/**/*.md @markdown-docs  # Match specific file types\n")
    assert owners.entries[0].owners == ("@markdown-docs",)
    assert owners.problems == []


def test_owner_forms() -> None:
    owners = parse("LICENSE @legal janedoe@gitlab.com @@maintainer @group/with-nested/subgroup\n")
    assert owners.entries[0].owners == (
        "@legal",
        "janedoe@gitlab.com",
        "@@maintainer",
        "@group/with-nested/subgroup",
    )


def test_locations_are_gitlabs() -> None:
    assert codeowners.LOCATIONS == ("CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_parses(text: str) -> None:
    owners = parse(text)
    for entry in owners.entries:
        codeowners.matches(entry.pattern, "a/b.md")  # never raises
        assert entry.line >= 1


_PATH_PART = st.text(alphabet="ab.#[]-", min_size=1, max_size=4)
_PATTERN = st.text(alphabet="ab./*?[]!-\\ #", min_size=1, max_size=12)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(_PATH_PART, min_size=1, max_size=4), max_size=12), _PATTERN)
def test_fileset_agrees_with_matching_every_file(parts: list[list[str]], pattern: str) -> None:
    """The shortcuts of FileSet (files under a literal prefix, files of a literal
    name) find a match exactly when testing every file does."""
    paths = ["/".join(p) for p in parts]
    files = FileSet(paths)
    assert files.any_match(pattern) == any(matches(pattern, p) for p in paths)


_LITERALISH = st.text(alphabet="ab./*", min_size=1, max_size=10)


@settings(max_examples=500, deadline=None)
@given(_LITERALISH, st.lists(_PATH_PART, min_size=1, max_size=4))
def test_string_tests_agree_with_fnmatch(pattern: str, parts: list[str]) -> None:
    """The fast forms of `matcher` (a file, a folder, a name anywhere) answer as
    the port of Ruby's File.fnmatch does."""
    path = "/".join(parts)
    expected = codeowners.fnmatch(codeowners.normalize(pattern), "/" + path)
    assert codeowners.matcher(pattern)(path) == expected


# Ruby 3's File.fnmatch(pattern, path, File::FNM_PATHNAME | File::FNM_DOTMATCH),
# run with ruby for these cases (dir.c's quirks: a `]` right after `[` closes
# an empty class, a reversed range matches its two ends, an unclosed `[` never
# matches, `**` not followed by `/` is `*`).
RUBY = [
    ("/[]a]", "/a]", False),
    ("/[]a]", "/]", False),
    ("/[z-a]", "/z", True),
    ("/[z-a]", "/m", False),
    ("/[abc", "/[abc", False),
    ("/docs/**", "/docs/a", True),
    ("/docs/**", "/docs/a/b", False),
    ("/**/*.md", "/.hidden/x.md", True),
    (r"/a\*b", "/a*b", True),
    (r"/a\*b", "/axb", False),
    ("/[!a]", "/b", True),
    ("/[!a]", "/a", False),
    ("/**/**/c", "/a/b/c", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), RUBY)
def test_fnmatch_follows_ruby(pattern: str, path: str, expected: bool) -> None:
    assert codeowners.fnmatch(pattern, path) == expected


def test_a_pattern_of_many_stars_takes_no_time() -> None:
    """A regular expression backtracks exponentially on `*a*a*...*b` against a
    long name (a one-line CODEOWNERS edit could stall CI); fnmatch does not.
    Run in a child with a cap, so a regression fails instead of hanging."""
    code = (
        "from handbook_lint.site.codeowners import matches\n"
        "assert not matches('*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a' * 5000)\n"
        "assert not matches('/**/**/**/**/**/**/**/**/x*y*z', '/'.join(['d'] * 300) + '/x')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_fnmatch_agrees_with_ruby_on_random_patterns() -> None:
    """3,000 random patterns and paths (seeded), through GitLab's normalisation,
    answered by the real Ruby `File.fnmatch` in one `ruby` process and by ours."""
    ruby = shutil.which("ruby")
    if ruby is None:
        if os.environ.get("HANDBOOK_LINT_REQUIRE_RUBY"):
            pytest.fail("ruby is required (HANDBOOK_LINT_REQUIRE_RUBY) but not installed")
        pytest.skip("ruby is not installed")
    rng = random.Random(1515)
    pattern_chars = "ab./*?[]!-^\\"
    cases = []
    for _ in range(3000):
        pattern = "".join(rng.choice(pattern_chars) for _ in range(rng.randint(1, 10)))
        parts = [
            "".join(rng.choice("ab.-[]") for _ in range(rng.randint(1, 3)))
            for _ in range(rng.randint(1, 4))
        ]
        cases.append((codeowners.normalize(pattern), "/" + "/".join(parts)))
    script = (
        "require 'json'\n"
        "flags = File::FNM_PATHNAME | File::FNM_DOTMATCH\n"
        "STDIN.each_line { |l| p, s = JSON.parse(l); puts File.fnmatch(p, s, flags) }\n"
    )
    data = "".join(json.dumps(case) + "\n" for case in cases)
    out = subprocess.run(
        [ruby, "-e", script], input=data, capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    wrong = [
        (p, s, answer)
        for (p, s), answer in zip(cases, out, strict=True)
        if (answer == "true") != codeowners.fnmatch(p, s)
    ]
    assert not wrong, wrong[:10]
