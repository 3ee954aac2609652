"""Concurrent runs with edits under them, and runs killed: the cache still
answers as `--no-cache` does, and nothing is left running.

    python bench/soak.py soak --rounds 40 --procs 8    # ~6 min on 2 cores
    python bench/soak.py kills --n 30                  # ~6 min
    python bench/soak.py all
    python bench/soak.py soak --python-path /tmp/old/src   # another checkout's code

- soak: the first `--pages` pages of the handbook corpus (unpacked from
  ../shared/corpora to --corpora) in a temp folder, one cache for all
  rounds. Each round starts `--procs` runs of `check --format json --jobs 2`
  at once and, while they run, makes 400 edits about 10 ms apart to 40 pages:
  each goes back and forth between its versions (as it was, headings renamed,
  a section with a broken link and a missing anchor, a page of its own) or is
  deleted, so edits land between a run's hashing and its parsing of a page.
  Then each page is left at one of its versions, and a cached run must report
  what a `--no-cache` run reports (findings sorted by path, line, column,
  rule, message); after a round that differs the cache is made anew, so each
  round counts on its own. Counted: rounds equal, tracebacks on any stderr,
  runs over 120 s. The code before 658520a (facts stored under the hash of
  another version of the page) differed in 38 of 40 rounds.
- kills: `--kill-pages` handbook pages (a cold run takes ~6 s). Each run,
  `--no-cache`, cold, or cached with a tenth of the pages edited since, gets
  SIGTERM or SIGKILL (half each) at a random time within it; 1.5 s later its
  session (it starts a new one) must have no live process (survivors are
  listed and killed). The same command then runs to its end: exit 0 or 1, no
  traceback, findings equal to a `--no-cache` reference made at the start.

The figures are printed as lines and returned as dicts (`from soak import
soak, kills`); exit code 3 when a round differs or a kill leaves anything.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from subprocess import DEVNULL, PIPE
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import unpack  # noqa: E402

CORPUS = "gitlab-handbook-ja"
LINT = [sys.executable, "-m", "handbook_lint", "check", "--format", "json", "--jobs", "2"]
TIMEOUT = 120.0
NOTE = b"\n<!-- soak -->\n"
Finding = tuple[str, int, int, str, str]


def child_env(python_path: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if python_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [python_path, env.get("PYTHONPATH")]))
    return env


def make_site(into: Path, pages: int, corpora: Path) -> tuple[Path, list[Path]]:
    """The corpus's config and assets, and its first `pages` pages (sorted)."""
    source = unpack(CORPUS, corpora)
    root = into / f"site-{pages}"
    skip = {"content", ".handbook-lint-cache"}
    shutil.copytree(source, root, ignore=lambda d, names: skip if Path(d) == source else [])
    (root / ".handbook-lint.yaml").write_text("extends: gitlab-handbook\n", "utf-8")
    chosen = sorted((source / "content").rglob("*.md"))[:pages]
    for page in chosen:
        target = root / page.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)
    return root, [root / p.relative_to(source) for p in chosen]


def findings(stdout: str) -> list[Finding] | None:
    """The findings of a JSON report, sorted (None: no report)."""
    try:
        data = json.loads(stdout)["findings"]
    except (ValueError, KeyError):
        return None
    return sorted((f["path"], f["line"], f["column"], f["rule"], f["message"]) for f in data)


def lint(root: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LINT, *extra], cwd=root, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


def which_code(env: dict[str, str]) -> str:
    cmd = [sys.executable, "-c", "import handbook_lint; print(handbook_lint.__file__)"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True).stdout.strip()


def versions(text: str, r: int, i: int) -> list[str]:
    """A page's versions in round r: as it was, headings renamed, a section with
    a broken link and a missing anchor (two ways), a short page of its own."""
    renamed = re.sub(r"(?m)^(#{2,4}) ", rf"\1 Soak {r} ", text)
    extra = "\n\n## Soak {r} {k}\n\n[gone](/soak/{r}/{i}/{k}/) and [up](#soak-{r}-{o})\n"
    return [
        text,
        renamed,
        text + extra.format(r=r, i=i, k="a", o="b"),
        renamed + extra.format(r=r, i=i, k="b", o="a"),
        f"---\ntitle: Soak {r}\n---\n\n## Only {r}\n\n[x](/soak/{r}/{i}/) [y](#only-{r + 1})\n",
    ]


