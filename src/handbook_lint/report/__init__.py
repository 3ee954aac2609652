"""Reporters: findings in, text out. They know nothing about rules beyond what Report carries."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TextIO

from handbook_lint.report.model import Report, RuleInfo

Writer = Callable[[Report, TextIO], None]

# Format name -> module with a `write(report, stream)`; imported when used, so a
# run pays only for the format it prints.
_MODULES = {
    "text": "text",
    "json": "json_report",
    "codequality": "codequality",
    "sarif": "sarif",
    "junit": "junit",
    "github": "github",
    "html": "html",
    "markdown": "markdown",
}
FORMAT_NAMES = tuple(_MODULES)


def writer(name: str) -> Writer:
    """The writer for format `name` (KeyError for an unknown one)."""
    module = import_module(f"handbook_lint.report.{_MODULES[name]}")
    write: Writer = module.write
    return write


__all__ = ["FORMAT_NAMES", "Report", "RuleInfo", "Writer", "writer"]
