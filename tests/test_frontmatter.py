"""Tests for handbook_lint.frontmatter."""

from __future__ import annotations

import datetime as dt
import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handbook_lint.parsing.dates import parse_date
from handbook_lint.parsing.facts import FrontMatter
from handbook_lint.parsing.frontmatter import split_front_matter


def split(text: str) -> FrontMatter:
    return split_front_matter(text)[0]


# -- no front matter -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "\n", "# Title\n\nBody.\n", "Body with --- later\n---\n", " ---\na: 1\n---\n", "\ufeff"],
)
def test_no_front_matter(text: str) -> None:
    fm, body = split_front_matter(text)
    assert fm == FrontMatter(format=None)
    assert body == 0


# -- YAML ----------------------------------------------------------------------


def test_yaml_basic() -> None:
    text = "---\ntitle: Hello\ndate: 2024-01-02\ntags: [a, b]\n---\n# Body\n"
    fm, body = split_front_matter(text)
    assert fm.format == "yaml"
    assert fm.error is None
    assert fm.data == {"title": "Hello", "date": dt.date(2024, 1, 2), "tags": ["a", "b"]}
    assert fm.key_lines == {"title": 2, "date": 3, "tags": 4}
    assert (fm.start_line, fm.end_line) == (1, 5)
    assert text.split("\n")[body] == "# Body"


def test_yaml_key_lines_after_block_value_and_comments() -> None:
    text = (
        "---\n"  # 1
        "# a comment\n"  # 2
        "title: T\n"  # 3
        "description: |\n"  # 4
        "  first line\n"  # 5
        "  weight: not a key\n"  # 6
        "\n"  # 7
        "# another comment\n"  # 8
        "# draft: true\n"  # 9
        "weight: 5\n"  # 10
        "params:\n"  # 11
        "  nested: 1\n"  # 12
        '"quoted key": 2\n'  # 13
        "---\n"  # 14
        "body\n"
    )
    fm, body = split_front_matter(text)
    assert fm.error is None
    assert fm.data["description"] == "first line\nweight: not a key\n"
    assert fm.key_lines == {
        "title": 3,
        "description": 4,
        "weight": 10,
        "params": 11,
        "quoted key": 13,
    }
    assert fm.end_line == 14
    assert body == 14


def test_yaml_multiline_flow_and_quoted_values() -> None:
    text = '---\ntags: [a,\n  b]\ntitle: "two\n  lines"\nlast: 1\n---\n'
    fm = split(text)
    assert fm.error is None
    assert fm.key_lines == {"tags": 2, "title": 4, "last": 6}


def test_yaml_duplicate_key_line_is_the_one_kept() -> None:
    fm = split("---\na: 1\nb: 2\na: 3\n---\n")
    assert fm.data == {"a": 3, "b": 2}
    assert fm.key_lines == {"a": 4, "b": 3}


def test_yaml_merge_keys_point_at_the_merge() -> None:
    fm = split("---\nbase: &b {x: 1}\n<<: *b\ntitle: T\n---\n")
    assert fm.error is None
    assert fm.data == {"x": 1, "base": {"x": 1}, "title": "T"}
    assert fm.key_lines == {"base": 2, "x": 3, "title": 4}


def test_yaml_non_string_keys_become_strings() -> None:
    fm = split("---\n1: one\n2024-01-02: day\nnull: nothing\n---\n")
    assert fm.error is None
    assert fm.data == {"1": "one", "2024-01-02": "day", "None": "nothing"}
    assert fm.key_lines == {"1": 2, "2024-01-02": 3, "None": 4}


def test_yaml_dates_and_timestamps() -> None:
    fm = split("---\ndate: 2024-01-02\nlastmod: 2024-01-02T03:04:05Z\nbad: 2024-13-45\n---\n")
    assert fm.error is None
    assert fm.data["date"] == dt.date(2024, 1, 2)
    assert fm.data["lastmod"] == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    # Not a real date: kept as the string written, as Go's YAML does.
    assert fm.data["bad"] == "2024-13-45"


def test_yaml_empty_block() -> None:
    fm, body = split_front_matter("---\n---\nbody\n")
    assert fm == FrontMatter(format="yaml", start_line=1, end_line=2)
    assert body == 2


@pytest.mark.parametrize("inner", ["\n", "# only a comment\n", "~\n", "null\n"])
def test_yaml_block_without_mapping_content_is_empty(inner: str) -> None:
    fm = split(f"---\n{inner}---\n")
    assert fm.format == "yaml"
    assert fm.error is None
    assert fm.data == {}


def test_yaml_closing_delimiter_allows_trailing_whitespace() -> None:
    fm, body = split_front_matter("---  \na: 1\n---\t \nbody")
    assert fm.data == {"a": 1}
    assert fm.end_line == 3
    assert body == 3