def soak(
    rounds: int = 40,
    procs: int = 8,
    pages: int = 300,
    python_path: str | None = None,
    corpora: Path = Path("/tmp/corpora"),
    seed: int = 0,
    edited: int = 40,
    edits: int = 400,
    pause: float = 0.01,
) -> dict[str, Any]:
    """`rounds` of `procs` runs, `edits` edits of `edited` pages under each
    (`pause` seconds apart on average)."""
    rng = random.Random(seed)
    env = child_env(python_path)
    print(f"soak: code {which_code(env)}; {rounds} rounds of {procs} runs", flush=True)
    start = time.monotonic()
    equal = tracebacks = timeouts = 0
    with tempfile.TemporaryDirectory(prefix="hl-soak-") as tmp:
        root, files = make_site(Path(tmp), pages, corpora)
        originals = {f: f.read_text("utf-8") for f in files}
        lint(root, env)  # a warm cache to start from
        for r in range(rounds):
            t0 = time.monotonic()
            chosen = rng.sample(files, edited)
            forms = {f: versions(originals[f], r, i) for i, f in enumerate(chosen)}
            runs = [
                subprocess.Popen(LINT, cwd=root, env=env, stdout=DEVNULL, stderr=PIPE, text=True)
                for _ in range(procs)
            ]
            for _ in range(edits):  # under the runs: the pages go back and forth
                page = rng.choice(chosen)
                if rng.random() < 0.05:
                    page.unlink(missing_ok=True)
                else:
                    page.write_text(rng.choice(forms[page]), "utf-8")
                time.sleep(rng.uniform(0, 2 * pause))
            for run in runs:
                try:
                    _, err = run.communicate(timeout=TIMEOUT)
                except subprocess.TimeoutExpired:
                    timeouts += 1
                    run.kill()
                    _, err = run.communicate()
                tracebacks += "Traceback" in err
            for page in chosen:  # each page left at one of its versions
                page.write_text(rng.choice(forms[page]), "utf-8")
            cached, fresh = lint(root, env), lint(root, env, "--no-cache")
            tracebacks += ("Traceback" in cached.stderr) + ("Traceback" in fresh.stderr)
            a, b = findings(cached.stdout), findings(fresh.stdout)
            same = a is not None and a == b
            equal += same
            diff = sorted(set(a or []) ^ set(b or []))
            what = "equal" if same else f"DIFFERS ({len(diff)} findings)"
            print(f"  round {r + 1}: {what}, {time.monotonic() - t0:.1f} s", flush=True)
            for f in diff[:4]:
                print(f"    {'only cached' if f in (a or []) else 'only --no-cache'}: {f}")
            if not same:  # a new cache, so that each round's figure is its own
                shutil.rmtree(root / ".handbook-lint-cache")
                lint(root, env)
    minutes = (time.monotonic() - start) / 60
    print(
        f"soak: {equal}/{rounds} rounds equal to --no-cache, {tracebacks} tracebacks, "
        f"{timeouts} timeouts, {minutes:.1f} min"
    )
    return {
        "rounds": rounds,
        "equal": equal,
        "differing": rounds - equal,
        "tracebacks": tracebacks,
        "timeouts": timeouts,
        "minutes": round(minutes, 1),
    }


