"""The reliability campaign: fuzzed pages, configs and CLI runs, damaged
caches, pathological inputs, hostile servers, concurrent runs and kills.

    python bench/fuzz.py                      # everything, the issue's sizes (~40 min)
    python bench/fuzz.py pages --pages 20000  # one campaign
    python bench/fuzz.py cli --minutes 10     # CLI runs on fuzzed sites for 10 minutes
    python bench/fuzz.py repro-page --seed N  # the page of one seed, to a file

Campaigns (inputs made by tests/fuzzing.py, each from a seed, so any failure
can be made again):

- pages: mutated corpus pages through the page pipeline in-process, on two
  worker processes: the read (as bytes, some not UTF-8), the parse, the
  codec both ways, and every page rule of the gitlab-handbook preset (plus
  the rules it leaves off) against the real hugo-docs site. A crash is an
  exception or an `internal-error` finding; a hang is an input still running
  after 60 s (the worker is killed and restarted); slow is over 5 s per MB.
- configs: fuzzed `.handbook-lint.yaml` files loaded, and when they load, a
  full run of a three-page site; only a config error may come out. A sample
  also goes through the CLI (exit 0, 1 or 2, no traceback).
- cli: `handbook-lint check` on fuzzed sites (mutated pages, sometimes a
  fuzzed config), every output format in turn, cached and not: exit 0, 1 or
  2, no traceback, no hang, and each report valid (JSON, XML, UTF-8 text).
- cache: every kind of damage the tests know (rows and the file itself),
  then two runs equal to `--no-cache`.
- pathological: each input of tests/fuzzing.PATHOLOGICAL at 1 MB, the full
  check of a one-page site in a child (60 s cap): seconds per MB, beside a
  bare markdown-it-py parse of the same text.
- servers: default timeouts against a server that sends its answer's head a
  byte a second, and ten links to a host that accepts and never answers.
- soak and kills: bench/soak.py (concurrent runs with edits, then cached ==
  `--no-cache`; random SIGKILL and SIGTERM, leftover processes counted).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import xml.dom.minidom
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(TESTS))

import fuzzing  # noqa: E402
from conftest import write_site  # noqa: E402

from bench import unpack  # noqa: E402

LINT = [sys.executable, "-m", "handbook_lint", "check"]
FORMATS = ["text", "json", "sarif", "codequality", "github", "junit", "markdown", "html"]
HANG_SECONDS = 60.0
CAMPAIGNS = ["pathological", "servers", "cache", "configs", "pages", "cli", "soak", "kills"]
PATHOLOGICAL_CAP = 240.0  # a child runs a bare parse and the whole check of 1 MB
SLOW_SECONDS_PER_MB = 5.0
SMALL_SITE = {
    "config.toml": 'baseURL = "https://example.org/"\ntitle = "Fuzz"\n',
    "content/_index.md": "---\ntitle: Home\n---\n\n## Start\n\n[a](/a/#alpha) [b](/b/)\n",
    "content/a.md": "---\ntitle: A\n---\n\n## Alpha\n\n1. x\n1. y\n\n[home](/#start)\n",
    "content/b.md": '---\ntitle: B\n---\n\n{{< include "includes/x.md" >}}\n',
    "includes/x.md": "Shared [a](/a/#nope) text.\n",
}


def write(root: Path, files: dict[str, str | bytes]) -> None:
    """The files as given, byte for byte (text as UTF-8, lone surrogates too)."""
    write_site(
        root,
        {
            k: v if isinstance(v, bytes) else v.encode("utf-8", "surrogatepass")
            for k, v in files.items()
        },
    )


def corpus(work: Path) -> Path:
    return unpack("hugo-docs", work)


def seed_pages(root: Path, limit: int = 400) -> list[str]:
    pages = sorted((root / "content").rglob("*.md"))
    step = max(1, len(pages) // limit)
    return [p.read_text("utf-8", "replace") for p in pages[::step]][:limit] + fuzzing.SEED_PAGES


# -- pages --------------------------------------------------------------------


def _page_worker(root: str, start: int, stop: int, state: Any, out: Any) -> None:
    """Inputs start..stop-1 through the page pipeline; state[0] is the input
    being run (-1 between), state[1] when it started."""
    from handbook_lint.cache import codec
    from handbook_lint.cache.store import parse_file
    from handbook_lint.checks.registry import all_rules
    from handbook_lint.checks.selection import active_rules
    from handbook_lint.config.settings import load_config
    from handbook_lint.engine.linter import Linter

    config = load_config(Path(root) / ".handbook-lint.yaml")
    every = [name for name, rule in all_rules().items() if not rule.external]
    linter = Linter(config, active_rules(config, select=every), jobs=1, use_cache=False)
    linter.load_site()
    paths = sorted(linter.site.pages)
    seeds = seed_pages(Path(root))
    settings = linter.store.settings
    taxonomies = tuple(config.taxonomies)
    slow: list[tuple[int, float, int]] = []
    crashes: list[tuple[int, str]] = []
    biggest = 0
    rules: Counter[str] = Counter()
    for index in range(start, stop):
        rng = random.Random(index)
        data = fuzzing.page_bytes(rng, fuzzing.mutate_page(rng, seeds))
        path = rng.choice(paths)
        state[1] = time.monotonic()
        state[0] = index
        began = time.perf_counter()
        try:
            _, error, blob, summary, _ = parse_file(Path(root), path, settings, taxonomies, data)
            if blob is not None and summary is not None:
                codec.decode_summary(summary)
                facts = codec.decode(blob)
                linter.store._facts[path] = facts
                try:
                    found = linter.check_page(path)
                finally:
                    linter.store._facts.pop(path, None)
                for finding in found:
                    rules[finding.rule] += 1
                    if finding.rule == "internal-error":
                        crashes.append((index, finding.message))
                    finding.message.encode("utf-8")
            elif error is not None and error[0].startswith("internal error"):
                crashes.append((index, error[0]))
        except Exception:
            crashes.append((index, traceback.format_exc(limit=4)))
        took = time.perf_counter() - began
        biggest = max(biggest, len(data))
        if took > max(1.0, SLOW_SECONDS_PER_MB * len(data) / 1e6):
            slow.append((index, took, len(data)))
    state[0] = -1
    out.put((start, stop, crashes, slow, biggest, rules))


def pages(work: Path, count: int, procs: int = 2) -> dict[str, Any]:
    root = corpus(work)
    began = time.monotonic()
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    todo = [(i * count // procs, (i + 1) * count // procs) for i in range(procs)]
    running: list[tuple[Any, Any, int, int]] = []
    crashes: list[tuple[int, str]] = []
    slow: list[tuple[int, float, int]] = []
    hangs: list[int] = []
    found: Counter[str] = Counter()
    done = biggest = 0

    def launch(start: int, stop: int) -> None:
        state = ctx.Array("d", [-1.0, 0.0])
        proc = ctx.Process(target=_page_worker, args=(str(root), start, stop, state, out))
        proc.start()
        running.append((proc, state, start, stop))

    for start, stop in todo:
        launch(start, stop)
    while running:
        time.sleep(1.0)
        while not out.empty():
            start, stop, c, s, b, r = out.get()
            found.update(r)
            crashes += c
            slow += s
            done += stop - start
            biggest = max(biggest, b)
        for entry in list(running):
            proc, state, start, stop = entry
            index = int(state[0])
            if index >= 0 and time.monotonic() - state[1] > HANG_SECONDS:
                proc.kill()
                proc.join()
                running.remove(entry)
                hangs.append(index)
                done += index - start + 1  # (its crashes up to here are lost)
                if index + 1 < stop:
                    launch(index + 1, stop)
            elif not proc.is_alive() and out.empty():
                proc.join()
                running.remove(entry)
    figures = {
        "inputs": done,
        "crashes": len(crashes),
        "hangs": len(hangs),
        "slow": len(slow),
        "largest_input_bytes": biggest,
        "findings_by_rule": dict(found.most_common()),
        "minutes": round((time.monotonic() - began) / 60, 1),
    }
    print(f"pages: {figures}")
    for index, text in crashes[:10]:
        print(f"  crash, seed {index}: {text.strip().splitlines()[-1]}")
    for index, took, size in slow[:10]:
        print(f"  slow, seed {index}: {took:.2f} s for {size} bytes")
    for index in hangs[:10]:
        print(f"  hang, seed {index}")
    return figures


def repro_page(seed: int, work: Path) -> Path:
    rng = random.Random(seed)
    data = fuzzing.page_bytes(rng, fuzzing.mutate_page(rng, seed_pages(corpus(work))))
    target = Path(f"fuzz-page-{seed}.md").resolve()
    target.write_bytes(data)
    return target


# -- configs ------------------------------------------------------------------


def _config_worker(start: int, stop: int, out: Any) -> None:
    from handbook_lint.checks.registry import all_rules
    from handbook_lint.checks.selection import active_rules
    from handbook_lint.config.settings import ConfigError, load_config
    from handbook_lint.engine.linter import Linter

    crashes: list[tuple[int, str]] = []
    loaded = refused = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(root, SMALL_SITE)
        names = set(all_rules())
        for index in range(start, stop):
            text = fuzzing.make_config(random.Random(index))
            try:
                (root / ".handbook-lint.yaml").write_bytes(text.encode("utf-8", "surrogatepass"))
                try:
                    config = load_config(root / ".handbook-lint.yaml")
                    rules = active_rules(config)
                except ConfigError as exc:
                    assert ".handbook-lint.yaml" in str(exc), str(exc)
                    refused += 1
                    continue
                loaded += 1
                result = Linter(config, rules, jobs=1, use_cache=False).run()
                unknown = {f.rule for f in result.findings} - names
                assert not unknown, unknown
            except Exception:
                crashes.append((index, traceback.format_exc(limit=4)))
    out.put((stop - start, loaded, refused, crashes))


def configs(work: Path, count: int, cli_sample: int, procs: int = 2) -> dict[str, Any]:
    began = time.monotonic()
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    workers = [
        ctx.Process(target=_config_worker, args=(i * count // procs, (i + 1) * count // procs, out))
        for i in range(procs)
    ]
    for w in workers:
        w.start()
    results = []
    while len(results) < len(workers):
        try:
            results.append(out.get(timeout=5))
        except queue.Empty:
            if not any(w.is_alive() for w in workers):
                print("  a config worker died without a result")
                break
    for w in workers:
        w.join()
    crashes = [c for r in results for c in r[3]]
    # A sample through the command line: exit codes and stderr.
    tracebacks = hangs = 0
    codes: Counter[int] = Counter()
    site = work / "config-site"
    write(site, SMALL_SITE)
    for index in range(count, count + cli_sample):
        text = fuzzing.make_config(random.Random(index))
        (site / ".handbook-lint.yaml").write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            done = subprocess.run(LINT, cwd=site, capture_output=True, timeout=HANG_SECONDS)
        except subprocess.TimeoutExpired:
            hangs += 1
            continue
        codes[done.returncode] += 1
        if b"Traceback" in done.stderr or done.returncode not in (0, 1, 2):
            tracebacks += 1
            print(f"  config seed {index}: exit {done.returncode}: {done.stderr[-300:]!r}")
    figures = {
        "configs": sum(r[0] for r in results) + cli_sample,
        "loaded": sum(r[1] for r in results),
        "refused_with_a_config_error": sum(r[2] for r in results),
        "crashes": len(crashes) + tracebacks,
        "hangs": hangs,
        "cli_exit_codes": dict(sorted(codes.items())),
        "minutes": round((time.monotonic() - began) / 60, 1),
    }
    print(f"configs: {figures}")
    for index, text in crashes[:10]:
        print(f"  crash, config seed {index}: {text.strip().splitlines()[-1]}")
    return figures


# -- cli ----------------------------------------------------------------------


def _valid(fmt: str, output: bytes) -> bool:
    try:
        text = output.decode("utf-8")
        if fmt in ("json", "sarif", "codequality"):
            json.loads(text)
        elif fmt == "junit":
            xml.dom.minidom.parseString(output)
        elif fmt == "html":
            return "<html" in text
    except (ValueError, xml.parsers.expat.ExpatError):
        return False
    return True


def cli(work: Path, minutes: float, max_runs: int) -> dict[str, Any]:
    root = corpus(work)
    seeds = seed_pages(root, 200)
    began = time.monotonic()
    runs = tracebacks = hangs = invalid = 0
    codes: Counter[int] = Counter()
    site = work / "cli-site"
    while runs < max_runs and time.monotonic() - began < minutes * 60:
        rng = random.Random(10**6 + runs)
        shutil.rmtree(site, ignore_errors=True)
        files: dict[str, str | bytes] = dict(SMALL_SITE)
        for i in range(rng.randrange(3, 25)):
            page = fuzzing.page_bytes(rng, fuzzing.mutate_page(rng, seeds))
            files[f"content/{rng.choice(['', 'docs/', 'a/b/'])}p{i}.md"] = page
        files[".handbook-lint.yaml"] = (
            fuzzing.make_config(rng) if rng.random() < 0.3 else "extends: gitlab-handbook\n"
        )
        write(site, files)
        fmt = FORMATS[runs % len(FORMATS)]
        cmd = [*LINT, "--format", fmt, *(["--no-cache"] if rng.random() < 0.5 else [])]
        for _ in range(2 if "--no-cache" not in cmd else 1):  # cached: cold, then warm
            runs += 1
            try:
                done = subprocess.run(cmd, cwd=site, capture_output=True, timeout=HANG_SECONDS)
            except subprocess.TimeoutExpired:
                hangs += 1
                print(f"  hang: cli seed {10**6 + runs - 1}, {fmt}")
                break
            codes[done.returncode] += 1
            if b"Traceback" in done.stderr or done.returncode not in (0, 1, 2):
                tracebacks += 1
                print(f"  crash: run {runs}, {fmt}: {done.stderr[-400:]!r}")
            elif done.returncode in (0, 1) and not _valid(fmt, done.stdout):
                invalid += 1
                print(f"  invalid {fmt} report: run {runs}")
    figures = {
        "runs": runs,
        "tracebacks": tracebacks,
        "hangs": hangs,
        "invalid_reports": invalid,
        "exit_codes": dict(sorted(codes.items())),
        "minutes": round((time.monotonic() - began) / 60, 1),
    }
    print(f"cli: {figures}")
    return figures


# -- cache ----------------------------------------------------------------------


def cache(work: Path) -> dict[str, Any]:
    import sqlite3

    from test_cache import DAMAGE, FILE_DAMAGE

    site = work / "cache-site"
    cmd = [*LINT, "--format", "json", "-j", "1"]
    recovered = 0
    kinds = {
        **{k: ("row", v) for k, v in DAMAGE.items()},
        **{k: ("file", v) for k, v in FILE_DAMAGE.items()},
    }
    for name, (_, how) in kinds.items():
        shutil.rmtree(site, ignore_errors=True)
        write(site, SMALL_SITE)
        clean = subprocess.run([*cmd, "--no-cache"], cwd=site, capture_output=True).stdout
        subprocess.run(cmd, cwd=site, capture_output=True)
        path = site / ".handbook-lint-cache" / "facts.sqlite"
        db = sqlite3.connect(path)
        if isinstance(how, str):
            db.execute(how)
            if "result" not in name:
                db.execute("DELETE FROM results")
            db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        if callable(how):
            how(path)
        runs = [subprocess.run(cmd, cwd=site, capture_output=True) for _ in range(2)]
        ok = all(r.stdout == clean and b"Traceback" not in r.stderr for r in runs)
        recovered += ok
        if not ok:
            print(f"  cache damage not recovered: {name}")
    figures = {"kinds": len(kinds), "recovered": recovered}
    print(f"cache: {figures}")
    return figures


# -- pathological -----------------------------------------------------------------

_CHILD = """
import sys, time
from pathlib import Path
from handbook_lint.parsing.mdit import markdown
from handbook_lint.checks.selection import active_rules
from handbook_lint.config.settings import load_config
from handbook_lint.engine.linter import Linter
root = Path(sys.argv[1])
text = (root / "content/p.md").read_text("utf-8")
start = time.process_time()
markdown(fast=False).parse(text)
bare = time.process_time() - start
config = load_config(root / ".handbook-lint.yaml")
start = time.process_time()
result = Linter(config, active_rules(config), jobs=1, use_cache=False).run()
ours = time.process_time() - start
crashed = sum(f.rule == "internal-error" for f in result.findings)
print(bare, ours, crashed)
"""


def pathological(work: Path, size: int) -> dict[str, Any]:
    worst = 0.0
    failures = 0
    print(
        f"pathological inputs of {size / 1e6:g} MB, CPU s/MB: the whole check, "
        "markdown-it-py's parse alone (our plugins), the difference"
    )
    for name, make in fuzzing.PATHOLOGICAL.items():
        site = work / "path-site"
        shutil.rmtree(site, ignore_errors=True)
        text = make(size)
        write(site, {"content/p.md": text, ".handbook-lint.yaml": "extends: gitlab-handbook\n"})
        mb = len(text.encode("utf-8")) / 1e6
        try:
            done = subprocess.run(
                [sys.executable, "-c", _CHILD, str(site)],
                capture_output=True,
                text=True,
                timeout=PATHOLOGICAL_CAP,
            )
            bare, ours, crashed = done.stdout.split()
        except (subprocess.TimeoutExpired, ValueError):
            failures += 1
            print(f"  {name}: no result in {PATHOLOGICAL_CAP:g} s or a crash")
            continue
        rate, bare_rate = float(ours) / mb, float(bare) / mb
        overhead = max(0.0, rate - bare_rate)
        worst = max(worst, overhead)
        over = overhead >= SLOW_SECONDS_PER_MB or crashed != "0"
        failures += over
        flag = "  <-- over" if over else ""
        print(f"  {name:40} {rate:6.2f} {bare_rate:6.2f} {overhead:6.2f}{flag}")
    figures = {
        "inputs": len(fuzzing.PATHOLOGICAL),
        "over_5_s_per_mb_beyond_markdown_it": failures,
        "worst_s_per_mb_beyond_markdown_it": round(worst, 2),
    }
    print(f"pathological: {figures}")
    return figures


# -- servers ------------------------------------------------------------------


def servers() -> dict[str, Any]:
    from local_http import Server, Silent

    from handbook_lint.external.run import unchecked_warnings
    from handbook_lint.external.scheduler import check_urls
    from handbook_lint.external.settings import ExternalSettings

    settings = ExternalSettings(allow_private=True)  # default timeouts otherwise
    server, silent = Server(), Silent()
    try:
        began = time.monotonic()
        drip = check_urls([server.url("/drip?every=1")], settings, None)
        drip_s = time.monotonic() - began
        began = time.monotonic()
        quiet = check_urls([silent.url(f"/{i}") for i in range(10)], settings, None)
        silent_s = time.monotonic() - began
    finally:
        server.close()
        silent.close()
    (d,) = drip.values()
    # HEAD, then GET, each cut off at the request's deadline; the silent host:
    # rounds of `per_host` links (HEAD and GET each) until it is given up
    bound_drip = 2 * settings.request_timeout + 1
    rounds = -(-settings.host_timeouts // settings.per_host)
    bound_silent = rounds * 2 * settings.read_timeout + 2
    statuses = Counter(r.status for r in quiet.values())
    figures = {
        "drip_seconds": round(drip_s, 1),
        "drip_verdict": f"{d.status}: {d.detail}",
        "drip_bound": bound_drip,
        "silent_seconds": round(silent_s, 1),
        "silent_verdicts": dict(statuses),
        "silent_bound": bound_silent,
        "silent_warnings": unchecked_warnings(quiet.values(), settings),
        "bounded": drip_s <= bound_drip and silent_s <= bound_silent,
    }
    print(f"servers: {figures}")
    return figures


# -- main -----------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", nargs="*", default=["all"], help=f"all, or some of {CAMPAIGNS}")
    parser.add_argument("--seed", type=int, default=0, help="for repro-page")
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--configs", type=int, default=10_000)
    parser.add_argument("--cli-configs", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=5.0, help="for the cli campaign")
    parser.add_argument("--cli-runs", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=1_000_000, help="pathological input bytes")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--kills", type=int, default=30)
    args = parser.parse_args()
    unknown = set(args.what) - {"all", "repro-page", *CAMPAIGNS}
    if unknown:
        parser.error(f"unknown campaign {sorted(unknown)[0]!r} (known: {', '.join(CAMPAIGNS)})")
    want = set(CAMPAIGNS) if "all" in args.what else set(args.what)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hl-fuzz-") as tmp:
        work = Path(tmp)
        if "repro-page" in args.what:
            print(repro_page(args.seed, work))
            return 0
        if "pathological" in want:
            figures["pathological"] = pathological(work, args.size)
        if "servers" in want:
            figures["servers"] = servers()
        if "cache" in want:
            figures["cache"] = cache(work)
        if "configs" in want:
            figures["configs"] = configs(work, args.configs, args.cli_configs)
        if "pages" in want:
            figures["pages"] = pages(work, args.pages)
        if "cli" in want:
            figures["cli"] = cli(work, args.minutes, args.cli_runs)
        if want & {"soak", "kills"}:
            import soak as soak_module

            if "soak" in want:
                figures["soak"] = soak_module.soak(rounds=args.rounds, procs=args.procs)
            if "kills" in want:
                figures["kills"] = soak_module.kills(n=args.kills)
    print(json.dumps(figures, indent=1, default=str))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
