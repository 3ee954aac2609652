"""Benchmark handbook-lint on the real corpora and a synthetic site.

    python bench/bench.py                       # both corpora from ../shared/corpora
    python bench/bench.py --corpus PATH         # an unpacked Hugo site (with its config)
    python bench/bench.py --runs 7 --synthetic 20000
    python bench/bench.py --npm-prefix /tmp/npmtools   # also time the peers

Each measurement runs the real command in a fresh process (process start
included) several times and prints the median with min and max (the spread is
the machine's noise), its CPU (user + system, workers included) and peak
memory (the largest resident set of the process and its workers).

The machines are noisy, so what counts are ratios, each measured as
interleaved pairs (A B, B A, ...) in the same run, the median of the per-pair
ratios printed with the lowest and highest and the target:

* cold CPU `--jobs 1` / a bare parse (bench/bareparse.py: markdown-it-py and
  python-frontmatter on the same files), target 0.8;
* cold CPU `--jobs 2` / `--jobs 1`, target 1.1, beside what two busy cores
  cost by themselves (two bare parses at once / one after the other: the
  part of that ratio no code of ours can change);
* one changed page / markdownlint-cli2 on that page (wall), target 1/3, as
  `check PAGE` and as the pre-commit hook runs it (`check --staged`, the
  edit staged, in a copy of the site made a git repository);
* cold / markdownlint-cli2 on the whole site (wall).

The peer is timed when it is installed:

    npm install --prefix /tmp/npmtools markdownlint-cli2 remark-cli remark-validate-links

It also checks that cold, warm, `--jobs 1` and `--jobs 2` runs give identical
findings (exit code 3 if not).

Every run is a run of its own process (HANDBOOK_LINT_NO_SERVER is set). With
`--server`, the short runs (one page, warm, `--staged`) are timed again with a
`handbook-lint serve` listening (client.py), the same ratios against the peer.
`--python` times another interpreter's handbook-lint: a regular `pip install`
rather than this editable checkout, whose finder adds about 20 ms to every
Python start (the one-page run of a user's install, and of pre-commit's).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "corpora"
CORPORA = {
    "gitlab-handbook-ja": (
        "gitlab-handbook-ja.tar.xz",
        "gitlab-handbook",
        "content/handbook/values/_index.md",
    ),
    "hugo-docs": ("hugo-docs.tar.xz", "hugo-docs", "content/en/content-management/urls.md"),
}
LINK_RULES = (
    "link-broken,link-anchor-missing,link-reference-undefined,link-reference-unused,spelling"
)
LINT = [sys.executable, "-m", "handbook_lint", "check"]  # (its interpreter: --python)
sys.path.insert(0, str(HERE))


class Run:
    """One run of a command: wall and CPU seconds (user + system, its workers
    included), peak RSS in MB (the largest of the process and its workers), stdout.
    A run that fails (an exit code other than 0 or 1, which is findings) stops
    the benchmark: its times would measure an error."""

    def __init__(self, cmd: list[str], cwd: Path) -> None:
        with tempfile.TemporaryFile() as errors:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=errors)
            self.output = proc.stdout.read() if proc.stdout else b""
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            self.wall = time.perf_counter() - start
            if proc.returncode not in (0, 1):
                errors.seek(0)
                said = errors.read().decode("utf-8", "replace")[-2000:]
                raise SystemExit(f"{shlex.join(cmd)} exited {proc.returncode} in {cwd}:\n{said}")
        self.cpu = usage.ru_utime + usage.ru_stime
        self.peak_mb = usage.ru_maxrss // 1024


def _met(value: float, target: float) -> str:
    return "met" if value <= target else "NOT met"


def series(
    label: str, runs: int, cmd: list[str], cwd: Path, before: Callable[[], None] | None = None
) -> dict[str, Any]:
    times, cpus, peaks, out = [], [], [], b""
    for _ in range(runs):
        if before:
            before()
        run = Run(cmd, cwd)
        times.append(run.wall)
        cpus.append(run.cpu)
        peaks.append(run.peak_mb)
        out = run.output
    row = {
        "run": label,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "cpu_s": statistics.median(cpus),
        "peak_mb": max(peaks),
        "runs": runs,
        "output": out,
    }
    noise = (row["max_s"] - row["min_s"]) / row["median_s"] * 100 if row["median_s"] else 0
    print(
        f"  {label:<42} median {row['median_s']:7.2f} s  (min {row['min_s']:.2f}, "
        f"max {row['max_s']:.2f}, spread {noise:4.1f}%)  CPU {row['cpu_s']:.2f} s  "
        f"peak {row['peak_mb']} MB",
        flush=True,
    )
    return row


def ratio(
    label: str,
    runs: int,
    a: tuple[list[str], Callable[[], None] | None],
    b: tuple[list[str], Callable[[], None] | None],
    cwd: Path,
    measure: str,
    target: float | None = None,
) -> float:
    """`measure` (cpu or wall) of A ÷ that of B, run as interleaved pairs (A, B),
    (B, A), ... so that drift of the machine hits both alike: the median of the
    per-pair ratios, with the lowest and highest (the noise)."""
    ratios, first, second = [], [], []
    for i in range(runs):
        order = [(0, a), (1, b)] if i % 2 == 0 else [(1, b), (0, a)]
        got: dict[int, float] = {}
        for which, (cmd, before) in order:
            if before:
                before()
            got[which] = getattr(Run(cmd, cwd), measure)
        first.append(got[0])
        second.append(got[1])
        ratios.append(got[0] / got[1] if got[1] else float("inf"))
    med = statistics.median(ratios)
    verdict = "" if target is None else f"  (target <= {target:.2f}: {_met(med, target)})"
    print(
        f"  RATIO {label}: {med:.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}, "
        f"{runs} pairs; {measure} medians {statistics.median(first):.2f} s and "
        f"{statistics.median(second):.2f} s){verdict}",
        flush=True,
    )
    return med


def unpack(name: str, into: Path) -> Path:
    archive, preset, _ = CORPORA[name]
    target = into / name
    if not target.exists():
        target.mkdir(parents=True)
        with tarfile.open(SHARED / archive, "r:xz") as tar:
            tar.extractall(target, filter="data")
    (target / ".handbook-lint.yaml").write_text(f"extends: {preset}\n", encoding="utf-8")
    return target


def findings_of(output: bytes) -> list[tuple[object, ...]]:
    data = json.loads(output)
    return [tuple(f.values()) for f in data["findings"]]


@contextlib.contextmanager
def served(workdir: Path) -> Iterator[None]:
    """A `handbook-lint serve` listening while the block runs (its runs' CPU is
    the server's: only wall times mean anything then)."""
    sock = workdir / "server" / "bench.sock"
    proc = subprocess.Popen(
        [*LINT[:-1], "serve", "--socket", str(sock), "--idle-timeout", "0"],
        stderr=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "HANDBOOK_LINT_NO_SERVER"},
    )
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("handbook-lint serve did not start")
            time.sleep(0.05)
        del os.environ["HANDBOOK_LINT_NO_SERVER"]
        os.environ["HANDBOOK_LINT_SOCKET"] = str(sock)
        yield
    finally:
        os.environ["HANDBOOK_LINT_NO_SERVER"] = "1"
        os.environ.pop("HANDBOOK_LINT_SOCKET", None)
        proc.terminate()
        proc.wait(10)


