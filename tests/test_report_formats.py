"""The machine-readable report formats: Code Quality, SARIF, JUnit and GitHub."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handbook_lint.checks.registry import Edit, Finding, Fix
from handbook_lint.report import FORMAT_NAMES, Report, RuleInfo, writer
from handbook_lint.report.fingerprint import fingerprints

SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
ODD_PATH = "content/日本語 page.md"
DOCS = "https://docs.example.org/rules"


def make(
    path: str = "content/a.md",
    line: int = 3,
    column: int = 5,
    rule: str = "broken-link",
    severity: str = "error",
    message: str = "link target not found",
    suggestion: str | None = None,
) -> Finding:
    return Finding(path, line, column, rule, severity, message, suggestion)


RULE_INFO = {
    "broken-link": RuleInfo("broken-link", "error", "Links resolve", f"{DOCS}#broken-link"),
    "heading-style": RuleInfo("heading-style", "warning", "Headings are consistent"),
    "long-line": RuleInfo("long-line", "info", "Lines are short", f"{DOCS}#long-line"),
}

SAMPLE = [
    make(suggestion="/docs/b/"),
    make(line=9, column=0, rule="heading-style", severity="warning", message="h1 twice"),
    make(path=ODD_PATH, line=1, column=2, rule="long-line", severity="info", message="too long"),
    make(path="content/x,y:z%.md", line=4, column=1, rule="not-described", severity="warning"),
    make(path="content/b.md", line=1, column=0, rule="file-empty", message="file is empty"),
]


def report(findings: list[Finding], rules: dict[str, RuleInfo] | None = None) -> Report:
    return Report(findings, files=7, version="1.2.3", rules=rules if rules is not None else {})


def render(fmt: str, rep: Report) -> str:
    out = io.StringIO()
    writer(fmt)(rep, out)
    return out.getvalue()


def sarif(findings: list[Finding], rules: dict[str, RuleInfo] | None = None) -> Any:
    return json.loads(render("sarif", report(findings, RULE_INFO if rules is None else rules)))


def codequality(findings: list[Finding]) -> Any:
    return json.loads(render("codequality", report(findings)))


def junit(findings: list[Finding]) -> ET.Element:
    return ET.fromstring(render("junit", report(findings)).encode("utf-8"))


def test_formats_registered() -> None:
    assert {"text", "json", "codequality", "sarif", "junit", "github"} <= set(FORMAT_NAMES)


# --- fingerprints ---------------------------------------------------------------------


def test_fingerprints_are_hex_unique_and_in_order() -> None:
    prints = fingerprints(SAMPLE)
    assert len(prints) == len(SAMPLE)
    assert all(re.fullmatch(r"[0-9a-f]{32}", p) for p in prints)
    assert len(set(prints)) == len(prints)
    assert fingerprints(SAMPLE[1:]) == prints[1:]  # one finding's print needs no others
    assert fingerprints([]) == []


def test_fingerprints_ignore_lines_and_columns() -> None:
    moved = [replace(f, line=f.line + 5, column=f.column + 1) for f in SAMPLE]
    assert fingerprints(moved) == fingerprints(SAMPLE)


def test_identical_findings_in_one_file_differ_by_occurrence() -> None:
    twice = [make(line=3), make(line=8)]
    first, second = fingerprints(twice)
    assert first != second
    # The first occurrence keeps its print when a second one appears.
    assert fingerprints([make(line=3)]) == [first]


def test_fingerprints_depend_on_rule_path_and_message() -> None:
    base = make()
    others = [
        replace(base, path="content/other.md"),
        replace(base, rule="other-rule"),
        replace(base, message="another message"),
    ]
    prints = [fingerprints([f])[0] for f in [base, *others]]
    assert len(set(prints)) == len(prints)
    # The suggestion and severity are not part of the identity.
    same = [replace(base, suggestion="x"), replace(base, severity="warning")]
    assert fingerprints(same[:1]) == fingerprints([base]) == fingerprints(same[1:])


# --- GitLab Code Quality ---------------------------------------------------------------


def test_codequality_fields() -> None:
    issues = codequality(SAMPLE)
    assert isinstance(issues, list)
    assert len(issues) == len(SAMPLE)
    for issue, f in zip(issues, SAMPLE, strict=True):
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["check_name"] == f.rule
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert re.fullmatch(r"[0-9a-f]{32}", issue["fingerprint"])
        assert issue["location"] == {"path": f.path, "lines": {"begin": f.line}}
    assert [i["severity"] for i in issues[:3]] == ["major", "minor", "info"]
    assert issues[0]["description"] == "link target not found (did you mean '/docs/b/'?)"
    assert issues[1]["description"] == "h1 twice"
    assert issues[2]["location"]["path"] == ODD_PATH
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert [i["fingerprint"] for i in issues] == fingerprints(SAMPLE)


def test_codequality_fingerprints_survive_shifted_lines() -> None:
    shifted = [replace(f, line=f.line + 5) for f in SAMPLE]
    before = [i["fingerprint"] for i in codequality(SAMPLE)]
    after = codequality(shifted)
    assert [i["fingerprint"] for i in after] == before
    assert [i["location"]["lines"]["begin"] for i in after] == [f.line + 5 for f in SAMPLE]


def test_codequality_identical_messages_and_paths() -> None:
    same_file = codequality([make(line=2), make(line=6)])
    assert same_file[0]["fingerprint"] != same_file[1]["fingerprint"]
    other_paths = codequality([make(path="content/a.md"), make(path="content/b.md")])
    assert other_paths[0]["fingerprint"] != other_paths[1]["fingerprint"]


def test_codequality_line_zero_becomes_one() -> None:
    (issue,) = codequality([make(line=0, column=0)])
    assert issue["location"]["lines"]["begin"] == 1


# --- SARIF ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize(
    "findings",
    [SAMPLE, [], [make(column=0)], [make(line=0, column=0)]],
    ids=["sample", "empty", "column-0", "line-0"],
)
def test_sarif_is_schema_valid(
    sarif_validator: jsonschema.protocols.Validator, findings: list[Finding]
) -> None:
    log = sarif(findings)
    errors = sorted(sarif_validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    # Without any rule metadata too.
    assert not list(sarif_validator.iter_errors(sarif(findings, rules={})))


def test_sarif_schema_catches_a_broken_log(
    sarif_validator: jsonschema.protocols.Validator,
) -> None:
    log = sarif(SAMPLE)
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["tool"]["driver"]["name"]
    assert len(list(sarif_validator.iter_errors(log))) >= 2


def test_sarif_log_and_driver() -> None:
    log = sarif(SAMPLE)
    assert log["version"] == "2.1.0"
    assert log["$schema"].startswith("https://")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "handbook-lint"
    assert driver["version"] == "1.2.3"
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == {f.rule for f in SAMPLE}  # only rules that have findings
    assert rules["broken-link"] == {
        "id": "broken-link",
        "name": "broken-link",
        "shortDescription": {"text": "Links resolve"},
        "helpUri": f"{DOCS}#broken-link",
        "defaultConfiguration": {"level": "error"},
    }
    assert "helpUri" not in rules["heading-style"]
    assert rules["long-line"]["defaultConfiguration"] == {"level": "note"}
    # A rule without metadata is still described, at the level it was reported.
    assert rules["not-described"] == {
        "id": "not-described",
        "name": "not-described",
        "defaultConfiguration": {"level": "warning"},
    }


def test_sarif_results() -> None:
    log = sarif(SAMPLE)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == len(SAMPLE)
    for result, f, fp in zip(results, SAMPLE, fingerprints(SAMPLE), strict=True):
        assert result["ruleId"] == f.rule
        assert rules[result["ruleIndex"]]["id"] == f.rule
        assert result["partialFingerprints"] == {"handbookLint/v1": fp}
        (location,) = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert unquote(uri) == f.path
        assert uri.isascii() and " " not in uri
    assert [r["level"] for r in results[:3]] == ["error", "warning", "note"]
    assert results[0]["message"]["text"] == "link target not found (did you mean '/docs/b/'?)"
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 5}
    # Column 0 means "no column": no startColumn.
    region = results[1]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 9}


def test_sarif_uri_encoding() -> None:
    log = sarif([make(path=ODD_PATH), make(path="content/x,y:z%.md")])
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    ]
    assert uris == [
        "content/%E6%97%A5%E6%9C%AC%E8%AA%9E%20page.md",
        "content/x%2Cy%3Az%25.md",
    ]


def test_sarif_line_zero_has_no_region() -> None:
    log = sarif([make(line=0, column=0)])
    physical = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert "region" not in physical


def test_sarif_no_findings() -> None:
    log = sarif([])
    (run,) = log["runs"]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []


# --- JUnit ----------------------------------------------------------------------------


def test_junit_counts_and_failures() -> None:
    root = junit(SAMPLE)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "handbook-lint"
    paths = list(dict.fromkeys(f.path for f in SAMPLE))
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == paths
    assert all(c.get("classname") == "handbook-lint" for c in cases)
    assert suite.get("tests") == str(len(paths))
    assert suite.get("failures") == str(len(paths))
    assert suite.get("errors") == "0"
    first = cases[0].findall("failure")
    assert len(first) == 2
    assert first[0].get("type") == "broken-link"
    assert first[0].get("message") == "link target not found (did you mean '/docs/b/'?)"
    assert first[0].text == (
        "content/a.md:3:5: error broken-link link target not found (did you mean '/docs/b/'?)"
    )
    # Column 0: no column in the location.
    assert first[1].text == "content/a.md:9: warning heading-style h1 twice"
    (odd,) = cases[1].findall("failure")
    assert odd.text == f"{ODD_PATH}:1:2: info long-line too long"


def test_junit_escapes_and_strips_control_characters() -> None:
    message = 'a <b> & "c" \x07bell\x1b[0m \ufffe end'
    text = render("junit", report([make(message=message, path="content/<&>.md")]))
    assert "\x07" not in text and "\x1b" not in text
    root = ET.fromstring(text.encode("utf-8"))
    (failure,) = root.iter("failure")
    assert failure.get("message") == 'a <b> & "c" bell[0m  end'
    assert failure.text is not None
    assert failure.text.endswith('a <b> & "c" bell[0m  end')
    (case,) = root.iter("testcase")
    assert case.get("name") == "content/<&>.md"


def test_junit_no_findings_has_one_passing_case() -> None:
    root = junit([])
    (suite,) = root.findall("testsuite")
    (case,) = suite.findall("testcase")
    assert case.get("name") == "handbook-lint"
    assert list(case) == []
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "0", "0")


# --- GitHub Actions -------------------------------------------------------------------


def test_github_annotations() -> None:
    lines = render("github", report(SAMPLE)).splitlines()
    assert lines == [
        "::error file=content/a.md,line=3,col=5,title=broken-link::"
        "link target not found (did you mean '/docs/b/'?)",
        "::warning file=content/a.md,line=9,title=heading-style::h1 twice",
        f"::notice file={ODD_PATH},line=1,col=2,title=long-line::too long",
        "::warning file=content/x%2Cy%3Az%25.md,line=4,col=1,title=not-described::"
        "link target not found",
        "::error file=content/b.md,line=1,title=file-empty::file is empty",
    ]


def test_github_escapes_message() -> None:
    text = render("github", report([make(message="50% done:\r\nnext, line", line=0, column=0)]))
    assert text == "::error file=content/a.md,title=broken-link::50%25 done:%0D%0Anext, line\n"


# --- every format -----------------------------------------------------------------------


NEW_FORMATS = ["codequality", "sarif", "junit", "github"]


@pytest.mark.parametrize("fmt", NEW_FORMATS)
def test_every_format_handles_no_findings(fmt: str) -> None:
    text = render(fmt, report([]))
    if fmt == "github":
        assert text == ""
    elif fmt == "junit":
        ET.fromstring(text.encode("utf-8"))
    else:
        json.loads(text)


@pytest.mark.parametrize("fmt", NEW_FORMATS)
def test_every_format_handles_column_zero_and_odd_paths(fmt: str) -> None:
    findings = [make(path=ODD_PATH, column=0), make(path="content/with space.md", column=0)]
    text = render(fmt, report(findings, RULE_INFO))
    if fmt == "junit":
        root = ET.fromstring(text.encode("utf-8"))
        names = [c.get("name") for c in root.iter("testcase")]
        assert names == [ODD_PATH, "content/with space.md"]
        assert all(
            ":3:" in (f.text or "") and ":3:0" not in (f.text or "") for f in root.iter("failure")
        )
    elif fmt == "github":
        assert "col=" not in text
        assert f"file={ODD_PATH}," in text
    elif fmt == "codequality":
        assert [i["location"]["path"] for i in json.loads(text)] == [f.path for f in findings]
    else:
        results = json.loads(text)["runs"][0]["results"]
        for result in results:
            region = result["locations"][0]["physicalLocation"]["region"]
            assert region == {"startLine": 3}


@pytest.mark.parametrize("fmt", NEW_FORMATS)
def test_every_format_writes_utf8_encodable_text(fmt: str) -> None:
    text = render(fmt, report(SAMPLE, RULE_INFO))
    text.encode("utf-8")
    assert text.endswith("\n")


def _json_payload(rep: Report) -> dict[str, Any]:
    """What the JSON report holds, by the contract, as plain data."""
    from handbook_lint.report import json_report

    return {
        "tool": "handbook-lint",
        "version": rep.version,
        "findings": [
            {
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "rule": f.rule,
                "severity": f.severity,
                "message": f.text,
                "suggestion": f.suggestion,
                "fix": None
                if f.fix is None
                else {
                    "safe": f.fix.safe,
                    "edits": [
                        {
                            "line": e.line,
                            "column": e.column,
                            "old": e.old,
                            "new": e.new,
                            "whole_line": e.whole_line,
                        }
                        for e in f.fix.edits
                    ],
                },
            }
            for f in rep.findings
        ],
        "summary": json_report._summary(rep),
    }


def test_json_is_written_as_the_json_module_indents_it() -> None:
    """The JSON report is written by hand for speed: it must stay, byte for
    byte, json.dumps(indent=2) of the payload the contract describes (strings
    of any kind, fixes, missing suggestions, an empty run, summary keys)."""

    fix = Fix((Edit(2, 0, 'say "x"\t\u2028', "</script> \\ é", whole_line=True),), safe=False)
    two = Fix((Edit(1, 3, "", "a"), Edit(4, 0, "b", "")))
    findings = [
        *SAMPLE,
        replace(make(message='quote " backslash \\ tab \t nul \x00 emoji 🎉'), fix=fix),
        replace(make(), detail="in a.md", fix=two),
        replace(make(), fix=Fix(())),
        make(path="content/\ud800.md", suggestion="見出し"),
    ]
    compared = Report(findings, 7, "1.2.3", compared_with="origin/main", new=2, unverified=3)
    for rep in (report(findings), report([]), replace(compared, in_baseline=1)):
        expected = json.dumps(_json_payload(rep), ensure_ascii=False, indent=2) + "\n"
        assert render("json", rep) == expected


# (any code point, lone surrogates too: a path from a non-UTF-8 name holds one)
_TEXTS = st.text(st.characters(exclude_categories=()), max_size=12) | st.sampled_from(
    ["", '"', "\\", "\u2028", "\ud800", "</script>"]
)
# (what an int annotation admits: any int, and a bool, which json writes as one)
_INTS = st.integers() | st.booleans()
_EDITS = st.builds(Edit, _INTS, _INTS, _TEXTS, _TEXTS, st.booleans())
_FINDINGS = st.builds(
    Finding,
    _TEXTS,
    _INTS,
    _INTS,
    _TEXTS,
    st.sampled_from(["error", "warning", "info"]),
    _TEXTS,
    st.none() | _TEXTS,
    st.none() | _TEXTS,
    st.none() | _TEXTS,
    st.none() | st.builds(Fix, st.lists(_EDITS, max_size=3).map(tuple), st.booleans()),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_FINDINGS, max_size=4))
def test_json_of_any_findings_is_what_the_json_module_writes(findings: list[Finding]) -> None:
    rep = report(findings)
    expected = json.dumps(_json_payload(rep), ensure_ascii=False, indent=2) + "\n"
    assert render("json", rep) == expected
