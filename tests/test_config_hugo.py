"""Reading the site's own Hugo configuration: which files, in which order, what
the linter takes from them, precedence against presets and the linter's config,
sites found by their Hugo config, and what becomes of links the linter cannot
verify (into mounts this checkout lacks, into other languages)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import lint, write_site
from test_cli import invoke

from handbook_lint.config.globs import matches
from handbook_lint.config.hugo import HugoConfigError, config_files, is_site_root, load
from handbook_lint.config.settings import load_config
from handbook_lint.site.model import matches_any

PAGE = "---\ntitle: {title}\n---\n\n{body}\n"


def page(body: str = "Text.", title: str = "T") -> str:
    return PAGE.format(title=title, body=body)


def rules_of(out: str) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["rule"]) for f in json.loads(out)["findings"]]


# -- finding and merging the files -----------------------------------------------


def test_files_in_hugos_order(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "hugo.toml": 'baseURL = "https://a.example/"\n',
            "config.toml": 'baseURL = "https://ignored.example/"\n',  # hugo.* wins
            "config/_default/params.yaml": "x: 1\n",
            "config/_default/hugo.yaml": "title: T\n",
            "config/production/hugo.yaml": "baseURL: https://prod.example/\n",
        },
    )
    names = [p.relative_to(tmp_path).as_posix() for p in config_files(tmp_path)]
    assert names == ["hugo.toml", "config/_default/hugo.yaml", "config/_default/params.yaml"]
    production = config_files(tmp_path, "production")
    assert production[-1].relative_to(tmp_path).as_posix() == "config/production/hugo.yaml"
    assert load(tmp_path, "production").get("baseurl") == "https://prod.example/"  # type: ignore[union-attr]
    assert load(tmp_path).get("baseurl") == "https://a.example/"  # type: ignore[union-attr]


def test_keys_are_case_insensitive_and_key_files_nest(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "config/_default/hugo.toml": "ContentDir = 'docs'\n",
            "config/_default/markup.toml": "[goldmark.parser]\nautoHeadingIDType = 'blackfriday'\n",
        },
    )
    found = load(tmp_path)
    assert found is not None
    assert found.get("contentdir") == "docs"
    assert found.get("markup", "goldmark", "parser", "autoheadingidtype") == "blackfriday"
    assert found.origins["markup"] == "config/_default/markup.toml"


@pytest.mark.parametrize(
    ("name", "text"),
    [("hugo.toml", "baseURL = \n"), ("hugo.yaml", "a: [\n"), ("hugo.json", "{nope}")],
)
def test_a_broken_hugo_config_is_a_config_error_naming_the_file(
    tmp_path: Path, name: str, text: str
) -> None:
    write_site(tmp_path, {name: text, "content/a.md": page()})
    with pytest.raises(HugoConfigError, match=name):
        load(tmp_path)
    code, out, err = invoke(tmp_path, "check")
    assert code == 2
    assert f"config error: {name}: the Hugo config does not parse" in err
    assert "Traceback" not in err + out


def test_a_lone_config_yaml_is_not_a_hugo_site(tmp_path: Path) -> None:
    (tmp_path / "tool").mkdir()
    (tmp_path / "tool" / "config.yaml").write_text("a: 1\n")
    assert not is_site_root(tmp_path / "tool")
    (tmp_path / "tool" / "content").mkdir()
    assert is_site_root(tmp_path / "tool")  # beside a content folder, it is Hugo's


# -- what the linter takes from it --------------------------------------------


def test_settings_taken_from_the_hugo_config(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "hugo.yaml": (
                "baseURL: https://docs.example/\n"
                "defaultContentLanguage: en\n"
                "staticDir: [static, data]\n"
                "assetDir: src/assets\n"
                "taxonomies: {tag: tags}\n"
                "disablePathToLower: true\n"
                "buildFuture: true\n"
                "cascade: [{build: {render: never}, target: {path: '/drafts/**'}}]\n"
                "markup:\n"
                "  goldmark:\n"
                "    parser: {autoHeadingIDType: github-ascii, autoDefinitionTermID: true}\n"
                "    renderer: {unsafe: true}\n"
                "    extensions: {typographer: {disable: true}, linkify: false}\n"
                "    renderHooks: {link: {useEmbedded: always}}\n"
                "module:\n"
                "  mounts:\n"
                "    - {source: content/en, target: content}\n"
                "    - {source: api-docs, target: content/api, files: ['! **/README.md']}\n"
                "    - {source: content/de, target: content, lang: de}\n"
            ),
        },
    )
    config = load_config(None, cwd=tmp_path)
    assert config.base_url == "https://docs.example"
    assert config.content_dir == "content/en"
    assert [(m.source, m.target, m.files) for m in config.content_mounts] == [
        ("api-docs", "api", ("! **/README.md",))
    ]  # the German mount is not for the default language
    assert config.static_dirs == ["static", "data"]
    assert config.assets_dir == "src/assets"
    assert config.taxonomies == ["tags"]
    assert config.disable_path_to_lower is True
    assert config.build_flags == (False, True, False)
    assert config.cascade == [{"build": {"render": "never"}, "target": {"path": "/drafts/**"}}]
    assert config.heading_ids == "github-ascii"
    assert config.definition_term_ids is True
    assert (config.raw_html, config.typographer, config.linkify) == (True, False, False)
    assert (config.link_render_hook, config.embedded_link_hook) == (True, True)
    assert config.include_roots == ["src/assets", "content/en"]
    assert config.hugo_files == ["hugo.yaml"]


def test_defaults_hugo_applies_when_its_config_is_silent(tmp_path: Path) -> None:
    write_site(tmp_path, {"hugo.toml": "title = 'T'\n"})
    config = load_config(None, cwd=tmp_path)
    assert config.raw_html is False  # Hugo drops raw HTML unless renderer.unsafe
    assert (config.link_render_hook, config.embedded_link_hook) == (False, False)
    assert config.content_dir == "content"


@pytest.mark.parametrize(
    ("files", "hook", "embedded"),
    [
        ({"layouts/_markup/render-link.html": "x"}, True, False),
        ({"layouts/_default/_markup/render-link.html": "x"}, True, False),
        ({"themes/docsy/layouts/_markup/render-link.html": "x"}, True, False),
        ({}, True, True),  # two languages on one host: Hugo's `auto` is the embedded hook
    ],
)
def test_link_render_hooks(
    tmp_path: Path, files: dict[str, str], hook: bool, embedded: bool
) -> None:
    theme = "theme = 'docsy'\n" if any("themes/" in f for f in files) else ""
    languages = "" if files else "[languages.en]\nweight = 1\n[languages.fr]\nweight = 2\n"
    write_site(tmp_path, {"hugo.toml": theme + languages, **files})
    config = load_config(None, cwd=tmp_path)
    assert (config.link_render_hook, config.embedded_link_hook) == (hook, embedded)


def test_precedence_preset_then_hugo_then_the_linters_config(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "hugo.toml": "baseURL = 'https://hugo.example/'\ncontentDir = 'site-content'\n",
            ".handbook-lint.yaml": "extends: gitlab-handbook\ncontent_dir: pages\n",
        },
    )
    config = load_config(tmp_path / ".handbook-lint.yaml")
    assert config.base_url == "https://hugo.example"  # Hugo's over the preset's
    assert config.content_dir == "pages"  # the linter's file over Hugo's
    assert config.origins["base_url"] == "Hugo config hugo.toml"
    assert config.origins["content_dir"] == ".handbook-lint.yaml:2"
    assert config.origins["hugo.heading_ids"] == "preset gitlab-handbook"
    code, out, _ = invoke(tmp_path, "config")
    assert code == 0
    assert re.search(r"^# +base_url +Hugo config hugo.toml$", out, re.M), out


def test_hugo_config_false_ignores_it(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {"hugo.toml": "contentDir = 'docs'\n", ".handbook-lint.yaml": "hugo_config: false\n"},
    )
    config = load_config(tmp_path / ".handbook-lint.yaml")
    assert config.content_dir == "content"
    assert config.hugo_files == []


def test_urls_hugo_does_not_follow_are_named(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {"hugo.toml": "[permalinks]\n  posts = '/:year/:slug/'\n", "content/a.md": page()},
    )
    code, _, err = invoke(tmp_path, "check")
    assert code == 0
    assert "sets permalinks, which the linter does not follow" in err


# -- sites found by their Hugo config ------------------------------------------


def test_a_site_is_found_by_its_hugo_config_from_anywhere_below_or_above(
    tmp_path: Path,
) -> None:
    write_site(
        tmp_path,
        {
            "site/hugo.yaml": "contentDir: content/en\n",
            "site/content/en/a.md": page("[b](/nope/)"),
            "site/themes/t/hugo.toml": "",  # a theme is not a site
            "site/themes/t/content/x.md": page("[x](/x-nope/)"),
            "README.md": "# not the site's\n",
        },
    )
    expected = [("site/content/en/a.md", 5, "link-broken")]
    code, out, err = invoke(tmp_path, "check", "--format", "json")
    assert (code, rules_of(out)) == (1, expected), err
    assert "linting the site as its Hugo config says (hugo.yaml)" in err
    code, out, _ = invoke(tmp_path / "site" / "content" / "en", "check", "--format", "json")
    assert code == 1
    assert [(path, line) for path, line, _ in rules_of(out)] == [("a.md", 5)]


# -- languages -----------------------------------------------------------------

MULTILINGUAL = {
    "hugo.yaml": (
        "defaultContentLanguage: en\n"
        "languages: {en: {weight: 1}, de: {weight: 2}}\n"
        "markup: {goldmark: {renderer: {unsafe: true}}}\n"
        "module:\n"
        "  mounts:\n"
        "    - {source: content/en, target: content, sites: {matrix: {languages: [en]}}}\n"
        "    - {source: content/de, target: content, sites: {matrix: {languages: [de]}}}\n"
    ),
    "content/en/a.md": page("[de](/de/a/) [gone](/gone/) [en home](/en/)"),
    # Markdown links go through Hugo's embedded hook (two languages, one host),
    # which finds the page in the same language; raw HTML goes where it says.
    "content/de/a.md": page('[de](/a/) <a href="/a/">en</a> [here](/de/a/) [gone](/de/gone/)'),
}


def test_one_language_at_a_time(tmp_path: Path) -> None:
    write_site(tmp_path, MULTILINGUAL)
    _, out, err = invoke(tmp_path, "check", "--format", "json")
    assert rules_of(out) == [("content/en/a.md", 5, "link-broken")]  # /gone/ only
    assert json.loads(out)["summary"]["unverified"] == 1  # /de/a/
    assert "1 link was not verified: 1 into other languages' pages (see --lang)" in err
    _, out, err = invoke(tmp_path, "check", "--lang", "de", "--format", "json")
    assert rules_of(out) == [("content/de/a.md", 5, "link-broken")]  # /de/gone/
    assert json.loads(out)["summary"]["unverified"] == 1  # the raw /a/: the English site's
    code, _, err = invoke(tmp_path, "check", "--lang", "fr")
    assert code == 2
    assert "no language 'fr' in the Hugo config (languages: de, en)" in err


# -- mounts --------------------------------------------------------------------


def test_links_into_a_missing_mount_are_counted_not_reported(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "hugo.toml": (
                "[[module.mounts]]\n  source = 'content'\n  target = 'content'\n"
                "[[module.mounts]]\n  source = 'vendor/spec'\n  target = 'content/spec'\n"
                "[[module.mounts]]\n  source = 'gen/news.md'\n  target = 'content/news.md'\n"
            ),
            "content/a.md": page(
                '[spec](/spec/overview/) [ref]({{< ref "spec/x.md" >}}) [news](/news/#latest) '
                "[gone](/gone/) [md](spec/y.md)"
            ),
        },
    )
    _code, out, err = invoke(tmp_path, "check", "--format", "json")
    # (no theme and no link render hook: the .md link stays as written, /a/spec/y.md)
    assert rules_of(out) == [("content/a.md", 5, "link-broken")] * 2
    assert json.loads(out)["summary"]["unverified"] == 3
    assert (
        "3 links were not verified: 3 into content the Hugo config mounts from vendor/spec, "
        "gen/news.md, missing in this checkout" in err
    )
    (tmp_path / ".handbook-lint.yaml").write_text("rules:\n  link-unverifiable: warning\n")
    _, out, err = invoke(tmp_path, "check", "--format", "json")
    found = json.loads(out)["findings"]
    assert [f["rule"] for f in found] == ["link-unverifiable"] * 3 + ["link-broken"] * 2
    assert found[0]["message"] == (
        "link to '/spec/overview/' cannot be verified: Hugo mounts /spec from vendor/spec, "
        "which this checkout does not have"
    )
    assert "not verified" not in err
    # Checked out, the mount is content like any other: its pages are linted.
    write_site(tmp_path, {"vendor/spec/overview.md": page(), "gen/news.md": page("## Latest")})
    _, out, _ = invoke(tmp_path, "check", "--format", "json")
    assert [(f["rule"], f["message"]) for f in json.loads(out)["findings"]] == [
        ("link-broken", "link to 'spec/x.md': no such page or file"),
        ("link-broken", "link to '/gone/': no such page or file"),
        ("link-broken", "link to 'spec/y.md': no URL at /a/spec/y.md"),
    ]


def test_a_blanket_suppression_is_still_unused_beside_an_optional_rule(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {"content/a.md": page("<!-- handbook-lint-disable-next-line -->\nNothing here.")},
        {},
    )
    assert [f.rule for f in lint(tmp_path).findings] == ["suppression-unused"]


# -- front matter as Hugo reads it ---------------------------------------------


def test_hugo_casts_front_matter(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "content/a.md": "---\ntitle: 2019\ndraft: 'true'\n---\n",
            "content/b.md": "---\ntitle: B\naliases: /old-b/ /older-b/\n---\n",
            "content/c/d.md": "---\ntitle: D\naliases: [e, ../f]\n---\n",
            "content/index.md": page("[a](/a/) [b](/old-b/) [b](/older-b/) [e](/c/e/) [f](/f/)"),
        },
        {},
    )
    found = [(f.path, f.rule, f.message) for f in lint(tmp_path).findings]
    # `draft: 'true'` is a draft to Hugo (its string is true), so /a/ is not built;
    # one alias string holds two; relative aliases hang off the page's parent.
    assert found == [
        (
            "content/index.md",
            "link-broken",
            "link to '/a/': no page at /a/ (not rendered: draft: 'true' (Hugo builds no drafts))",
        )
    ] or [m for _, _, m in found] == ["link to '/a/': no such page or file"]


# -- includes looked up through the page's folders -------------------------------


def test_include_folders_are_searched_from_the_page_up(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "hugo.yaml": (
                "contentDir: content/en\n"
                "cascade: [{build: {render: never}, target: {path: '{,/**}/_includes{,/**}'}}]\n"
            ),
            "content/en/_includes/note.md": "A note.\n",
            "content/en/docs/_includes/intro.md": "## Collector setup\n",
            "content/en/docs/lang/cpp.md": page(
                '{{% include "intro.md" %}}\n{{% include "note.md" %}}\n'
                '{{% include "elsewhere.md" %}}\n\nSee [setup](#collector-setup).'
            ),
        },
        {"includes": {"folders": ["_includes"]}},
    )
    found = [(f.rule, f.message.split(" (", 1)[0]) for f in lint(tmp_path).findings]
    assert found == [("include-missing", "included file 'elsewhere.md' not found")]
    # Without the setting, the same includes are missing.
    (tmp_path / ".handbook-lint.yaml").write_text("{}\n")
    missing = [f for f in lint(tmp_path).findings if f.rule == "include-missing"]
    assert len(missing) == 3
    # ... with a hint where the two that exist are.
    assert [f.detail for f in missing] == [
        "it is in content/en/docs/_includes/: if the site's include shortcode looks there, "
        "set includes.folders: [_includes]",
        "it is in content/en/_includes/: if the site's include shortcode looks there, "
        "set includes.folders: [_includes]",
        None,
    ]


# -- what the review found: Hugo's semantics in the corners --------------------


def test_hugo_globs() -> None:
    assert matches("/docs/a/b.md", "/docs/**")
    assert not matches("/docs", "/docs/**")
    assert matches("/docs/a.md", "/docs/*.md") and not matches("/docs/a/b.md", "/docs/*.md")
    assert matches("/x/_includes/y", "{,/**}/_includes{,/**}")
    assert matches("/_includes", "{,/**}/_includes{,/**}")
    assert matches("/Drafts/A", "/drafts/**")  # both lowercased
    assert matches("/a1.md", "/a[0-9].md") and not matches("/ab.md", "/a[!b].md")
    assert matches("/a.md", "/**.md") and matches("/a/b.md", "/**.md")


def test_yaml_is_read_as_hugo_reads_it(tmp_path: Path) -> None:
    # `no` is Norwegian, not false; `yes` a string.
    write_site(
        tmp_path,
        {"hugo.yaml": "languages: {en: {weight: 1}, no: {weight: 2}}\nparams: {x: yes}\n"},
    )
    config = load_config(None, cwd=tmp_path)
    assert config.languages == ["en", "no"]
    assert load_config(None, cwd=tmp_path, given={"language": "no"}).language_prefix == "/no"


def test_the_default_language_is_the_first_by_weight_without_en(tmp_path: Path) -> None:
    write_site(tmp_path, {"hugo.toml": "[languages.de]\nweight = 2\n[languages.fr]\nweight = 1\n"})
    config = load_config(None, cwd=tmp_path)
    assert (config.language, config.language_prefix, config.languages) == ("fr", "", ["de", "fr"])


def test_declared_content_mounts_replace_the_content_dir(tmp_path: Path) -> None:
    # Hugo drops its default `content` mount once the site declares content mounts.
    write_site(
        tmp_path,
        {
            "hugo.yaml": "module: {mounts: [{source: docs, target: content/docs}]}\n",
            "content/a.md": page("[b](/docs/b/) [a](/a/)"),
            "docs/b.md": page("[a](/a/)"),
        },
    )
    found = [(f.path, f.message) for f in lint(tmp_path).findings]
    assert found == [("docs/b.md", "link to '/a/': no such page or file")]


def test_static_mounted_below_the_root(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "hugo.yaml": (
                "module:\n  mounts:\n    - {source: content, target: content}\n"
                "    - {source: pics, target: static/img}\n"
            ),
            "pics/logo.png": "x",
            "content/a.md": page("![logo](/img/logo.png) [gone](/img/gone.png)"),
        },
    )
    assert [f.message for f in lint(tmp_path).findings] == [
        "link to '/img/gone.png': no such page or file"
    ]


def test_a_sections_own_cascade_overrides_the_site_configs(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "hugo.yaml": "cascade: [{build: {render: never}, target: {path: '/docs/**'}}]\n",
            "content/docs/hidden.md": page(),
            "content/docs/keep/_index.md": (
                "---\ntitle: K\ncascade: {build: {render: always}}\n---\n"
            ),
            "content/docs/keep/a.md": page(),
            "content/index.md": page("[a](/docs/keep/a/) [h](/docs/hidden/)"),
        },
        {},
    )
    assert [f.message for f in lint(tmp_path).findings if f.rule == "link-broken"] == [
        "link to '/docs/hidden/': no such page or file"
    ]


def test_hugo_environment_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_site(
        tmp_path,
        {
            "hugo.toml": "contentDir = 'content'\n",
            "config/staging/hugo.toml": "contentDir = 'stage'\n",
        },
    )
    assert load_config(None, cwd=tmp_path).content_dir == "content"
    monkeypatch.setenv("HUGO_ENVIRONMENT", "staging")
    assert load_config(None, cwd=tmp_path).content_dir == "stage"


def test_another_tools_config_yaml_is_not_hugos(tmp_path: Path) -> None:
    write_site(tmp_path, {"config.yaml": "- a list, not Hugo's\n", "content/a.md": page()}, {})
    assert lint(tmp_path).findings == []


@pytest.mark.parametrize(
    "text",
    [
        "module: {mounts: [{source: content, target: content, files: 5}]}",
        "module: {mounts: 5}",
        "module: [1]",
        "theme: 5",
        "{theme: a, themesDir: 5}",
        "markup: {goldmark: {parser: 5}}",
        "markup: {goldmark: {renderer: [1]}}",
        "markup: {goldmark: {extensions: x, renderHooks: 3}}",
        "languages: [en, fr]",
        "languages: {en: 1, fr: [2]}",
        "cascade: 7",
        "cascade: [1, {target: 3}]",
        "staticDir: 5",
        "buildDrafts: 'false'",
    ],
)
def test_odd_hugo_configs_never_crash(tmp_path: Path, text: str) -> None:
    write_site(tmp_path, {"hugo.yaml": text + "\n", "content/a.md": page()})
    code, out, err = invoke(tmp_path, "check")
    assert code in (0, 2), out + err
    assert "Traceback" not in out + err


def test_the_readmes_config_example_loads(tmp_path: Path) -> None:
    text = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    example = text[text.index("## Configure") :].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / ".handbook-lint.yaml").write_text(example, "utf-8")
    config = load_config(tmp_path / ".handbook-lint.yaml")
    assert config.static_mounts == [("pics", "img")]
    assert config.include_folders == ["_includes"]


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("content/archive/**", "content/archive/a/b.md", True),
        ("content/**/draft-*.md", "content/draft-1.md", True),  # **/ may be no folder
        ("content/{legal,hr}/**", "content/hr/x.md", True),
        ("content/{legal,hr}/**", "content/eng/x.md", False),
        ("content/[ab].md", "content/b.md", True),
        ("content/[!ab].md", "content/b.md", False),
        ("/handbook/team/", "/handbook/team/", True),  # a URL glob of one page
        ("**/performance-indicators/**", "/handbook/x/performance-indicators/y/", True),
        ("content/A.md", "content/a.md", False),  # the linter's globs are case-sensitive
    ],
)
def test_the_linters_own_globs(pattern: str, path: str, expected: bool) -> None:
    assert matches_any(path, [pattern]) is expected


def test_a_folder_in_exclude_or_overrides_is_everything_below_it(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "content/archive/old/a.md": "# no front matter\n",
            "content/legal/b.md": "# no front matter\n",
            "content/archived.md": "# no front matter\n",
        },
        {
            "exclude": ["content/archive/"],
            "overrides": [{"files": ["content/legal/"], "rules": {"front-matter-missing": "off"}}],
        },
    )
    assert [f.path for f in lint(tmp_path).findings] == ["content/archived.md"]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            "link-broken: {ignore: ['(']}",
            "rules.link-broken.ignore: invalid regular expression '('",
        ),
        ("link-broken: {ignore: [1]}", "rules.link-broken.ignore: must be a list of strings"),
        ("link-anchor-missing: {skip_pages: [1]}", "rules.link-anchor-missing.skip_pages: must"),
        ("spelling: {words: [1]}", "rules.spelling.words: must be a list of strings"),
        (
            "required-sections: {page_types: {a: {paths: [x], ordered: 'false'}}}",
            "rules.required-sections.page_types.a.ordered: must be true or false",
        ),
    ],
)
def test_bad_rule_options_are_config_errors(tmp_path: Path, rules: str, message: str) -> None:
    write_site(tmp_path, {"content/a.md": page()})
    (tmp_path / ".handbook-lint.yaml").write_text(f"rules:\n  {rules}\n")
    code, out, err = invoke(tmp_path, "check")
    assert code == 2, out + err
    assert message in err
    assert "Traceback" not in out + err