def held(root: Path) -> None:
    """With a server: wait until its holder of `root`'s site listens (it loads
    the site after the first served check there; runs meanwhile are served
    without it), so that a series measures the runs a hook meets once the
    server has that site (at most 60 s; without it, a note)."""
    sock = os.environ.get("HANDBOOK_LINT_SOCKET")
    if not sock:
        return
    st = os.stat(root)
    held_at = f"{os.path.abspath(sock)}.{st.st_dev}-{st.st_ino}"  # (client.holder_path)
    if len(held_at.encode("utf-8", "surrogateescape")) >= 108:
        print(f"  (the socket path is too long for a holder of {root}: none is waited for)")
        return
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.path.exists(held_at):
            return
        time.sleep(0.1)
    print(f"  (no holder of {root} listened within 60 s: the runs are served without it)")


def bench_site(
    root: Path,
    one_file: str,
    runs: int,
    pairs: int,
    npm: Path | None,
    content: str,
    link_phase: bool,
    server: bool = False,
) -> int:
    cache = root / ".handbook-lint-cache"
    served_same = True

    def clear() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    page = root / one_file
    original = page.read_text("utf-8")
    counter = [0]

    def touch() -> None:
        counter[0] += 1
        page.write_text(original + f"\nEdited for the benchmark ({counter[0]}).\n", "utf-8")

    try:
        json_args = ["--format", "json"]
        bare = [sys.executable, str(HERE / "bareparse.py"), str(root)]
        jobs1 = [*LINT, "-q", "--no-cache", "-j", "1"]
        jobs2 = [*LINT, "-q", "--no-cache", "-j", "2"]
        rows = [
            series("cold (no cache), --jobs 2", runs, [*LINT, *json_args, "-j", "2"], root, clear),
            series(
                "cold (no cache), --jobs 1",
                max(1, runs // 2),
                [*LINT, *json_args, "-j", "1", "--no-cache"],
                root,
            ),
            series("warm (nothing changed)", runs, [*LINT, *json_args], root),
        ]
        series("bare parse (markdown-it-py, python-frontmatter)", max(1, runs // 2), bare, root)
        print("  ratios, each of interleaved pairs:")
        ratio(
            "cold CPU --jobs 1 / bare parse CPU",
            pairs,
            (jobs1, None),
            (bare, None),
            root,
            "cpu",
            0.8,
        )
        ratio(
            "cold CPU --jobs 2 / cold CPU --jobs 1",
            pairs,
            (jobs2, None),
            (jobs1, None),
            root,
            "cpu",
            1.1,
        )
        # What two busy cores cost by themselves: two bare parses at once against the
        # same two one after the other (shared caches, or two threads of one core).
        bare_sh = " ".join(shlex.quote(part) for part in bare) + " >/dev/null"
        ratio(
            "the machine: CPU of two bare parses at once / one after the other",
            max(1, runs // 2),
            (["sh", "-c", f"{bare_sh} & {bare_sh}; wait"], None),
            (["sh", "-c", f"{bare_sh}; {bare_sh}"], None),
            root,
            "cpu",
        )
        touch()
        subprocess.run([*LINT, "-q"], cwd=root, stdout=subprocess.DEVNULL, check=False)
        one = series(
            "one file changed, that path given, warm",
            runs,
            [*LINT, *json_args, one_file],
            root,
            touch,
        )
        warm, peak = rows[2]["median_s"], rows[1]["peak_mb"]
        print(
            f"  targets: one changed page {one['median_s']:.2f} s (<= 0.3 s: "
            f"{_met(one['median_s'], 0.3)}); warm, nothing changed {warm:.2f} s (<= 0.4 s: "
            f"{_met(warm, 0.4)}); peak RSS cold --jobs 1 {peak} MB (<= 200 MB: {_met(peak, 200)})"
        )
        bin_dir = npm / "node_modules" / ".bin" if npm is not None else None
        found = bin_dir / "markdownlint-cli2" if bin_dir is not None else None
        markdownlint = found if found is not None and found.exists() else None  # (the peer)
        if markdownlint is not None:
            page_ratio("", root, one_file, touch, pairs, markdownlint)
            bench_staged(root, one_file, original, runs, pairs, markdownlint)
        if server:
            print("  with handbook-lint serve listening:", flush=True)
            page.write_text(original, "utf-8")  # (as the warm run without it had it)
            with served(root.parent):
                subprocess.run([*LINT, "-q"], cwd=root, stdout=subprocess.DEVNULL, check=False)
                held(root)
                warm_s = series("warm (nothing changed), server", runs, [*LINT, *json_args], root)
                one_s = series(
                    "one file changed, that path given, server",
                    runs,
                    [*LINT, *json_args, one_file],
                    root,
                    touch,
                )
                served_same = findings_of(warm_s["output"]) == findings_of(rows[2]["output"])
                print(f"  findings identical, warm with and without the server: {served_same}")
                print(
                    f"  targets, server: one changed page {one_s['median_s']:.2f} s (<= 0.3 s: "
                    f"{_met(one_s['median_s'], 0.3)}); warm {warm_s['median_s']:.2f} s "
                    f"(<= 0.4 s: {_met(warm_s['median_s'], 0.4)})"
                )
                if markdownlint is not None:
                    page_ratio("server, ", root, one_file, touch, pairs, markdownlint)
                    bench_staged(root, one_file, original, runs, pairs, markdownlint, "server, ")
        if markdownlint is not None:
            ratio(
                "cold --jobs 2, wall: handbook-lint / markdownlint-cli2 on the whole site",
                max(1, runs // 3),
                ([*LINT, "-q", "-j", "2"], clear),
                ([str(markdownlint), f"{content}/**/*.md"], None),
                root,
                "wall",
            )
    finally:  # (a failing run stops the benchmark: the page is put back)
        page.write_text(original, "utf-8")
    if link_phase:
        # Core and full runs alternate; the overhead is the median of the pairs.
        core_cmd = [*LINT, "-q", "--no-cache", "-j", "1", "--ignore", LINK_RULES]
        full_cmd = [*LINT, "-q", "--no-cache", "-j", "1"]
        ratio(
            "all checks / core checks only (CPU)",
            max(3, runs),
            (full_cmd, None),
            (core_cmd, None),
            root,
            "cpu",
        )
    same = (
        findings_of(rows[0]["output"])
        == findings_of(rows[1]["output"])
        == findings_of(rows[2]["output"])
    )
    print(f"  findings identical for cold -j2, cold -j1, warm: {'yes' if same else 'NO'}")
    same = same and served_same
    if bin_dir is not None:
        remark = [
            str(bin_dir / "remark"),
            "--use",
            "remark-validate-links",
            "--quiet",
            "--frail",
            content,
        ]
        if Path(remark[0]).exists():
            peer = series("peer: remark-validate-links", max(1, runs // 2), remark, root)
            print(
                f"  handbook-lint cold -j2 is {peer['median_s'] / rows[0]['median_s']:.1f}x "
                "as fast as remark-validate-links"
            )
    return 0 if same else 3


def page_ratio(
    label: str, root: Path, one_file: str, touch: Callable[[], None], pairs: int, peer: Path
) -> float:
    """One changed page: handbook-lint against markdownlint-cli2 on that page (wall)."""
    return ratio(
        f"{label}one changed page, wall: handbook-lint / markdownlint-cli2 on that page",
        pairs,
        ([*LINT, "-q", one_file], touch),
        ([str(peer), one_file], None),
        root,
        "wall",
        1 / 3,
    )


def bench_staged(
    root: Path,
    one_file: str,
    original: str,
    runs: int,
    pairs: int,
    markdownlint: Path,
    label: str = "",
) -> None:
    """The pre-commit case as the hook runs it: `check --staged` in a git work
    tree (the edit staged: the page as it will be committed against HEAD's),
    in a copy of the site made a git repository (anew each time: an older copy
    may not be the site any more)."""
    repo = root.parent / f"{root.name}-git"
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    git += ["-c", "commit.gpgsign=false"]
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(root, repo, ignore=shutil.ignore_patterns(".handbook-lint-cache"))
    (repo / one_file).write_text(original, "utf-8")
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "The site"]):
        subprocess.run([*git, *step], cwd=repo, check=True, stdout=subprocess.DEVNULL)
    page, counter = repo / one_file, [0]

    def stage() -> None:
        counter[0] += 1
        page.write_text(original + f"\nStaged for the benchmark ({counter[0]}).\n", "utf-8")
        subprocess.run([*git, "add", one_file], cwd=repo, check=True)

    try:
        subprocess.run([*LINT, "-q"], cwd=repo, stdout=subprocess.DEVNULL, check=False)
        held(repo)
        hook = [*LINT, "-q", "--staged"]
        staged = series(
            f"{label}one file changed and staged, check --staged", runs, hook, repo, stage
        )
        print(
            f"  {label}the pre-commit hook's own command: {staged['median_s']:.2f} s "
            f"(<= 0.3 s: {_met(staged['median_s'], 0.3)})"
        )
        ratio(
            f"{label}pre-commit, wall: check --staged / markdownlint-cli2 on that page",
            pairs,
            (hook, stage),
            ([str(markdownlint), one_file], None),
            repo,
            "wall",
            1 / 3,
        )
    finally:
        subprocess.run([*git, "reset", "-q", "--hard"], cwd=repo, check=False)


def bench_synthetic(pages: list[int], runs: int, workdir: Path) -> None:
    from synth import generate

    per_page = []
    for n in pages:
        root = workdir / f"synthetic-{n}"
        if not root.exists():
            generate(root, n)
        print(f"synthetic site, {n} pages", flush=True)
        cold = series(
            f"cold, {n} pages",
            runs,
            [*LINT, "-q"],
            root,
            lambda r=root: shutil.rmtree(r / ".handbook-lint-cache", ignore_errors=True),
        )
        warm = series(f"warm, {n} pages", runs, [*LINT, "-q"], root)
        per_page.append((n, cold["median_s"] / n * 1000, warm["median_s"] / n * 1000))
    for n, cold_ms, warm_ms in per_page:
        print(f"  {n:>6} pages: {cold_ms:.2f} ms/page cold, {warm_ms:.3f} ms/page warm")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, help="an unpacked site instead of the corpora")
    parser.add_argument("--one-file", default="", help="page to edit for the one-file run")
    parser.add_argument("--runs", type=_positive, default=5, help="runs of each timed series")
    parser.add_argument(
        "--pairs",
        type=_positive,
        help="interleaved pairs of each target ratio (default: --runs); the ratios are "
        "the figures to trust, and 9 or more tell 0.80 from 0.85 on a noisy machine",
    )
    parser.add_argument("--only", choices=sorted(CORPORA), action="append")
    parser.add_argument(
        "--synthetic",
        type=int,
        nargs="*",
        default=[],
        help="page counts of synthetic sites (e.g. 5000 20000)",
    )
    parser.add_argument("--npm-prefix", type=Path, help="where the peers are npm-installed")
    parser.add_argument(
        "--link-phase", action="store_true", help="also time all checks against the core ones"
    )
    parser.add_argument("--workdir", type=Path, help="where to unpack (default: a temp dir)")
    parser.add_argument(
        "--server", action="store_true", help="also time the short runs with a server listening"
    )
    parser.add_argument(
        "--python",
        type=Path,
        help="the interpreter whose handbook-lint is timed (default: this one; bare "
        "parses always run with this one)",
    )
    args = parser.parse_args()
    os.environ["HANDBOOK_LINT_NO_SERVER"] = "1"  # (a server of the user's would take the runs)
    if args.python:
        LINT[0] = str(args.python)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="handbook-lint-bench-"))
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; work dir {workdir}")
    print(f"timing: {shlex.join(LINT)}")
    # `pip install` byte-compiles a package; an editable checkout run with
    # PYTHONDONTWRITEBYTECODE=1 would compile every module on every start instead
    # (about 80 ms here), which no user of an installed copy pays.
    import handbook_lint

    compileall.compile_dir(Path(handbook_lint.__file__).parent, quiet=1)
    status = 0
    if args.corpus:
        sites = [(args.corpus.name, args.corpus, args.one_file, "content")]
    else:
        sites = []
        for name in args.only or sorted(CORPORA):
            root = unpack(name, workdir)
            content = "content/en" if name == "hugo-docs" else "content"
            sites.append((name, root, CORPORA[name][2], content))
    for name, root, one_file, content in sites:
        print(f"{name}:", flush=True)
        status = max(
            status,
            bench_site(
                root,
                one_file,
                args.runs,
                args.pairs or args.runs,
                args.npm_prefix,
                content,
                args.link_phase,
                args.server,
            ),
        )
    if args.synthetic:
        bench_synthetic(args.synthetic, max(1, args.runs // 2), workdir)
    return status


if __name__ == "__main__":
    sys.exit(main())
