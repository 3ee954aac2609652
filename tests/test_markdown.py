"""Page facts from one parse: headings and ids, links, includes, lists, lines."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from handbook_lint.parsing.markdown import ParseSettings, parse_page

PLAIN = ParseSettings()
SOURCE = ParseSettings(heading_text="source")


def anchors(text: str, s: ParseSettings = PLAIN) -> list[str]:
    return [h.anchor for h in parse_page(text, "p.md", s).headings]


def test_heading_ids_follow_hugo_examples() -> None:
    page = "\n".join(
        [
            "## Many   spaces  here",
            "## Trailing hyphen-",
            "## 1+2=3",
            "## Forward/slash",
            "## God is good: 神真美好",
            "## Resumé",
            "## Foo",
            "## Foo",
            "## Foo 1",
        ]
    )
    assert anchors(page) == [
        "many---spaces--here",
        "trailing-hyphen-",
        "123",
        "forwardslash",
        "god-is-good-神真美好",
        "resumé",
        "foo",
        "foo-1",
        "foo-1-1",
    ]


def test_explicit_ids_with_and_without_space() -> None:
    facts = parse_page("## Title {#custom}\n## Other{#other .cls}\n## Title\n", "p.md", PLAIN)
    assert [(h.anchor, h.explicit, h.text) for h in facts.headings] == [
        ("custom", True, "Title"),
        ("other", True, "Other"),
        ("title", False, "Title"),
    ]


def test_plain_text_versus_older_hugo_source_text() -> None:
    page = "## Example [link](https://example.com/) here\n## _emphasis_ &amp; `code`\n"
    assert anchors(page) == ["example-link-here", "emphasis--code"]
    assert anchors(page, SOURCE) == ["example-linkhttpsexamplecom-here", "_emphasis_-amp-code"]


def test_setext_heading_and_html_anchors() -> None:
    page = 'Title\n=====\n\n<a name="legacy"></a>\n<div id="box">x</div>\n'
    facts = parse_page(page, "p.md", PLAIN)
    assert [h.anchor for h in facts.headings] == ["title"]
    assert facts.html_anchors == [("legacy", 4), ("box", 5)]


def test_shortcode_in_heading_is_unstable() -> None:
    facts = parse_page('## Version {{< param "v" >}}\n', "p.md", PLAIN)
    assert facts.headings[0].unstable
    assert facts.headings[0].text == "Version {{...}}"


def test_lines_count_front_matter() -> None:
    page = "---\ntitle: T\n---\n\n## Heading\n\nSee [x](/a/#b).\n"
    facts = parse_page(page, "p.md", PLAIN)
    assert facts.headings[0].line == 5
    assert [(link.target, link.line, link.column) for link in facts.links] == [("/a/#b", 7, 9)]
    assert facts.front_matter.key_lines == {"title": 2}


def test_links_of_every_kind() -> None:
    page = "\n".join(
        [
            "Inline [a](/a/) and ref [b][r] and <https://x.example/>.",
            '<a href="/html/">h</a>',
            '[c]({{< ref "docs/page.md#sec" >}}) and {{< relref "/other" >}}',
            "![img](/images/x.png)",
            "",
            "[r]: /ref/",
        ]
    )
    facts = parse_page(page, "p.md", PLAIN)
    got = [(link.kind, link.target, link.line, link.column) for link in facts.links]
    assert ("inline", "/a/", 1, 12) in got
    assert ("reference", "/ref/", 1, 25) in got
    assert ("autolink", "https://x.example/", 1, 37) in got
    assert ("html", "/html/", 2, 1) in got
    assert ("ref", "docs/page.md#sec", 3, 5) in got
    assert ("relref", "/other", 3, 41) in got
    assert ("image", "/images/x.png", 4, 8) in got
    assert facts.ref_definitions == {"R": ("/ref/", 6)}


def test_includes_outside_code_only() -> None:
    page = "\n".join(
        [
            '{{% include "a.md" %}}',
            '`{{% include "b.md" %}}`',
            "```",
            '{{% include "c.md" %}}',
            "```",
            '{{</* include "d.md" */>}}',
            '  - item {{< include "e.md" >}}',
        ]
    )
    facts = parse_page(page, "p.md", PLAIN)
    assert [(i.target, i.line, i.column) for i in facts.includes] == [
        ("a.md", 1, 1),
        ("e.md", 7, 10),
    ]


def test_list_items() -> None:
    page = "1. a\n1. b\n   - x\n   - y\n3) c\n"
    facts = parse_page(page, "p.md", PLAIN)
    shapes = [
        (
            lst.ordered,
            lst.depth,
            [(i.line, i.marker, i.number, i.content_column) for i in lst.items],
        )
        for lst in facts.lists
    ]
    assert shapes == [
        (True, 0, [(1, "1.", 1, 3), (2, "1.", 1, 3)]),
        (False, 1, [(3, "-", None, 5), (4, "-", None, 5)]),
        (True, 0, [(5, "3)", 3, 3)]),
    ]


markdownish = st.text(
    alphabet=st.sampled_from(list("#-*_`[]()<>{}%!\"'/:.=1 \n\tabc神é>|~+\\")), max_size=400
)


@settings(max_examples=300, deadline=None)
@given(markdownish)
def test_parser_never_crashes_and_lines_lie_in_the_file(text: str) -> None:
    for prefix in ("", "---\ntitle: x\n---\n", "{{% include "):
        page = prefix + text
        facts = parse_page(page, "p.md", PLAIN)
        last = max(facts.line_count, 1)
        lines = [h.line for h in facts.headings]
        lines += [link.line for link in facts.links]
        lines += [i.line for i in facts.includes]
        lines += [item.line for lst in facts.lists for item in lst.items]
        lines += [line for _, line in facts.html_anchors]
        assert all(1 <= line <= last + 1 for line in lines), (lines, last)
        assert all(link.column >= 0 for link in facts.links)


def test_a_definition_is_found_on_its_own_line_not_a_longer_labels() -> None:
    """`[Git]:` after `[GitHub Pages]:` (hugo-docs has it): the old prefix search
    gave Git the GitHub line, and a fix removing an unused Git definition would
    have looked there."""
    text = (
        "---\ntitle: T\n---\n\nSee [GitHub Pages] and [Git].\n\n"
        "[GitHub Pages]: /pages/\n[Git]: https://git-scm.com/\n"
    )
    facts = parse_page(text, "content/p.md", ParseSettings("github", "plain"))
    lines = {label: line for label, (_, line) in facts.ref_definitions.items()}
    assert lines == {"GITHUB PAGES": 7, "GIT": 8}


def test_bracket_and_definition_scans_are_linear() -> None:
    """A MB of `[`, 50,000 definitions, 90,000 front matter keys, 100,000 links
    not found as written: each scan used to start again per bracket, label,
    key or link (minutes each); in a child capped at 60 s so a regression fails
    instead of hanging the suite."""
    code = (
        "from handbook_lint.parsing.markdown import _Brackets, _reference_lines\n"
        "text = ('[t][x] ' + '[' * 100 + '\\n') * 9000\n"
        "b = _Brackets(text)\n"
        "assert sum(b.close(i) < 0 for i, c in enumerate(text) if c == '[') == 900000\n"
        "lines = [f'[l{i}]: /p{i}' for i in range(50000)]\n"
        "refs = {f'L{i}': {'href': f'/p{i}'} for i in range(50000)}\n"
        "assert _reference_lines(refs, lines)['L49999'] == ('/p49999', 50000)\n"
        # 90,000 front matter keys (each key's line was counted from the start)
        "from handbook_lint.parsing.markdown import ParseSettings, parse_page\n"
        "s = ParseSettings('github', 'plain')\n"
        "keys = ''.join(f'k{i}: v\\n' for i in range(90000))\n"
        "fm = parse_page('---\\n' + keys + 'title: T\\n---\\n', 'c/p.md', s).front_matter\n"
        "assert fm.key_lines['title'] == 90002\n"
        # 100,000 links whose source writes the destination otherwise (&amp;)
        "links = ''.join(f'[a](/x&amp;{i})\\n' for i in range(100000))\n"
        "facts = parse_page('---\\ntitle: T\\n---\\n' + links, 'c/p.md', s)\n"
        "assert len(facts.links) == 100000\n"
        # 50,000 <a id> tags in one paragraph (each searched from its start)
        "tags = ''.join(f'<a id=\"a{i}\"></a>\\n' for i in range(50000))\n"
        "facts = parse_page('# T\\n\\n' + tags, 'c/p.md', s)\n"
        "assert facts.html_anchors[-1] == ('a49999', 50002)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_inline_html_inside_a_link_text_keeps_the_links_after_it() -> None:
    """HTML inside a link's text stands before the cursor that the link moved:
    found from its own cursor, it places its anchor and leaves the next links
    where they are."""
    body = '[<b>x</b>](/one/) <b>y</b> <a id="x"></a> [two](/two/) <a href="/h/">h</a>\n'
    facts = parse_page("# T\n\n" + body, "content/x.md", ParseSettings("github", "plain"))
    assert [(link.target, link.column, link.kind) for link in facts.links] == [
        ("/one/", 12, "inline"),
        ("/two/", 49, "inline"),
        ("/h/", 56, "html"),
    ]
    assert facts.html_anchors == [("x", 3)]


def test_a_link_far_into_a_long_paragraph_keeps_its_place() -> None:
    """40 links, then 17 KB of the same paragraph, then one more: each link's
    source is searched for as `](href` and `](<href`; the search past 16 KB
    must not run out on the second form's misses (the last link became a
    reference link, at its text's column)."""
    body = "".join(f"see [l{i}](/p{i}/) " for i in range(40)) + "\n"
    body += ("word " * 20 + "\n") * 170 + "and [last](/final/) end\n"
    facts = parse_page("# T\n\n" + body, "content/x.md", ParseSettings("github", "plain"))
    last = facts.links[-1]
    assert (last.target, last.line, last.column, last.kind) == ("/final/", 174, 12, "inline")
