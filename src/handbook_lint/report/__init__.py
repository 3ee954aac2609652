"""Reporters: findings in, text out. They know nothing about rules beyond what Report carries."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from handbook_lint.report import codequality, github, json_report, junit, sarif, text
from handbook_lint.report.model import Report, RuleInfo

Writer = Callable[[Report, TextIO], None]

FORMATS: dict[str, Writer] = {
    "text": text.write,
    "json": json_report.write,
    "codequality": codequality.write,
    "sarif": sarif.write,
    "junit": junit.write,
    "github": github.write,
}

__all__ = ["FORMATS", "Report", "RuleInfo", "Writer"]
