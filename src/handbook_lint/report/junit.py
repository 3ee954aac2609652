"""`--format junit`: JUnit XML, one test case per file with findings.

The report knows only the findings and how many files were checked, so files
without findings get no test case; with no findings at all a single passing
test case keeps the suite from being empty.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TextIO

from handbook_lint.checks.registry import Finding
from handbook_lint.report.model import Report, full_message, location

NAME = "handbook-lint"

# Control characters, lone surrogates and U+FFFE/U+FFFF: most are not allowed in XML 1.0
# at all (ElementTree escapes <&>" but passes these through), DEL and C1 are discouraged.
_INVALID_XML = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """`text` without the characters that would make the XML ill-formed."""
    return _INVALID_XML.sub("", text)


def write(report: Report, out: TextIO) -> None:
    by_path: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_path.setdefault(f.path, []).append(f)

    tests = max(len(by_path), 1)
    failures = len(by_path)
    counts = {"tests": str(tests), "failures": str(failures), "errors": "0"}
    root = ET.Element("testsuites", {"name": NAME, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": NAME, **counts, "skipped": "0"})
    for path, findings in by_path.items():
        case = ET.SubElement(suite, "testcase", {"classname": NAME, "name": clean(path)})
        for f in findings:
            message = full_message(f)
            failure = ET.SubElement(
                case, "failure", {"type": clean(f.rule), "message": clean(message)}
            )
            failure.text = clean(f"{location(f)} {f.severity} {f.rule} {message}")
    if not by_path:
        ET.SubElement(suite, "testcase", {"classname": NAME, "name": NAME})

    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
