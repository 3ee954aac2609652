"""The rule registry: each rule's stable name, default severity, options and doc.

A rule is a generator function registered with `@page_rule(...)`. It receives
the facts of one page (and a context that answers questions about the site)
and yields `Problem`s. Its docstring is the user doc (Markdown): what it does,
why, a bad and a good example; docs/rules.md is generated from it.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Edit:
    """One replacement in a file: `old` at `column` (0-based, in characters) of
    `line` (1-based) becomes `new` (an empty `old`: `new` is inserted there).
    With `whole_line`, `old` is the whole line (without its break): `new`
    replaces it, or, when empty, the line and its line break go. An indent
    (`old` the line's leading spaces, `new` more of them, at column 0) leaves
    a blank line alone.
    A fixer applies an edit only where the file still holds `old`: a fix never
    touches bytes it did not see."""

    line: int
    column: int
    old: str
    new: str
    whole_line: bool = False
    # Where `old` must stand, beyond being there: after one of these texts
    # ("|"-separated, e.g. "](|](<" for a link destination), and as a whole
    # word (not inside a longer one). An edit never lands in a code span.
    after: str = ""
    word: bool = False


@dataclass(frozen=True, slots=True)
class Fix:
    """How to fix a finding: edits to its file, applied together or not at all.
    A safe fix keeps what the page means; an unsafe one (a guessed URL or
    anchor, a heading whose id would change) needs --unsafe-fixes."""

    edits: tuple[Edit, ...]
    safe: bool = True


@dataclass(frozen=True, slots=True)
class Problem:
    """What a rule found, before the engine makes it a finding (its rule, and
    its file unless a rule of the whole site names one)."""

    line: int
    column: int
    message: str
    suggestion: str | None = None
    target: str | None = None  # the missing link target, for --stats
    detail: str | None = None  # where or why, shown after the message (see Finding)
    fix: Fix | None = None
    # The file it is in, for a rule of the whole site (None: the page checked).
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem as reported: where, which rule, how severe, what, and its fix."""

    path: str
    line: int
    column: int
    rule: str
    severity: str
    message: str
    suggestion: str | None = None
    target: str | None = None  # the missing link target (not in reports), for --stats
    # Shown after the message but not part of what identifies the finding (its
    # fingerprint): the pages an include file's link fails in, what a change did.
    detail: str | None = None
    fix: Fix | None = None  # what --fix would do (not part of its identity either)

    @classmethod
    def of(cls, path: str, rule: str, severity: str, problem: Problem) -> Finding:
        """What a rule's `problem` in `path` is as a finding."""
        return cls(
            path,
            problem.line,
            problem.column,
            rule,
            severity,
            problem.message,
            problem.suggestion,
            problem.target,
            problem.detail,
            problem.fix,
        )

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.rule)

    @property
    def text(self) -> str:
        """The message with its detail, as reports show it."""
        return f"{self.message} ({self.detail})" if self.detail else self.message


# A check gets a PageContext (a page rule), a SiteContext (a rule of the whole
# site: media, CODEOWNERS) or a ChangeContext (a rule of a change: moved pages).
CheckFn = Callable[[Any, dict[str, Any]], Iterator[Problem]]
SCOPES = ("page", "site", "change")


class OptionError(ValueError):
    """A rule's option that its `validate` hook rejects; `at` is the option's
    path below the rule (`style`, `types.title`), for the config error."""

    def __init__(self, at: str, message: str) -> None:
        super().__init__(message)
        self.at = at


# Checks a rule's merged options (types are checked already); raises OptionError.
ValidateFn = Callable[[dict[str, Any]], None]


def list_of_strings(*keys: str, regex: bool = False) -> ValidateFn:
    """A `validate` hook: each of `keys` is a list of strings (regular
    expressions that compile, with `regex`)."""

    def validate(options: dict[str, Any]) -> None:
        for key in keys:
            for i, item in enumerate(options[key]):
                if not isinstance(item, str):
                    raise OptionError(key, f"must be a list of strings (item {i + 1} is not)")
                if regex:
                    try:
                        re.compile(item)
                    except re.error as exc:
                        raise OptionError(
                            key, f"invalid regular expression {item!r}: {exc}"
                        ) from None

    return validate


@dataclass(frozen=True)
class Rule:
    """A rule as registered: its name, severity, doc, options and check."""

    name: str
    severity: str
    summary: str
    doc: str
    options: dict[str, Any] = field(default_factory=dict)
    option_docs: dict[str, str] = field(default_factory=dict)
    check: CheckFn | None = None  # None: reported by the engine itself
    validate: ValidateFn | None = None  # checks the options beyond their types
    source: str = ""  # where it is defined: the module's file and line
    external: bool = False  # needs the network: runs only with --external
    fix: str = ""  # what its fix does, starting "safe:" or "unsafe:" ("" when none)
    enabled: bool = True  # runs unless the config turns it off
    # Off, it still runs: its findings are not listed but counted in one line
    # (the links the linter could not verify).
    counted: bool = False
    scope: str = "page"  # what its check gets: one page, the site, or a change


RULES: dict[str, Rule] = {}


def register(
    name: str,
    severity: str,
    summary: str,
    options: dict[str, Any] | None = None,
    option_docs: dict[str, str] | None = None,
    enabled: bool = True,
    counted: bool = False,
    validate: ValidateFn | None = None,
    external: bool = False,
    fix: str = "",
    scope: str = "page",
) -> Callable[[CheckFn], CheckFn]:
    assert scope in SCOPES, scope

    def wrap(fn: CheckFn) -> CheckFn:
        RULES[name] = Rule(
            name=name,
            severity=severity,
            summary=summary,
            doc=inspect.cleandoc(fn.__doc__ or ""),
            options=options or {},
            option_docs=option_docs or {},
            check=fn,
            enabled=enabled,
            counted=counted,
            validate=validate,
            source=_where(fn),
            external=external,
            fix=fix,
            scope=scope,
        )
        return fn

    return wrap


def declare(name: str, severity: str, summary: str, doc: str) -> None:
    """A rule the engine reports itself (reading files), not a check function."""
    caller = sys._getframe(1)  # (inspect.stack() reads every source file: slow)
    source = f"{caller.f_code.co_filename}:{caller.f_lineno}"
    RULES[name] = Rule(name, severity, summary, inspect.cleandoc(doc), source=source)


def _where(fn: CheckFn) -> str:
    # (the code object says it: inspect.getsourcelines read every rule's source
    # file on every start, 60 ms of a warm run)
    code = getattr(fn, "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code is not None else ""


def external_rules() -> frozenset[str]:
    """The rules that need the network (they run only when links are checked)."""
    return frozenset(name for name, rule in all_rules().items() if rule.external)


def all_rules() -> dict[str, Rule]:
    # Importing the checks package registers every rule.
    import handbook_lint.checks  # noqa: F401

    return RULES