def test_yaml_indented_or_longer_dashes_do_not_close() -> None:
    fm = split("---\na: |\n  ---\n----\n---\n")
    # " ---" is inside the block scalar and "----" is no delimiter, so YAML sees "----".
    assert fm.end_line == 5


def test_yaml_dots_do_not_close() -> None:
    fm = split("---\na: 1\n...\n")
    assert fm.error is not None
    assert "never closed" in fm.error


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('---\ntitle: T\ntitle2: "unclosed\ndate: 2024-01-01\n---\n', 3, "end of stream"),
        ("---\nx: 1\na: b: c\n---\n", 3, "mapping values are not allowed here"),
        ("---\na: 1\n b: 2\n---\n", 3, ""),
        ("---\na: [1, 2\nb: 3\n---\n", 3, "expected ',' or ']'"),
        ("---\na: [1, 2\n\n---\n", 2, "flow sequence"),
        ("---\na: 1\nb: @x\n---\n", 3, "cannot start any token"),
        ("---\na: *nope\n---\n", 2, "undefined alias"),
        ("---\na: !!python/name:os.system\n---\n", 2, "constructor"),
        ("---\na: 1\n---\n", 0, None),
    ],
)
def test_yaml_errors(text: str, line: int, message: str | None) -> None:
    fm, body = split_front_matter(text)
    assert fm.format == "yaml"
    if message is None:
        assert fm.error is None
        return
    assert fm.error is not None
    assert message in fm.error
    assert "\n" not in fm.error
    assert fm.error_line == line
    assert fm.data == {}
    assert fm.key_lines == {}
    # The block is still delimited: the body starts after it.
    assert body == fm.end_line


@pytest.mark.parametrize(
    ("inner", "line"),
    [("- a\n- b\n", 2), ("# c\njust a string\n", 3), ("42\n", 2), ("!!set {a}\n", 2)],
)
def test_yaml_not_a_mapping(inner: str, line: int) -> None:
    fm = split(f"---\n{inner}---\n")
    assert fm.error == "front matter is not a mapping"
    assert fm.error_line == line
    assert fm.data == {}


def test_yaml_unclosed() -> None:
    text = "---\ntitle: T\n\nBody text\n"
    fm, body = split_front_matter(text)
    assert fm.format == "yaml"
    assert fm.error == "front matter block opened on line 1 is never closed (no closing '---')"
    assert fm.error_line == 1
    assert (fm.start_line, fm.end_line) == (1, 0)
    assert fm.data == {}
    assert body == len(text.split("\n"))


def test_lone_opening_delimiter() -> None:
    fm, body = split_front_matter("---")
    assert fm.error is not None
    assert fm.error_line == 1
    assert body == 1


def test_bom() -> None:
    fm, body = split_front_matter("\ufeff---\ntitle: T\n---\nbody")
    assert fm.format == "yaml"
    assert fm.data == {"title": "T"}
    assert fm.key_lines == {"title": 2}
    assert body == 3


def test_crlf() -> None:
    text = "---\r\ntitle: T\r\ndesc: |\r\n  x\r\nweight: 2\r\n---\r\nbody\r\n"
    fm, body = split_front_matter(text)
    assert fm.error is None
    assert fm.data == {"title": "T", "desc": "x\n", "weight": 2}
    assert fm.key_lines == {"title": 2, "desc": 3, "weight": 5}
    assert fm.end_line == 6
    assert text.split("\n")[body] == "body\r"


def test_crlf_error_line() -> None:
    fm = split("---\r\nx: 1\r\na: b: c\r\n---\r\n")
    assert fm.error_line == 3


def test_unicode_line_separators_do_not_shift_lines() -> None:
    # YAML counts U+2028 as a line break; the file's lines are split on \n only.
    fm = split('---\na: "x\u2028y"\nb: 1\n---\n')
    assert fm.error is None
    assert fm.key_lines == {"a": 2, "b": 3}


def test_yaml_unacceptable_character() -> None:
    fm = split("---\na: 1\nb: x\x01\n---\n")
    assert fm.error is not None
    assert "unacceptable character" in fm.error
    assert fm.error_line == 3


# -- TOML ----------------------------------------------------------------------


