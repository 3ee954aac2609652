"""Reporters: findings in, text out. They know nothing about rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from handbook_lint.report import json_report, text
from handbook_lint.report.model import Report

Writer = Callable[[Report, TextIO], None]

FORMATS: dict[str, Writer] = {
    "text": text.write,
    "json": json_report.write,
}

__all__ = ["FORMATS", "Report", "Writer"]
