"""Benchmark handbook-lint on the real corpora and a synthetic site.

    python bench/bench.py                       # both corpora from ../shared/corpora
    python bench/bench.py --corpus PATH         # an unpacked Hugo site (with its config)
    python bench/bench.py --runs 7 --synthetic 20000
    python bench/bench.py --npm-prefix /tmp/npmtools   # also time the peers

Each measurement runs the real command in a fresh process (process start
included) several times and prints the median with min and max (the spread is
the machine's noise). Peak memory is the largest resident set of the process
and its workers. The peers (markdownlint-cli2, remark-validate-links) are timed
on the same pages in the same run when they are installed:

    npm install --prefix /tmp/npmtools markdownlint-cli2 remark-cli remark-validate-links

It also checks that cold, warm, `--jobs 1` and `--jobs 2` runs give identical
findings (exit code 3 if not).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
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
LINT = [sys.executable, "-m", "handbook_lint", "check"]
sys.path.insert(0, str(HERE))


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, bytes]:
    """Wall seconds, peak RSS in MB (process and its children), stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout else b""
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return time.perf_counter() - start, usage.ru_maxrss // 1024, out


def series(
    label: str, runs: int, cmd: list[str], cwd: Path, before: Callable[[], None] | None = None
) -> dict[str, Any]:
    times, peaks, out = [], [], b""
    for _ in range(runs):
        if before:
            before()
        seconds, peak, out = timed(cmd, cwd)
        times.append(seconds)
        peaks.append(peak)
    row = {
        "run": label,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "peak_mb": max(peaks),
        "runs": runs,
        "output": out,
    }
    noise = (row["max_s"] - row["min_s"]) / row["median_s"] * 100 if row["median_s"] else 0
    print(
        f"  {label:<42} median {row['median_s']:7.2f} s  (min {row['min_s']:.2f}, "
        f"max {row['max_s']:.2f}, spread {noise:4.1f}%)  peak {row['peak_mb']} MB",
        flush=True,
    )
    return row


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


def bench_site(root: Path, one_file: str, runs: int, npm: Path | None, content: str) -> int:
    cache = root / ".handbook-lint-cache"

    def clear() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    page = root / one_file
    original = page.read_text("utf-8")
    counter = [0]

    def touch() -> None:
        counter[0] += 1
        page.write_text(original + f"\nEdited for the benchmark ({counter[0]}).\n", "utf-8")

    json_args = ["--format", "json"]
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
    touch()
    subprocess.run([*LINT, "-q"], cwd=root, stdout=subprocess.DEVNULL, check=False)
    rows.append(
        series(
            "one file changed, that path given, warm",
            runs,
            [*LINT, *json_args, one_file],
            root,
            touch,
        )
    )
    page.write_text(original, "utf-8")
    # Core and full runs alternate, so that drift of the machine hits both alike;
    # the overhead is the median of the per-pair ratios.
    core_cmd = [*LINT, "-q", "--no-cache", "-j", "1", "--ignore", LINK_RULES]
    full_cmd = [*LINT, "-q", "--no-cache", "-j", "1"]
    pairs = [(timed(core_cmd, root)[0], timed(full_cmd, root)[0]) for _ in range(max(3, runs))]
    core_med = statistics.median(c for c, _ in pairs)
    full_med = statistics.median(f for _, f in pairs)
    ratio = statistics.median(f / c - 1 for c, f in pairs) * 100
    spread = [round((f / c - 1) * 100, 1) for c, f in pairs]
    print(
        f"  core checks only, --no-cache -j 1 (interleaved) median {core_med:6.2f} s\n"
        f"  all checks, --no-cache -j 1 (interleaved)       median {full_med:6.2f} s\n"
        f"  link + spelling phase adds {ratio:.1f}% to the core checks "
        f"(median of {len(pairs)} pairs; per pair: {spread})"
    )
    same = (
        findings_of(rows[0]["output"])
        == findings_of(rows[1]["output"])
        == findings_of(rows[2]["output"])
    )
    print(f"  findings identical for cold -j2, cold -j1, warm: {'yes' if same else 'NO'}")
    if npm is not None:
        bin_dir = npm / "node_modules" / ".bin"
        peers = [
            ("markdownlint-cli2", [str(bin_dir / "markdownlint-cli2"), f"{content}/**/*.md"]),
            (
                "remark-validate-links",
                [
                    str(bin_dir / "remark"),
                    "--use",
                    "remark-validate-links",
                    "--quiet",
                    "--frail",
                    content,
                ],
            ),
        ]
        for name, cmd in peers:
            if Path(cmd[0]).exists():
                peer = series(f"peer: {name}", max(1, runs // 2), cmd, root)
                print(
                    f"  handbook-lint cold -j2 is {peer['median_s'] / rows[0]['median_s']:.1f}x "
                    f"as fast as {name}"
                )
    return 0 if same else 3


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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, help="an unpacked site instead of the corpora")
    parser.add_argument("--one-file", default="", help="page to edit for the one-file run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=sorted(CORPORA), action="append")
    parser.add_argument(
        "--synthetic",
        type=int,
        nargs="*",
        default=[],
        help="page counts of synthetic sites (e.g. 5000 20000)",
    )
    parser.add_argument("--npm-prefix", type=Path, help="where the peers are npm-installed")
    parser.add_argument("--workdir", type=Path, help="where to unpack (default: a temp dir)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="handbook-lint-bench-"))
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; work dir {workdir}")
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
        status = max(status, bench_site(root, one_file, args.runs, args.npm_prefix, content))
    if args.synthetic:
        bench_synthetic(args.synthetic, max(1, args.runs // 2), workdir)
    return status


if __name__ == "__main__":
    sys.exit(main())