def test_toml_basic_and_key_lines() -> None:
    text = (
        "+++\n"  # 1
        "title = 'T'\n"  # 2
        "# comment\n"  # 3
        "date = 2024-01-02T10:00:00Z\n"  # 4
        'description = """\n'  # 5
        "fake = 1\n"  # 6
        "[fake]\n"  # 7
        '"""\n'  # 8
        "tags = [\n"  # 9
        "  ['a'],\n"  # 10
        "]\n"  # 11
        '"quoted key" = 1\n'  # 12
        "site.name = 'x'\n"  # 13
        "[params]\n"  # 14
        "weight = 1\n"  # 15
        "[[menu.main]]\n"  # 16
        "name = 'm'\n"  # 17
        "+++\n"  # 18
        "body\n"
    )
    fm, body = split_front_matter(text)
    assert fm.format == "toml"
    assert fm.error is None
    assert fm.data["date"] == dt.datetime(2024, 1, 2, 10, 0, tzinfo=dt.UTC)
    assert fm.data["description"] == "fake = 1\n[fake]\n"
    assert fm.data["params"] == {"weight": 1}
    assert fm.key_lines == {
        "title": 2,
        "date": 4,
        "description": 5,
        "tags": 9,
        "quoted key": 12,
        "site": 13,
        "params": 14,
        "menu": 16,
    }
    assert "weight" not in fm.key_lines  # belongs to [params]
    assert (fm.start_line, fm.end_line) == (1, 18)
    assert body == 18


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("+++\ntitle = 'T'\nweight = \n+++\n", 3, "Invalid value"),
        ("+++\na = 1\na = 2\n+++\n", 3, ""),
        ("+++\n[p]\nx = 1\n[p]\n+++\n", 4, "twice"),
        ('+++\na = 1\nb = """never closed\n\n+++\n', 3, "Unterminated string"),
    ],
)
def test_toml_errors(text: str, line: int, message: str) -> None:
    fm, body = split_front_matter(text)
    assert fm.format == "toml"
    assert fm.error is not None
    assert message in fm.error
    assert "(at line" not in fm.error
    assert fm.error_line == line
    assert fm.data == {}
    assert body == fm.end_line


def test_toml_crlf() -> None:
    fm = split("+++\r\ntitle = 'T'\r\n[params]\r\nx = 1\r\n+++\r\n")
    assert fm.error is None
    assert fm.data == {"title": "T", "params": {"x": 1}}
    assert fm.key_lines == {"title": 2, "params": 3}


def test_toml_unclosed() -> None:
    fm, body = split_front_matter("+++\ntitle = 'T'\n")
    assert fm.format == "toml"
    assert fm.error == "front matter block opened on line 1 is never closed (no closing '+++')"
    assert fm.error_line == 1
    assert body == 3


# -- JSON ----------------------------------------------------------------------


def test_json_basic_and_key_lines() -> None:
    text = (
        "{\n"  # 1
        '  "title": "a } brace",\n'  # 2
        '  "params": {"title": 1, "x": {"y": 2}},\n'  # 3
        '  "esc\\"aped": "\\"}",\n'  # 4
        '  "tags": ["a",\n'  # 5
        '    "b"],\n'  # 6
        '  "draft"\n'  # 7
        "    : false\n"  # 8
        "}\n"  # 9
        "Body\n"
    )
    fm, body = split_front_matter(text)
    assert fm.format == "json"
    assert fm.error is None
    assert fm.data == {
        "title": "a } brace",
        "params": {"title": 1, "x": {"y": 2}},
        'esc"aped': '"}',
        "tags": ["a", "b"],
        "draft": False,
    }
    assert fm.key_lines == {"title": 2, "params": 3, 'esc"aped': 4, "tags": 5, "draft": 7}
    assert (fm.start_line, fm.end_line) == (1, 9)
    assert text.split("\n")[body] == "Body"


def test_json_one_line_with_leading_space() -> None:
    fm, body = split_front_matter('  {"title": "T"}\nBody\n')
    assert fm.data == {"title": "T"}
    assert fm.key_lines == {"title": 1}
    assert fm.end_line == 1
    assert body == 1


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # (a trailing comma: Python 3.13's json names the comma's line, before it
        # the closing brace's)
        ('{\n  "a": 1,\n  "b": 2,\n}\n', 4 if sys.version_info < (3, 13) else 3),
        ('{\n  "a": 1\n  "b": 2\n}\n', 3),
        ("{\n  'a': 1\n}\n", 2),
    ],
)
def test_json_errors(text: str, line: int) -> None:
    fm, body = split_front_matter(text)
    assert fm.format == "json"
    assert fm.error is not None
    assert fm.error_line == line
    assert fm.data == {}
    assert body == fm.end_line


def test_json_unclosed() -> None:
    text = '{\n  "title": "T"\n\nBody\n'
    fm, body = split_front_matter(text)
    assert fm.format == "json"
    assert fm.error == "front matter block opened on line 1 is never closed (no closing '}')"
    assert fm.error_line == 1
    assert body == len(text.split("\n"))


def test_json_bom_and_crlf() -> None:
    fm, body = split_front_matter('\ufeff{\r\n  "a": 1,\r\n  "b": 2\r\n}\r\nbody')
    assert fm.data == {"a": 1, "b": 2}
    assert fm.key_lines == {"a": 2, "b": 3}
    assert body == 4