def session(sid: int) -> list[tuple[int, str, str]]:
    """The processes of session `sid`: pid, state (Z: dead, not yet reaped), command."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid:
            found.append((int(stat.parent.name), fields[0], cmdline.strip()))
    return found


def kills(
    n: int = 30,
    pages: int = 1500,
    python_path: str | None = None,
    corpora: Path = Path("/tmp/corpora"),
    seed: int = 0,
) -> dict[str, Any]:
    rng = random.Random(seed)
    env = child_env(python_path)
    print(f"kills: code {which_code(env)}; {n} runs on {pages} pages", flush=True)
    start = time.monotonic()
    signals: Counter[str] = Counter()
    codes: Counter[int] = Counter()
    leftovers = zombies = correct = killed_tracebacks = finished_first = 0
    with tempfile.TemporaryDirectory(prefix="hl-kills-") as tmp:
        root, files = make_site(Path(tmp), pages, corpora)
        originals = {f: f.read_bytes() for f in files}
        t0 = time.monotonic()
        reference = findings(lint(root, env, "--no-cache").stdout) or []
        took = {"--no-cache": time.monotonic() - t0}
        for f in files:  # the note moves a page's last line: its findings with the note
            f.write_bytes(originals[f] + NOTE)
        noted = findings(lint(root, env, "--no-cache").stdout) or []
        for f in files:
            f.write_bytes(originals[f])
        marked: set[str] = set()  # the pages with the note now
        for k in range(n):
            mode = rng.choice(["--no-cache", "cold", "stale"])
            if mode == "cold":
                shutil.rmtree(root / ".handbook-lint-cache", ignore_errors=True)
            elif mode == "stale":  # a tenth of the pages edited, back or forth
                for f in rng.sample(files, len(files) // 10):
                    name = str(f.relative_to(root))
                    marked ^= {name}
                    f.write_bytes(originals[f] + (NOTE if name in marked else b""))
            expected = sorted(
                [x for x in reference if x[0] not in marked] + [x for x in noted if x[0] in marked]
            )
            cmd = [*LINT, *(["--no-cache"] if mode == "--no-cache" else [])]
            sig = signal.SIGTERM if signals["SIGTERM"] <= signals["SIGKILL"] else signal.SIGKILL
            wait = rng.uniform(0.1, 0.8) * took.get(mode, took["--no-cache"])
            with tempfile.TemporaryFile() as out, tempfile.TemporaryFile("w+") as err:
                run = subprocess.Popen(
                    cmd, cwd=root, env=env, stdout=out, stderr=err, start_new_session=True
                )
                time.sleep(wait)
                sent = run.poll() is None
                if sent:
                    run.send_signal(sig)
                    signals[sig.name] += 1
                finished_first += not sent
                code = run.wait(timeout=TIMEOUT)
                codes[code] += 1
                err.seek(0)
                said = err.read()
            if "Traceback" in said:
                killed_tracebacks += 1
                print(f"  run {k + 1}: TRACEBACK after {sig.name} at {wait:.1f} s:\n{said[-1500:]}")
            time.sleep(1.5)  # for the workers' parent-death signal
            # (Dead workers wait for this machine's PID 1 to reap them: not counted.)
            procs = session(run.pid)
            left = [p for p in procs if p[1] not in "ZX"]
            leftovers += len(left)
            zombies += len(procs) - len(left)
            for pid, state, what in left:
                print(f"  run {k + 1}: LEFT OVER after {sig.name}: {pid} {state} {what[:60]}")
                os.kill(pid, signal.SIGKILL)
            t1 = time.monotonic()
            again = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
            took[mode] = time.monotonic() - t1
            ok = (
                again.returncode in (0, 1)
                and "Traceback" not in again.stderr
                and findings(again.stdout) == expected
            )
            correct += ok
            print(
                f"  run {k + 1}: {mode}, {sig.name if sent else 'ended before'} at {wait:.1f} s, "
                f"exit {code}, {len(left)} left, next run {'correct' if ok else 'WRONG'} "
                f"(exit {again.returncode}, {took[mode]:.1f} s)",
                flush=True,
            )
    minutes = (time.monotonic() - start) / 60
    print(
        f"kills: {dict(signals)} ({finished_first} finished first), exit codes {dict(codes)}, "
        f"{killed_tracebacks} tracebacks, {leftovers} leftover processes ({zombies} dead, "
        f"not yet reaped), next run correct {correct}/{n}, {minutes:.1f} min"
    )
    return {
        "runs": n,
        "signals": dict(signals),
        "finished_first": finished_first,
        "exit_codes": dict(codes),
        "tracebacks": killed_tracebacks,
        "leftovers": leftovers,
        "zombies": zombies,
        "next_correct": correct,
        "minutes": round(minutes, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["soak", "kills", "all"])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--pages", type=int, default=300, help="of the soak's site")
    parser.add_argument("--n", type=int, default=30, help="runs killed")
    parser.add_argument("--kill-pages", type=int, default=1500)
    parser.add_argument("--python-path", help="put this src first on the runs' PYTHONPATH")
    parser.add_argument("--corpora", type=Path, default=Path("/tmp/corpora"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    status = 0
    if args.what in ("soak", "all"):
        s = soak(args.rounds, args.procs, args.pages, args.python_path, args.corpora, args.seed)
        status |= 3 * (s["equal"] < s["rounds"] or s["tracebacks"] > 0 or s["timeouts"] > 0)
    if args.what in ("kills", "all"):
        k = kills(args.n, args.kill_pages, args.python_path, args.corpora, args.seed)
        status |= 3 * (k["leftovers"] > 0 or k["next_correct"] < k["runs"])
    return status


if __name__ == "__main__":
    sys.exit(main())
