"""`check --external` end to end: the fixture site's links point at a real HTTP
server on 127.0.0.1 that the test starts (see local_http.py)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES, write_site
from local_http import Server
from test_cli import invoke

SITE = FIXTURES / "external-site"
CACHE = Path(".handbook-lint-cache") / "external-links.sqlite"
JOB = Path(__file__).parent.parent / "docs" / "ci" / "gitlab-ci.yml"


def make_site(tmp_path: Path, server: Server, **config: Any) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    for path in root.rglob("*"):
        if path.is_file():
            path.write_text(path.read_text("utf-8").replace("PORT", str(server.port)), "utf-8")
    if config:
        settings = yaml.safe_load((root / ".handbook-lint.yaml").read_text("utf-8"))
        settings["external"].update(config)
        (root / ".handbook-lint.yaml").write_text(yaml.safe_dump(settings), "utf-8")
    return root


def findings(out: str) -> list[tuple[str, int, int, str, str | None]]:
    return [
        (f["path"], f["line"], f["column"], f["rule"], f.get("suggestion"))
        for f in json.loads(out)["findings"]
    ]


def external_only(rows: list[tuple[str, int, int, str, str | None]]) -> list[tuple[Any, ...]]:
    return [row for row in rows if row[3].startswith(("link-external", "suppression"))]


def test_off_by_default(tmp_path: Path, server: Server) -> None:
    root = make_site(tmp_path, server)
    code, out, _ = invoke(root, "check", "--format", "json")
    assert code == 0, out
    assert external_only(findings(out)) == []
    assert server.requests == []  # nothing was requested


def test_local_addresses_are_skipped_without_allow_private(tmp_path: Path, server: Server) -> None:
    root = make_site(tmp_path, server)
    code, out, _ = invoke(root, "check", "--external", "--format", "json")
    assert code == 0, out  # info findings do not fail the run
    rows = external_only(findings(out))
    skipped = [row for row in rows if row[3] == "link-external-skipped"]
    # every linking place but the excluded URL, mailto: and the URL in a code block
    assert len(skipped) == 10
    # The link under the disable-next-line was skipped, so whether it is broken is
    # unknown: its suppression is not called unused.
    assert [row for row in rows if row not in skipped] == []
    assert "loopback address 127.0.0.1 not checked" in out
    assert server.requests == []


def test_findings_at_every_linking_place_each_url_once(tmp_path: Path, server: Server) -> None:
    root = make_site(tmp_path, server)
    code, out, err = invoke(
        root, "check", "--external", "--external-allow-private", "--format", "json"
    )
    assert code == 1, err
    base = f"http://127.0.0.1:{server.port}"
    assert external_only(findings(out)) == [
        ("content/_index.md", 8, 25, "link-external-broken", None),
        ("content/_index.md", 9, 20, "link-external-redirect", f"{base}/ok/final#install"),
        ("content/_index.md", 11, 15, "link-external-rate-limited", None),
        ("content/docs/_index.md", 7, 22, "link-external-broken", None),
    ]
    messages = {f["line"]: f["message"] for f in json.loads(out)["findings"]}
    assert messages[8] == f"external link {base}/404 is broken: 404 Not Found"
    assert messages[9] == (
        f"external link {base}/chain1#install has moved: permanent redirect (301, 301)"
    )
    assert messages[11].endswith("rate limited: 429 Too Many Requests after 3 attempts")
    # Each distinct URL was requested once, however many pages link it.
    assert server.hits["/404"] == 1
    assert server.hits["/ok/home"] == 1
    assert server.hits["/chain1"] == 1
    assert server.hits["/head405"] == 2  # HEAD refused, then GET
    # Never requested: excluded URLs, URLs in code blocks, mailto: links.
    assert server.hits["/excluded/page"] == 0
    assert server.hits["/404/in-code"] == 0
    assert err == ""


def test_results_are_cached_between_runs(tmp_path: Path, server: Server) -> None:
    root = make_site(tmp_path, server)
    args = ("check", "--external", "--external-allow-private", "--format", "json")
    first = invoke(root, *args)
    requests = len(server.requests)
    assert requests > 0 and (root / CACHE).is_file()
    second = invoke(root, *args)
    assert len(server.requests) == requests  # good and failed results both from the cache
    assert findings(second[1]) == findings(first[1])
    third = invoke(root, *args, "--no-cache")
    assert len(server.requests) == 2 * requests  # --no-cache checks again
    assert findings(third[1]) == findings(first[1])


def test_failures_are_checked_again_after_their_ttl(tmp_path: Path, server: Server) -> None:
    root = make_site(tmp_path, server, fail_ttl=0)
    args = ("check", "--external", "--external-allow-private", "--format", "json")
    invoke(root, *args)
    assert (server.hits["/404"], server.hits["/ok/home"]) == (1, 1)
    time.sleep(0.01)
    invoke(root, *args)
    assert (server.hits["/404"], server.hits["/ok/home"]) == (2, 1)


def test_config_turns_it_on_and_the_flag_off(tmp_path: Path, server: Server) -> None:
    root = make_site(tmp_path, server, enabled=True, allow_private=True)
    code, out, _ = invoke(root, "check", "--format", "json")
    assert code == 1
    assert "link-external-broken" in {row[3] for row in findings(out)}
    server.requests.clear()
    code, out, _ = invoke(root, "check", "--format", "json", "--no-external")
    assert code == 0
    assert external_only(findings(out)) == []
    assert server.requests == []


def test_headers_go_to_their_host_and_never_into_output(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cret-token-value"
    monkeypatch.setenv("HL_TEST_TOKEN", secret)
    headers = {f"127.0.0.1:{server.port}": {"Authorization": "Bearer ${HL_TEST_TOKEN}"}}
    root = make_site(tmp_path, server, headers=headers)
    outputs = []
    for fmt in ("text", "json", "sarif", "codequality"):
        _, out, err = invoke(
            root, "check", "--external", "--external-allow-private", "--format", fmt
        )
        outputs += [out, err]
    seen = [h.get("Authorization") for _, _, h in server.requests]
    assert seen and set(seen) == {f"Bearer {secret}"}
    assert all(secret not in text for text in outputs)
    assert secret.encode() not in (root / CACHE).read_bytes()


def test_suppressions_for_external_rules_are_not_unused_without_external(
    tmp_path: Path, site: Any
) -> None:
    root = site(
        {
            "content/a.md": "---\ntitle: A\n---\n\n"
            "<!-- handbook-lint-disable-next-line link-external-broken -->\n"
            "[gone](https://gone.invalid/)\n\n"
            "<!-- handbook-lint-disable-next-line -->\n"
            "[also gone](https://gone.invalid/x)\n\n"
            "<!-- handbook-lint-disable-next-line -->\n"
            "Nothing to suppress here.\n",
        },
        {},
    )
    _, out, _ = invoke(root, "check", "--format", "json")
    # Only the directive over a line without external links is known to be unused.
    assert [row[1:4] for row in findings(out)] == [(11, 1, "suppression-unused")]


def test_one_dead_host_among_live_ones(
    tmp_path: Path, server: Server, no_dns: None, site: Any
) -> None:
    root = site(
        {
            "content/a.md": "---\ntitle: A\n---\n\n"
            f"[live]({server.url('/ok/a')}) and [dead](https://dead.invalid/page)\n",
        },
        {"external": {"allow_private": True, "backoff": 0.01}},
    )
    code, out, err = invoke(root, "check", "--external", "--format", "json")
    assert code == 1
    rows = findings(out)
    assert rows == [("content/a.md", 5, 48, "link-external-broken", None)]
    assert "DNS lookup failed" in out
    assert "offline" not in err


def test_offline_says_so_once_and_reports_nothing(tmp_path: Path, no_dns: None, site: Any) -> None:
    links = "\n".join(f"- [page {i}](https://host{i % 7}.example.invalid/{i})" for i in range(60))
    root = site({"content/a.md": f"---\ntitle: A\n---\n\n{links}\n"}, {})
    start = time.monotonic()
    code, out, err = invoke(root, "check", "--external", "--format", "json")
    assert time.monotonic() - start < 5
    assert code == 0
    assert findings(out) == []
    assert err.count("no host could be reached") == 1
    # Being offline is not cached: the next run online checks them all.
    with sqlite3.connect(root / CACHE) as conn:
        assert conn.execute("SELECT count(*) FROM verdicts").fetchone() == (0,)


@pytest.mark.parametrize(
    ("external", "message"),
    [
        ({"jobs": 0}, "'external.jobs' must be at least 1"),
        ({"per_host": "two"}, "'external.per_host' must be a whole number"),
        ({"read_timeout": 0}, "'external.read_timeout' must be positive"),
        ({"accept": [999]}, "'external.accept' must be a list of HTTP status codes"),
        ({"exclude": ["("]}, "'external.exclude': invalid regex '('"),
        ({"headers": {"x.org": "token"}}, "'external.headers' must map a host"),
        ({"enabled": "yes"}, "'external.enabled' must be true or false"),
        ({"retry": 3}, "unknown key 'external.retry'"),
        ({"connect_timeout": float("nan")}, "'external.connect_timeout' must be a finite number"),
        ({"min_delay": float("inf")}, "'external.min_delay' must be a finite number"),
        ({"user_agent": "bot\nX-Evil: 1"}, "'external.user_agent' must be non-empty text"),
        ({"headers": {"x.org": {"X-T": "é€"}}}, "'external.headers.x.org.X-T': the value"),
        ({"headers": {"x.org": {"Bad Name": "v"}}}, "not a valid HTTP header name"),
    ],
)
def test_config_errors_name_the_key_and_file(
    tmp_path: Path, external: dict[str, Any], message: str
) -> None:
    write_site(tmp_path, {"content/a.md": "---\ntitle: A\n---\n"}, {"external": external})
    code, _, err = invoke(tmp_path, "check")
    assert code == 2
    assert message in err
    assert str(tmp_path / ".handbook-lint.yaml") in err


def test_scheduled_job_in_docs(tmp_path: Path, server: Server) -> None:
    """The scheduled job's script, run as CI would, gives a Code Quality report."""
    root = make_site(tmp_path, server, allow_private=True)
    job = yaml.safe_load(JOB.read_text("utf-8"))["handbook-lint-external-links"]
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        ["bash", "-e", "-c", "\n".join(job["script"])],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "link-external-broken" in proc.stdout  # the readable log
    report = json.loads((root / "gl-code-quality-report.json").read_text("utf-8"))
    assert sorted((r["check_name"], r["location"]["lines"]["begin"]) for r in report) == [
        ("link-external-broken", 7),
        ("link-external-broken", 8),
        ("link-external-rate-limited", 11),
        ("link-external-redirect", 9),
    ]


def test_offline_suppressions_are_not_unused(tmp_path: Path, no_dns: None, site: Any) -> None:
    root = site(
        {
            "content/a.md": "---\ntitle: A\n---\n\n"
            "<!-- handbook-lint-disable-next-line link-external-broken -->\n"
            "[gone](https://gone.invalid/)\n\n"
            "<!-- handbook-lint-disable -->\n"
            "[also gone](https://also.invalid/x)\n"
            "<!-- handbook-lint-enable -->\n",
        },
        {},
    )
    code, out, err = invoke(root, "check", "--external", "--format", "json")
    assert (code, findings(out)) == (0, [])
    assert "no host could be reached" in err


def test_external_options_without_external_warn(tmp_path: Path, site: Any) -> None:
    root = site({"content/a.md": "---\ntitle: A\n---\n"}, {})
    code, _, err = invoke(root, "check", "--external-allow-private", "--external-jobs", "4")
    assert code == 0
    assert "--external-allow-private and --external-jobs have no effect without --external" in err