# -- parse_date ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        dt.date(2024, 1, 2),
        dt.datetime(2024, 1, 2, 3, 4, 5),
        "2024-01-02",
        "2024-02-29",
        "2024-01-02T15:04:05Z",
        "2024-01-02T15:04:05+07:00",
        "2024-01-02T15:04:05.123456-05:00",
        "2024-01-02T15:04:05",
        "2024-01-02T15:04:05.5",
        "2024-01-02T15:04:05-0700",
        "2024-01-02 15:04:05",
        "2024-01-02 15:04:05Z",
        "2024-01-02 15:04:05+0700",
        "2024-01-02 15:04:05+07:00",
        "2024-01-02 15:04:05 -07:00",
        "2024-01-02 15:04:05 -0700",
        "2024-01-02 15:04:05.999 -0700 MST",
        "02 Jan 06 15:04 MST",
        "02 Jan 06 15:04 -0700",
        "Mon, 02 Jan 2006 15:04:05 MST",
        "Mon, 02 Jan 2006 15:04:05 -0700",
        "Monday, 02-Jan-06 15:04:05 MST",
        "Mon Jan  2 15:04:05 2006",
        "Mon Jan 2 15:04:05 MST 2006",
        "Mon Jan 02 15:04:05 -0700 2006",
        "02 Jan 2006",
        "02 jan 2006",
    ],
)
def test_parse_date_accepts(value: object) -> None:
    assert parse_date(value)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        True,
        20240102,
        1.5,
        dt.time(10, 0),
        ["2024-01-02"],
        "yesterday",
        "2024-1-2",
        "2024/01/02",
        "2023-02-29",
        "2024-04-31",
        "2024-13-01",
        "2024-00-10",
        "2024-01-02T24:00:00Z",
        "2024-01-02T10:60:00Z",
        "2024-01-02T10:00:00+7",
        "2024-01-02t10:00:00Z",
        " 2024-01-02",
        "2024-01-02 ",
        "3:04PM",
        "Jan  2 15:04:05",
        "02 Foo 2006",
    ],
)
def test_parse_date_rejects(value: object) -> None:
    assert not parse_date(value)


# -- properties ----------------------------------------------------------------


def check_invariants(text: str) -> None:
    fm, body = split_front_matter(text)
    lines = text.removeprefix("\ufeff").split("\n")
    count = len(lines)
    assert 0 <= body <= count
    if fm.format is None:
        assert body == 0
        assert fm == FrontMatter(format=None)
        return
    assert fm.start_line == 1
    assert all(isinstance(key, str) for key in fm.data)
    if fm.error is not None:
        assert fm.error
        assert "\n" not in fm.error
        assert 1 <= fm.error_line <= count
        assert fm.data == {}
    if fm.end_line:
        assert 1 <= fm.end_line <= count
        assert body == fm.end_line
        if fm.error is not None:
            assert fm.error_line <= fm.end_line
    else:
        assert fm.error is not None
        assert body == count
    for key, line in fm.key_lines.items():
        assert key in fm.data
        assert 1 <= line <= count
        assert line <= fm.end_line


_yamlish = st.text(alphabet=st.sampled_from(list("ab:- #'\"[]{}|>&*!?,\n\t\r\\.0123+=\u2028")))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_on_arbitrary_text(text: str) -> None:
    check_invariants(text)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["---\n", "+++\n", "{", "\ufeff---\r\n", "  {"]), st.text())
def test_never_raises_on_front_matter_like_text(opening: str, rest: str) -> None:
    check_invariants(opening + rest)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(["---", "+++"]),
    _yamlish,
    st.sampled_from(["\n---\n", "\n+++\n", "\n", ""]),
    st.text(max_size=20),
)
def test_never_raises_on_structured_blocks(opening: str, inner: str, close: str, body: str) -> None:
    check_invariants(f"{opening}\n{inner}{close}{body}")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('{}[]":,\\ \n\tab1'))))
def test_never_raises_on_jsonish_text(rest: str) -> None:
    check_invariants("{" + rest)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
        st.one_of(st.integers(), st.text(max_size=10), st.booleans()),
        max_size=6,
    )
)
def test_json_round_trip_key_lines(data: dict[str, object]) -> None:
    text = json.dumps(data, indent=2) + "\nbody\n"
    fm = split(text)
    assert fm.error is None
    assert fm.data == data
    lines = text.split("\n")
    for key, line in fm.key_lines.items():
        assert lines[line - 1].lstrip().startswith(json.dumps(key) + ":")
    assert set(fm.key_lines) == set(data)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1, 1, 1)))
def test_parse_date_accepts_iso_dates(day: dt.date) -> None:
    assert parse_date(day.isoformat())
    assert parse_date(f"{day.isoformat()}T12:30:00Z")
