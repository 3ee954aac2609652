"""The external-link engine against real HTTP servers on 127.0.0.1 (and 127.0.0.2).

No test sends anything off the machine: hosts under `.invalid` are made to fail
name resolution without asking a DNS server (see the `no_dns` fixture).
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from local_http import BIG, Server, Silent

from handbook_lint import __version__
from handbook_lint.external import checker, failures, policy, scheduler
from handbook_lint.external.results import ExternalCacheWarning, ExternalResult
from handbook_lint.external.scheduler import check_urls
from handbook_lint.external.settings import ExternalSettings

FAST = ExternalSettings(allow_private=True, backoff=0.01, connect_timeout=2, read_timeout=2)


def check(
    urls: list[str], settings: ExternalSettings = FAST, **kwargs: Any
) -> dict[str, ExternalResult]:
    return check_urls(urls, settings, kwargs.pop("cache_path", None), **kwargs)


def one(url: str, settings: ExternalSettings = FAST) -> ExternalResult:
    return check([url], settings)[url]


# --------------------------------------------------------------------------- #
# Verdicts


def test_ok(server: Server) -> None:
    r = one(server.url("/ok"))
    assert (r.status, r.code, r.detail, r.new_url, r.from_cache) == (
        "ok",
        200,
        "200 OK",
        None,
        False,
    )
    assert server.requests[0][0] == "HEAD"
    ua = server.requests[0][2]["User-Agent"]
    assert ua == f"handbook-lint/{__version__} (+link checker)"


def test_permanent_redirect_chain(server: Server) -> None:
    r = one(server.url("/chain1"))
    assert r.status == "redirect"
    assert r.code == 200
    assert r.new_url == server.url("/ok/final")
    assert r.detail == "permanent redirect (301, 301)"


def test_308_is_permanent(server: Server) -> None:
    r = one(server.url("/perm308"))
    assert (r.status, r.new_url) == ("redirect", server.url("/ok/308"))


def test_temporary_redirect_is_ok(server: Server) -> None:
    r = one(server.url("/temp"))
    assert (r.status, r.code, r.new_url) == ("ok", 200, None)
    mixed = one(server.url("/mixed"))
    assert (mixed.status, mixed.new_url) == ("ok", None)


def test_redirect_keeps_fragment(server: Server) -> None:
    url = server.url("/chain1#install")
    r = check([url])[url]
    assert r.new_url == server.url("/ok/final#install")


@pytest.mark.parametrize(
    ("path", "code", "detail"), [("/404", 404, "404 Not Found"), ("/410", 410, "410 Gone")]
)
def test_not_found(server: Server, path: str, code: int, detail: str) -> None:
    r = one(server.url(path))
    assert (r.status, r.code, r.detail) == ("broken", code, detail)


def test_accept_extra_codes(server: Server) -> None:
    assert one(server.url("/403")).status == "broken"
    r = one(server.url("/403"), replace(FAST, accept=(403,)))
    assert (r.status, r.code) == ("ok", 403)


def test_head_refused_falls_back_to_get(server: Server) -> None:
    r = one(server.url("/head405"))
    assert (r.status, r.code) == ("ok", 200)
    assert [m for m, p, _ in server.requests if p == "/head405"] == ["HEAD", "GET"]


def test_429_retry_after_is_honoured(server: Server) -> None:
    start = time.monotonic()
    r = one(server.url("/429once"))
    assert time.monotonic() - start >= 1.0
    assert (r.status, r.code) == ("ok", 200)
    assert server.hits["/429once"] == 2


def test_429_retry_after_too_long_is_rate_limited(server: Server) -> None:
    start = time.monotonic()
    r = one(server.url("/429long"))
    assert time.monotonic() - start < 2
    assert (r.status, r.code) == ("rate-limited", 429)
    assert "3600" in r.detail
    assert server.hits["/429long"] == 1


def test_429_after_retries_is_rate_limited(server: Server) -> None:
    r = one(server.url("/429always"))
    assert (r.status, r.code) == ("rate-limited", 429)
    assert server.hits["/429always"] == 3


def test_503_is_broken_after_retries(server: Server) -> None:
    settings = replace(FAST, retries=2)
    r = one(server.url("/503"), settings)
    assert (r.status, r.code) == ("broken", 503)
    assert r.detail == "503 Service Unavailable after 3 attempts"
    assert server.hits["/503"] == 1 + settings.retries


def test_slow_response_times_out(server: Server) -> None:
    settings = replace(FAST, read_timeout=0.3, retries=1)
    start = time.monotonic()
    r = one(server.url("/slow"), settings)
    assert time.monotonic() - start < 2
    assert (r.status, r.code) == ("broken", None)
    assert r.detail == "timed out after 2 attempts"
    # HEAD timed out, so GET was tried at once (and not again: a timeout is
    # retried once, as that GET)
    assert [m for m, path, _ in server.requests if path == "/slow"] == ["HEAD", "GET"]


def test_refused_port_is_broken(server: Server) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    dead = f"http://127.0.0.1:{port}/"
    results = check([dead, server.url("/ok")])
    assert results[server.url("/ok")].status == "ok"
    r = results[dead]
    assert (r.status, r.code) == ("broken", None)
    assert r.detail.startswith("connection refused")


def test_big_body_is_not_downloaded(server: Server) -> None:
    r = one(server.url("/big"))
    assert (r.status, r.code) == ("ok", 200)
    assert server.big_done.wait(5), "the server should see the client go away"
    assert server.big_sent < BIG // 5, f"{server.big_sent} bytes sent"


def test_redirect_loop(server: Server) -> None:
    r = one(server.url("/loop1"))
    assert r.status == "broken"
    assert "redirect loop" in r.detail


def test_too_many_redirects(server: Server) -> None:
    r = one(server.url("/hop/0"), replace(FAST, max_redirects=3))
    assert r.status == "broken"
    assert r.detail == "too many redirects (more than 3)"
    assert server.hits["/hop/3"] == 1
    assert server.hits["/hop/4"] == 0


def test_unsupported_scheme_and_exclude(server: Server) -> None:
    urls = ["mailto:someone@example.org", "ftp://example.org/file", server.url("/ok/private")]
    results = check(urls, replace(FAST, exclude=(r"/private$",)))
    assert [results[u].status for u in urls] == ["skipped", "skipped", "excluded"]
    assert not server.requests


def test_invalid_exclude_pattern() -> None:
    with pytest.raises(ValueError, match="exclude"):
        check(["http://127.0.0.1/"], replace(FAST, exclude=("(",)))


# --------------------------------------------------------------------------- #
# Scheduling


def test_per_host_limit(server: Server, server_b: Server) -> None:
    # 20 direct URLs, plus 10 on host B that redirect to host A: the redirected
    # requests count against host A's limit too.
    urls = [server.url(f"/sleep/{i}") for i in range(20)]
    urls += [server_b.url(f"/to?url={server.url(f'/sleep/b{i}')}") for i in range(10)]
    results = check(urls, replace(FAST, per_host=2, jobs=16))
    assert all(r.status == "ok" for r in results.values())
    host_a = f"{server.host}:{server.port}"
    assert server.max_in_flight[host_a] == 2


def test_min_delay_between_starts(server: Server) -> None:
    urls = [server.url(f"/ok/{i}") for i in range(5)]
    check(urls, replace(FAST, per_host=4, min_delay=0.2))
    gaps = [b - a for a, b in zip(server.starts, server.starts[1:], strict=False)]
    assert len(gaps) == 4
    assert min(gaps) >= 0.15


def test_each_url_checked_once(server: Server) -> None:
    a, b = server.url("/ok/a"), server.url("/ok/b")
    calls: list[tuple[int, int, int]] = []
    urls = [a, b, a, a, f"{b}#section", b, server.url("/404")]
    results = check(urls, progress=lambda *args: calls.append(args))
    assert list(results) == [a, b, f"{b}#section", server.url("/404")]
    assert server.hits["/ok/a"] == 1
    assert server.hits["/ok/b"] == 1
    assert calls[-1] == (4, 4, 1)
    assert [done for done, _, _ in calls] == sorted(done for done, _, _ in calls)


# --------------------------------------------------------------------------- #
# Cache


def test_cache_reuses_good_results(server: Server, tmp_path: Path) -> None:
    cache = tmp_path / "deep" / "dir" / "links.db"
    urls = [server.url("/ok/1"), server.url("/chain1"), server.url("/404")]
    first = check(urls, cache_path=cache)
    assert not any(r.from_cache for r in first.values())
    hits = sum(server.hits.values())

    second = check(urls, cache_path=cache)
    assert sum(server.hits.values()) == hits, "nothing requested again"
    assert all(r.from_cache for r in second.values())
    assert second[server.url("/chain1")].new_url == server.url("/ok/final")
    assert [(r.status, r.code, r.detail) for r in second.values()] == [
        (r.status, r.code, r.detail) for r in first.values()
    ]

    third = check(urls, replace(FAST, fail_ttl=0), cache_path=cache)
    assert server.hits["/404"] == 2, "the failure is checked again"
    assert server.hits["/ok/1"] == 1
    assert not third[server.url("/404")].from_cache
    assert third[server.url("/ok/1")].from_cache

    check(urls, replace(FAST, ok_ttl=0, fail_ttl=0), cache_path=cache)
    assert server.hits["/ok/1"] == 2


def _cache_worker(port: int, cache: str, name: str, start: Any) -> None:
    start.wait(10)
    urls = [f"http://127.0.0.1:{port}/page/{name}/{i}" for i in range(300)]
    urls += [f"http://127.0.0.1:{port}/page/shared/{i}" for i in range(100)]
    results = check_urls(urls, FAST, Path(cache))
    assert all(r.status == "ok" for r in results.values())


def test_two_processes_share_a_cache(server: Server, tmp_path: Path) -> None:
    cache = tmp_path / "links.db"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [
        ctx.Process(target=_cache_worker, args=(server.port, str(cache), name, start))
        for name in ("p1", "p2")
    ]
    for proc in procs:
        proc.start()
    start.set()
    for proc in procs:
        proc.join(60)
    assert [proc.exitcode for proc in procs] == [0, 0]
    with sqlite3.connect(cache) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (rows,) = conn.execute("SELECT count(*) FROM verdicts").fetchone()
    assert rows == 700


def test_corrupt_cache_is_replaced(server: Server, tmp_path: Path) -> None:
    cache = tmp_path / "links.db"
    cache.write_bytes(b"this is not a database\x00\xff" * 500)
    with pytest.warns(ExternalCacheWarning, match="damaged"):
        r = check([server.url("/ok")], cache_path=cache)[server.url("/ok")]
    assert r.status == "ok"
    assert len(list(tmp_path.glob("links.db.corrupt-*"))) == 1
    again = check([server.url("/ok")], cache_path=cache)[server.url("/ok")]
    assert again.from_cache
    assert server.hits["/ok"] == 1


def test_unreachable_and_skipped_are_not_cached(
    no_dns: None, server: Server, tmp_path: Path
) -> None:
    cache = tmp_path / "links.db"
    check(["http://nonexistent.invalid/"], replace(FAST, allow_private=False), cache_path=cache)
    check([server.url("/ok")], replace(FAST, allow_private=False), cache_path=cache)
    with sqlite3.connect(cache) as conn:
        assert conn.execute("SELECT count(*) FROM verdicts").fetchone() == (0,)


# --------------------------------------------------------------------------- #
# Security


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00::1", "unique-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("100.64.0.1", "private"),
        ("93.184.216.34", None),
        ("2606:2800:220:1:248:1893:25c8:1946", None),
    ],
)
def test_address_policy(address: str, kind: str | None) -> None:
    reason = policy._blocked_reason(address)
    assert reason == (f"{kind} address {address}" if kind else None)


def test_private_address_skipped_by_default(server: Server) -> None:
    r = one(server.url("/ok"), replace(FAST, allow_private=False))
    assert r.status == "skipped"
    assert r.detail == "loopback address 127.0.0.1 not checked"
    assert not server.requests


def test_connection_to_private_peer_is_refused(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DNS rebinding: the name checks out as public, the connection lands on loopback.
    monkeypatch.setattr(policy, "_resolve", lambda host, port: ["93.184.216.34"])
    r = one(server.url("/ok"), replace(FAST, allow_private=False))
    assert r.status == "skipped"
    assert "loopback address 127.0.0.1" in r.detail
    assert not server.requests


def test_each_redirect_hop_is_vetted(
    server: Server, server_b: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend 127.0.0.1 is public: the redirect to host B must still be stopped.
    real = policy._blocked_reason
    monkeypatch.setattr(policy, "_blocked_reason", lambda a: None if a == "127.0.0.1" else real(a))
    if server_b.host == "localhost":
        pytest.skip("needs a second loopback address")
    r = one(server.url(f"/to?url={server_b.url('/ok')}"), replace(FAST, allow_private=False))
    assert r.status == "skipped"
    assert r.detail == "redirects to loopback address 127.0.0.2, not checked"
    assert server.hits["/to"] == 1
    assert not server_b.requests


@pytest.mark.parametrize("key", ["host", "host:port"])
def test_headers_go_to_their_host_only_and_not_in_clear_text(
    server: Server, server_b: Server, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("HBL_TEST_TOKEN", "s3cret-token")
    monkeypatch.delenv("HBL_TEST_MISSING", raising=False)
    host = server.host if key == "host" else f"{server.host}:{server.port}"
    settings = replace(
        FAST,
        headers={
            host: {
                "Authorization": "Bearer ${HBL_TEST_TOKEN}",
                "X-Missing": "${HBL_TEST_MISSING}",
                "X-Plain": "plain",
            }
        },
    )
    url = server.url(f"/to?url={server_b.url('/ok')}")
    results = check([url, server.url("/ok/direct")], settings)
    assert all(r.status == "ok" for r in results.values())
    sent_a = [headers for _, _, headers in server.requests]
    assert len(sent_a) == 2
    for headers in sent_a:
        if key == "host":
            # A rule for the host name alone is for https: never a token in clear text.
            assert "Authorization" not in headers and "X-Plain" not in headers
            continue
        assert headers["Authorization"] == "Bearer s3cret-token"
        assert headers["X-Plain"] == "plain"
        assert "X-Missing" not in headers
    (sent_b,) = [headers for _, _, headers in server_b.requests]
    assert "Authorization" not in sent_b
    assert "X-Plain" not in sent_b
    assert "s3cret" not in repr(results)
    assert "HBL_TEST_TOKEN" not in repr(settings)


# --------------------------------------------------------------------------- #
# Bounded time


def test_head_that_times_out_is_tried_as_get(server: Server) -> None:
    r = one(server.url("/headslow"), replace(FAST, read_timeout=0.3))
    assert (r.status, r.code) == ("ok", 200)
    assert [m for m, path, _ in server.requests if path == "/headslow"] == ["HEAD", "GET"]


def test_a_server_that_drips_is_cut_off_at_the_request_deadline(server: Server) -> None:
    # one byte every 0.1 s: each read comes well within read_timeout, and the
    # head of the answer never ends
    settings = replace(FAST, read_timeout=5, request_timeout=0.5, retries=1)
    start = time.monotonic()
    r = one(server.url("/drip"), settings)
    took = time.monotonic() - start
    assert (r.status, r.detail) == ("broken", "timed out after 2 attempts")
    # HEAD, then GET at once: two requests of 0.5 s
    assert 0.9 < took < 2, took
    assert server.hits["/drip"] == 2


def test_a_silent_host_is_given_up(silent: Silent, server: Server) -> None:
    # the host accepts connections and never answers: after two links in a row
    # timed out its other links are not requested, and not called broken
    urls = [silent.url(f"/{i}") for i in range(10)]
    settings = replace(FAST, read_timeout=0.4, retries=2, per_host=2, host_timeouts=2)
    start = time.monotonic()
    results = check([*urls, server.url("/ok")], settings)
    took = time.monotonic() - start
    # two URLs in flight: HEAD (0.4 s), GET (0.4 s); then the host is given up
    assert took < 2.0, took
    statuses = [results[u].status for u in urls]
    # (a third may have started as the first ended, before the second did)
    assert statuses.count("broken") in (2, 3)
    assert statuses.count("unchecked") == 10 - statuses.count("broken")
    for u in urls:
        if results[u].status == "unchecked":
            assert "stopped answering" in results[u].detail
    assert results[server.url("/ok")].status == "ok"
    assert len(silent.accepted) <= 6


def test_an_answer_resets_the_count_of_timeouts(server: Server) -> None:
    # a slow page among quick ones on one host does not give the host up, with
    # retries (a URL's timeouts count once) and one connection at a time
    urls = [server.url("/slow"), *(server.url(f"/ok/{i}") for i in range(6)), server.url("/slow")]
    settings = replace(FAST, read_timeout=0.3, retries=2, per_host=1, jobs=1, host_timeouts=2)
    results = check(urls, settings)
    assert [results[u].status for u in urls[1:-1]] == ["ok"] * 6
    assert results[urls[0]].status == results[urls[-1]].status == "broken"


def test_the_time_budget_ends_the_pass(server: Server) -> None:
    urls = [server.url(f"/slow?{i}") for i in range(12)]
    settings = replace(FAST, read_timeout=5, time_budget=0.5, jobs=4, per_host=4)
    start = time.monotonic()
    results = check(urls, settings)
    took = time.monotonic() - start
    assert took < 1.5, took
    assert {r.status for r in results.values()} == {"unchecked"}
    assert {r.detail for r in results.values()} == {
        "not checked: the external pass ran out of time"
    }


def test_the_time_budget_holds_when_a_lookup_cannot_be_cut_off(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a DNS lookup of 4 s: no socket to shut yet; the pass ends at the budget
    # and its grace, the lookup's thread finishing on its own
    real = socket.getaddrinfo

    def slow(host: Any, *args: Any, **kwargs: Any) -> Any:
        if str(host) == "slow.example":
            time.sleep(4)
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    monkeypatch.setattr(scheduler, "GRACE_SECONDS", 0.3)
    url = f"http://slow.example:{server.port}/ok"
    start = time.monotonic()
    results = check([url, server.url("/ok")], replace(FAST, time_budget=0.5))
    assert time.monotonic() - start < 2
    assert (results[url].status, results[url].detail) == (
        "unchecked",
        "not checked: the external pass ran out of time",
    )
    assert results[server.url("/ok")].status == "ok"


def test_unchecked_links_are_one_warning_per_host(silent: Silent, tmp_path: Path) -> None:
    from handbook_lint.external.run import check_external

    warnings: list[str] = []
    urls = [silent.url(f"/{i}") for i in range(5)]
    settings = replace(FAST, read_timeout=0.3, per_host=1, host_timeouts=2)
    results = check_external(urls, settings, tmp_path, False, warnings.append)
    assert [r.status for r in results.values()].count("unchecked") == 3
    assert warnings == [
        f"3 external links not checked: 127.0.0.1:{silent.port} stopped answering "
        "(2 links in a row timed out)"
    ]
    # the timed-out links are cached as broken; the unchecked ones are asked again
    again = check_external(urls, settings, tmp_path, False, warnings.append)
    assert [r.from_cache for r in again.values()] == [True, True, False, False, False]
    assert [r.status for r in again.values()][2:] == ["broken", "broken", "unchecked"]


# --------------------------------------------------------------------------- #
# Offline


def test_offline_everything_unreachable(no_dns: None) -> None:
    urls = [f"http://host{i}.nonexistent.invalid/page" for i in range(20)]
    urls.append("http://nonexistent.invalid/")
    start = time.monotonic()
    results = check([*urls, "http:///no-host", "mailto:x@example.org"], ExternalSettings())
    assert time.monotonic() - start < 3
    assert {results[u].status for u in urls} == {"unreachable"}
    assert results["http:///no-host"].status == "broken"
    assert results["mailto:x@example.org"].status == "skipped"
    assert all(results[u].detail == "no network: no host could be reached" for u in urls)


def test_offline_refused_everywhere_is_quick(no_dns: None) -> None:
    ports = []
    for _ in range(6):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        ports.append(sock.getsockname()[1])
        sock.close()
    urls = [f"http://127.0.0.1:{port}/{i}" for port in ports for i in range(10)]
    start = time.monotonic()
    results = check(urls, replace(FAST, backoff=0.5, retries=5))
    assert time.monotonic() - start < 3
    assert {r.status for r in results.values()} == {"unreachable"}


def test_one_dead_host_among_live_ones_is_broken(no_dns: None, server: Server) -> None:
    dead = "http://nonexistent.invalid/"
    results = check([dead, server.url("/ok")])
    assert results[server.url("/ok")].status == "ok"
    assert (results[dead].status, results[dead].detail) == ("broken", "DNS lookup failed")


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        check([], replace(FAST, jobs=0))


def test_empty_input() -> None:
    calls: list[tuple[int, int, int]] = []
    assert check([], progress=lambda *a: calls.append(a)) == {}
    assert calls == [(0, 0, 0)]


def _free_ports(count: int) -> list[int]:
    ports = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        ports.append(sock.getsockname()[1])
        sock.close()
    return ports


@pytest.mark.parametrize(("dead", "jobs"), [(20, 16), (20, 1), (5, 2)])
def test_dead_hosts_first_do_not_make_a_run_offline(server: Server, dead: int, jobs: int) -> None:
    # Links to hosts that refuse connections come first in link order; a live
    # host comes last. The run is online: the live host is checked, the dead
    # links are broken, nothing is "unreachable".
    urls = [f"http://127.0.0.1:{port}/gone" for port in _free_ports(dead)]
    urls += [server.url("/ok/a"), server.url("/404")]
    results = check(urls, replace(FAST, jobs=jobs))
    assert results[server.url("/ok/a")].status == "ok"
    assert results[server.url("/404")].status == "broken"
    assert {results[u].status for u in urls[:dead]} == {"broken"}


def test_a_crash_while_checking_is_not_cached(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "links.db"
    url = server.url("/ok/x")

    def boom(self: Any, url: str) -> Any:
        raise ValueError("bug")

    with monkeypatch.context() as patch:
        patch.setattr(checker._Checker, "_check", boom)
        first = check([url], cache_path=cache)[url]
    assert (first.status, first.detail) == ("broken", "check failed (ValueError)")
    second = check([url], cache_path=cache)[url]
    assert (second.status, second.from_cache) == ("ok", False)


def test_the_checking_threads_leave_ctrl_c_and_sigterm_to_the_main_thread(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread that outlives its pass (out of time) may be alive while the run
    forks its workers, with the main thread holding the signals: it must not
    take them instead (workers.signals_held)."""
    masks: list[set[int]] = []
    real = checker._Checker.check

    def recording(self: Any, url: str) -> Any:
        masks.append({int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, ())})
        return real(self, url)

    monkeypatch.setattr(checker._Checker, "check", recording)
    urls = [server.url(f"/ok/{i}") for i in range(6)]
    results = check(urls, replace(FAST, jobs=3))
    assert all(r.status == "ok" for r in results.values())
    assert len(masks) == 6
    assert all({signal.SIGINT, signal.SIGTERM} <= mask for mask in masks)
    main = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    assert signal.SIGINT not in main and signal.SIGTERM not in main


def test_cached_verdicts_belong_to_their_settings(server: Server, tmp_path: Path) -> None:
    cache = tmp_path / "links.db"
    url = server.url("/404")
    assert check([url], cache_path=cache)[url].status == "broken"
    accepted = check([url], replace(FAST, accept=(404,)), cache_path=cache)[url]
    assert (accepted.status, accepted.from_cache) == ("ok", False)
    private = check([url], replace(FAST, allow_private=False), cache_path=cache)[url]
    assert private.status == "skipped"  # the address policy is never bypassed by the cache
    assert check([url], cache_path=cache)[url].from_cache  # the first settings' verdict is kept


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        (" 12 ", 12.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: no wait
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_urllib3_reads_it(
    header: str | None, expected: float | None
) -> None:
    assert failures._parse_retry_after(header) == expected
