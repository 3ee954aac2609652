"""Proof that the parse shortcuts change no fact, over whole corpora.

    python bench/facts_equal.py                    # both corpora from ../shared/corpora
    python bench/facts_equal.py --corpus PATH      # an unpacked Hugo site

Every Markdown file of each site is parsed twice, with the shortcuts of
parsing/mdit.py and with markdown-it-py as it comes (`parse_page(full=True)`),
under the parse settings each preset makes for the site (as the linter builds
them from the config), each also with prose spelling on. The encoded facts
must be equal byte for byte. It prints the pages compared, the pages that
differ (exit 1 if any) and the CPU of each parse. tests/test_fast_parse.py is
the small version that CI runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import CORPORA, unpack  # noqa: E402
from handbook_lint.cache import codec  # noqa: E402
from handbook_lint.checks.selection import active_rules  # noqa: E402
from handbook_lint.config.settings import load_config_text, preset_names  # noqa: E402
from handbook_lint.engine.linter import Linter  # noqa: E402
from handbook_lint.parsing.markdown import ParseSettings, parse_page, read_page  # noqa: E402


def settings_of(root: Path, preset: str | None) -> ParseSettings:
    """The parse settings the linter builds for `root` with `extends: preset`."""
    text = f"extends: {preset}\n" if preset else None
    config = load_config_text(text, root)
    linter = Linter(config, active_rules(config), jobs=1, use_cache=False)
    return linter.store.settings


def pages_of(root: Path) -> list[str]:
    """Every Markdown file of the site outside its cache folder, relative to it."""
    found = root.rglob("*.md")
    return sorted(str(p.relative_to(root)) for p in found if ".handbook-lint-cache" not in p.parts)


def compare(job: tuple[str, list[str], ParseSettings]) -> tuple[list[str], float, float]:
    root, paths, parse = job
    differ, fast_cpu, full_cpu = [], 0.0, 0.0
    for path in paths:
        text, _ = read_page(Path(root) / path)  # (as the linter reads it: no BOM)
        if text is None:
            continue
        start = time.process_time()
        fast = codec.encode(parse_page(text, path, parse))
        middle = time.process_time()
        full = codec.encode(parse_page(text, path, parse, full=True))
        fast_cpu += middle - start
        full_cpu += time.process_time() - middle
        if fast != full:
            differ.append(path)
    return differ, fast_cpu, full_cpu


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, action="append", help="an unpacked site")
    parser.add_argument("--workdir", type=Path, help="where to unpack (default: a temp dir)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if args.corpus:
        sites = list(args.corpus)
    else:
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="handbook-lint-facts-"))
        sites = [unpack(name, workdir) for name in sorted(CORPORA)]
    status = 0
    with ProcessPoolExecutor(args.jobs) as pool:
        for root in sites:
            paths = pages_of(root)
            variants: dict[ParseSettings, str] = {}
            for preset in [None, *preset_names()]:
                base = settings_of(root, preset)
                for prose in (False, True):
                    variants.setdefault(
                        dataclasses.replace(base, prose=prose),
                        f"{preset or 'defaults'}{', prose' if prose else ''}",
                    )
            for parse, label in variants.items():
                chunks = [paths[i :: args.jobs * 4] for i in range(args.jobs * 4)]
                results = list(pool.map(compare, [(str(root), c, parse) for c in chunks]))
                differ = sorted(p for d, _, _ in results for p in d)
                fast = sum(r[1] for r in results)
                full = sum(r[2] for r in results)
                print(
                    f"{root.name} [{label}]: {len(paths)} pages, {len(differ)} differ; "
                    f"CPU fast {fast:.1f} s, full {full:.1f} s ({fast / full:.2f}x)",
                    flush=True,
                )
                for path in differ[:10]:
                    print(f"  differs: {path}")
                status = max(status, 1 if differ else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
