"""Every file that cannot be read as a page gets a finding naming it; the run goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import write_site

from handbook_lint.cli import main

GOOD = "---\ntitle: Good\n---\n\n1. one\n1. two\n"


def run_json(root: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(root)
    try:
        result = runner.invoke(main, ["check", "--format", "json", *args])
    finally:
        os.chdir(old)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def by_path(payload: dict) -> dict[str, list[tuple[str, int, str]]]:  # type: ignore[type-arg]
    out: dict[str, list[tuple[str, int, str]]] = {}
    for f in payload["findings"]:
        out.setdefault(f["path"], []).append((f["rule"], f["line"], f["message"]))
    return out


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, dirnames, names in os.walk(root):
        if ".handbook-lint-cache" in dirnames:
            dirnames.remove(".handbook-lint-cache")  # the one thing it writes (see test_cache)
        for name in names:
            p = Path(dirpath) / name
            if p.is_symlink():
                continue
            st = p.stat()
            out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


def test_bad_files_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "content/good.md": GOOD,
            "content/broken-yaml.md": "---\ntitle: T\ndescription: a: b\n---\nText\n",
            "content/unclosed.md": "---\ntitle: T\n\nText without a closing delimiter\n",
            "content/binary.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "content/latin1.md": "---\ntitle: Caf\xe9\n---\n".encode("latin-1"),
            "content/empty.md": "",
            "content/huge.md": "---\ntitle: Huge\n---\n" + ("word " * 200 + "\n") * 21000,
        },
        {"extends": "gitlab-handbook"},
    )
    (tmp_path / "content/loop-a.md").symlink_to(tmp_path / "content/loop-b.md")
    (tmp_path / "content/loop-b.md").symlink_to(tmp_path / "content/loop-a.md")
    before = snapshot(tmp_path)

    code, payload = run_json(tmp_path)

    assert code == 1
    found = by_path(payload)
    assert "content/good.md" not in found
    assert found["content/broken-yaml.md"] == [
        ("front-matter-invalid", 3, "invalid yaml: mapping values are not allowed here")
    ]
    assert found["content/unclosed.md"][0][:2] == ("front-matter-invalid", 1)
    assert "never closed" in found["content/unclosed.md"][0][2]
    assert found["content/binary.md"] == [
        ("file-unreadable", 1, "binary file (NUL bytes), not a Markdown page")
    ]
    assert found["content/latin1.md"] == [
        ("file-unreadable", 2, "not valid UTF-8 (byte 0xe9 on line 2)")
    ]
    assert found["content/empty.md"] == [("file-empty", 1, "file is empty")]
    rule, _, message = found["content/huge.md"][0]
    assert rule == "file-unreadable" and "over the 5 MB limit" in message
    for loop in ("content/loop-a.md", "content/loop-b.md"):
        rule, _, message = found[loop][0]
        assert rule == "file-unreadable"
        assert "symbolic links" in message
    assert payload["summary"]["files"] == 9
    assert snapshot(tmp_path) == before, "the linter must not write into the site"


def test_a_path_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/good.md": GOOD}, {})
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, ["check", "content/good.md", "content/nope.md"])
    finally:
        os.chdir(old)
    assert result.exit_code == 2
    assert "'content/nope.md' does not exist" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_a_folder_without_permission(tmp_path: Path) -> None:
    """Run as an unprivileged user when the tests run as root (root reads anything)."""
    write_site(tmp_path, {"content/good.md": GOOD, "content/secret/page.md": GOOD}, {})
    secret = tmp_path / "content/secret"
    secret.chmod(0o000)
    try:
        cmd = [sys.executable, "-m", "handbook_lint", "check", "--format", "json"]
        kwargs: dict = {}  # type: ignore[type-arg]
        if os.geteuid() == 0:
            tmp_path.chmod(0o755)
            kwargs = {"user": "nobody", "group": "nogroup", "extra_groups": []}
            try:
                probe = subprocess.run(
                    [sys.executable, "-c", "import handbook_lint"],
                    capture_output=True,
                    check=False,
                    **kwargs,
                )
            except OSError:
                probe = None
            if probe is None or probe.returncode != 0:
                pytest.skip("root reads any folder, and Python is not reachable as 'nobody' here")
        proc = subprocess.run(
            cmd, cwd=tmp_path, capture_output=True, text=True, check=False, **kwargs
        )
    finally:
        secret.chmod(0o755)
    assert proc.returncode == 1, proc.stderr
    payload = json.loads(proc.stdout)
    assert by_path(payload) == {
        "content/secret": [("file-unreadable", 1, "cannot read folder: Permission denied")]
    }


ALIAS_BOMB = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [
        f"{n}: &{n} [" + ", ".join([f"*{p}"] * 9) + "]"
        for p, n in zip("abcdef", "bcdefg", strict=True)
    ]
)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("base_url: 0x_\n", ":1: invalid YAML: cannot read the value '0x_'"),
        ("title_: x\nbase_url: 2024-13-45\n", ":2: invalid YAML: cannot read the value"),
        ("external: !!bool maybe\n", ":1: invalid YAML: cannot read the value 'maybe'"),
        ("taxonomies: !!timestamp x\n", ":1: invalid YAML: cannot read the value 'x'"),
        ("content_dir: !!float x\n", ":1: invalid YAML: cannot read the value 'x'"),
        ("x: " + "[" * 1500 + "]" * 1500 + "\n", "invalid YAML"),
        (ALIAS_BOMB + "\nrules: {spelling: {words: *g}}\n", "expands to more than 100,000"),
        ("a: &a {b: *a}\n", "the config refers to itself through a YAML alias"),
    ],
)
def test_a_config_yaml_cannot_read_is_a_config_error(
    tmp_path: Path, config: str, message: str
) -> None:
    write_site(tmp_path, {"content/a.md": GOOD})
    (tmp_path / ".handbook-lint.yaml").write_text(config, "utf-8")
    code, _, err = _run(tmp_path)
    assert code == 2, err
    assert "Traceback" not in err
    assert message in err


def test_a_hugo_config_yaml_cannot_read_is_a_config_error(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/a.md": GOOD, "hugo.yaml": "title: x\nbaseURL: !!bool maybe\n"})
    code, _, err = _run(tmp_path)
    assert code == 2 and "hugo.yaml: the Hugo config does not parse: line 2" in err


def test_front_matter_that_refers_to_itself_or_explodes_is_invalid(tmp_path: Path) -> None:
    pages = {
        "content/self.md": "---\ntitle: T\na: &a [*a]\n---\n",
        "content/bomb.md": "---\ntitle: T\n" + ALIAS_BOMB + "\n---\n",
        "content/typed.md": "---\ntitle: T\ndraft: !!bool maybe\n---\n",
        "content/deep.md": "---\ntitle: T\nx: " + "[" * 150 + "]" * 150 + "\n---\n",
        "content/pairs.md": "---\ntitle: T\nx: &x !!pairs [k: *x]\n---\n",
        "content/spread.md": "---\ntitle: T\na: &a ["
        + ", ".join(['"v"'] * 900)
        + "]\n"
        + "".join(f"k{i}: *a\n" for i in range(200))
        + "---\n",
        "content/good.md": GOOD,
    }
    write_site(tmp_path, pages, {})
    code, payload = run_json(tmp_path, "--no-cache")
    assert code == 1
    found = by_path(payload)
    assert found["content/self.md"] == [
        ("front-matter-invalid", 3, "invalid yaml: 'a' refers to itself through a YAML alias")
    ]
    assert found["content/bomb.md"][0][:2] == ("front-matter-invalid", 8)
    assert "expands to more than 100,000 values" in found["content/bomb.md"][0][2]
    assert found["content/typed.md"][0][:2] == ("front-matter-invalid", 3)
    assert "cannot read the value 'maybe'" in found["content/typed.md"][0][2]
    assert found["content/deep.md"][0][0] == "front-matter-invalid"
    assert found["content/pairs.md"] == [
        ("front-matter-invalid", 3, "invalid yaml: 'x' refers to itself through a YAML alias")
    ]
    # (a bomb spread over many keys: the values of the whole front matter count)
    assert "expands to more than 100,000 values" in found["content/spread.md"][0][2]
    assert "content/good.md" not in found


def _run(root: Path) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "handbook_lint", "check", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="a file name of raw bytes")
def test_a_file_name_that_is_not_utf8_in_every_format_and_a_cached_run(tmp_path: Path) -> None:
    # a.md links to the file by a near name: the suggestion names it too
    write_site(tmp_path, {"content/good.md": GOOD, "content/a.md": GOOD + "\n[x](/badx/)\n"}, {})
    name = os.fsencode(tmp_path / "content") + b"/bad\xff\xfe.md"
    with open(name, "wb") as page:
        page.write(b"---\ntitle: T\n---\n\n[x](/nowhere/)\n")
    formats = ("text", "json", "codequality", "sarif", "github", "junit", "html", "markdown")
    for fmt in (*formats, "text"):  # (the last run is answered from the cache)
        proc = subprocess.run(
            [sys.executable, "-m", "handbook_lint", "check", "--format", fmt],
            cwd=tmp_path,
            capture_output=True,
            timeout=60,
        )
        assert proc.returncode == 1, proc.stderr
        assert b"Traceback" not in proc.stderr
        out = proc.stdout.decode("utf-8")  # valid UTF-8, whatever the name
        assert "bad" in out and "xff" in out and "xfe.md" in out, (fmt, out[:300])


@pytest.mark.skipif(sys.platform != "linux", reason="FIFOs, /dev/zero, Linux name limits")
def test_special_files_long_names_and_deep_trees_are_findings_not_hangs(tmp_path: Path) -> None:
    long_include = "x" * 300
    write_site(
        tmp_path,
        {"content/good.md": f'---\ntitle: G\n---\n\n{{{{% include "{long_include}.md" %}}}}\n'},
        {},
    )
    deep = tmp_path / "content"
    for _ in range(1000):  # (os.makedirs recurses per level, as os.walk does)
        deep = deep / "d"
        deep.mkdir()
    (deep / "deep.md").write_text(GOOD, "utf-8")
    try:
        _lint_odd_site(tmp_path)
    finally:  # (shutil.rmtree recurses too: pytest's clean-up could not remove it)
        (deep / "deep.md").unlink()
        while deep != tmp_path / "content":
            deep.rmdir()
            deep = deep.parent


def _lint_odd_site(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "content/fifo.md")
    (tmp_path / "content/zero.md").symlink_to("/dev/zero")
    for args in (["--no-cache"], [], []):  # (then twice with the cache)
        payload = _json_run(tmp_path, *args)
        found = by_path(payload)
        assert found["content/fifo.md"] == [
            ("file-unreadable", 1, "not a regular file but a named pipe (FIFO)")
        ]
        assert found["content/zero.md"] == [
            ("file-unreadable", 1, "not a regular file but a character device")
        ]
        assert [f[0] for f in found["content/good.md"]] == ["include-missing"]
        assert payload["summary"]["files"] == 4  # the deep page too


@pytest.mark.skipif(sys.platform != "linux", reason="FIFOs")
def test_a_named_fifo_and_an_included_one_are_unreadable_not_missing(tmp_path: Path) -> None:
    """`check content/fifo.md` names the FIFO (it used to say "0 files checked"),
    and an include of a FIFO finds it (it used to be "not found, did you mean"
    itself): the FIFO is reported once, as unreadable, and never opened."""
    page = '---\ntitle: A\n---\n\n{{% include "includes/pipe.md" %}}\n'
    write_site(tmp_path, {"content/a.md": page, "assets/includes/.keep": ""}, {})
    os.mkfifo(tmp_path / "content/fifo.md")
    os.mkfifo(tmp_path / "assets/includes/pipe.md")
    for args in (["content/fifo.md"], []):
        found = by_path(_json_run(tmp_path, "--no-cache", *args))
        unreadable = [("file-unreadable", 1, "not a regular file but a named pipe (FIFO)")]
        assert found["content/fifo.md"] == unreadable
        if not args:
            assert found["assets/includes/pipe.md"] == unreadable
            assert "content/a.md" not in found


def _json_run(cwd: Path, *args: str) -> dict[str, Any]:
    """`check --format json ARGS` in a child (capped at 60 s): its report, after
    making sure no traceback was printed."""
    proc = subprocess.run(
        [sys.executable, "-m", "handbook_lint", "check", "--format", "json", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 70_000, 200_000])
def test_a_file_is_read_whole_up_to_the_cap(tmp_path: Path, size: int) -> None:
    """Its bytes, whatever its size beside the first read's; None past the cap."""
    from handbook_lint.parsing.markdown import read_capped

    data = bytes(range(256)) * (size // 256 + 1)
    page = tmp_path / "page.md"
    page.write_bytes(data[:size])
    assert read_capped(page) == data[:size]
    assert read_capped(page, limit=100) == (data[:size] if size <= 100 else None)
    assert read_capped(page, limit=-1) == (b"" if size == 0 else None)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux's /proc")
def test_a_file_longer_than_its_stat_says_is_read_whole() -> None:
    """A file that grew after its stat (here one of /proc, whose size says 0)."""
    from handbook_lint.parsing.markdown import read_capped

    path = Path("/proc/self/limits")
    assert path.stat().st_size == 0
    text = read_capped(path)
    assert text is not None and text.startswith(b"Limit") and text.endswith(b"\n")
    assert len(text) > 1000  # (every limit's line, far past the first read's byte)
