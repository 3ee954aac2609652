"""Front matter: present, parseable, required keys, value types."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

from handbook_lint.checks.context import PageContext
from handbook_lint.checks.registry import Edit, Fix, OptionError, Problem, register
from handbook_lint.parsing.dates import parse_date

TYPE_NAMES = (
    "string",
    "non-empty-string",
    "string-list",
    "list",
    "mapping",
    "boolean",
    "integer",
    "number",
    "date",
)

_BOOL_WORDS = {"true", "false", "yes", "no", "on", "off"}


def _line(ctx: PageContext, key: str) -> int:
    fm = ctx.facts.front_matter
    lines = {k.lower(): line for k, line in reversed(fm.key_lines.items())}
    return lines.get(key.lower()) or fm.start_line or 1


def _data(ctx: PageContext) -> dict[str, Any]:
    """The front matter with its keys lowercased: Hugo reads keys case-insensitively
    (`Title:` is the title); the first of two spellings wins."""
    return {str(k).lower(): v for k, v in reversed(ctx.facts.front_matter.data.items())}


@register(
    "front-matter-missing",
    "error",
    "A page has no front matter.",
)
def front_matter_missing(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports a page that does not start with a front matter
    block (`---` YAML, `+++` TOML or a `{` JSON object). Snippets are not
    pages and are not reported: files under an include root outside the
    content dir (spliced into pages as they are) and pages Hugo does not render.

    **Why.** Without front matter Hugo has no title for the page: navigation,
    search and the browser tab show the file name.

    **Example (bad).**

    ```markdown
    # Onboarding

    Welcome!
    ```

    **Use instead.**

    ```markdown
    ---
    title: Onboarding
    ---

    Welcome!
    ```
    """
    if ctx.facts.front_matter.format is None and not ctx.page.snippet:
        yield Problem(1, 1, "page has no front matter (expected '---' on line 1)")


@register(
    "front-matter-invalid",
    "error",
    "The front matter block does not parse.",
)
def front_matter_invalid(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports a front matter block that YAML, TOML or JSON cannot
    parse, or that is never closed, at the line of the error with the parser's
    message. Snippets in the content dir are checked too: Hugo parses their
    front matter as well. Include files outside the content dir have none
    (a leading `---` there is a thematic break).

    **Why.** Hugo stops the build on invalid front matter.

    **Example (bad).**

    ```markdown
    ---
    title: Values: how we work
    ---
    ```

    **Use instead.**

    ```markdown
    ---
    title: "Values: how we work"
    ---
    ```
    """
    fm = ctx.facts.front_matter
    if fm.error is not None:
        yield Problem(fm.error_line or 1, 1, f"invalid {fm.format or 'front matter'}: {fm.error}")


def _validate_required(options: dict[str, Any]) -> None:
    if not all(isinstance(k, str) for k in options["keys"]):
        raise OptionError("keys", "must be a list of strings")


@register(
    "front-matter-required",
    "error",
    "A required front matter key is missing or empty.",
    options={"keys": ["title"]},
    option_docs={"keys": "keys every page must have with a non-empty value"},
    validate=_validate_required,
)
def front_matter_required(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports each key of the `keys` option that a page's front
    matter lacks, or holds with an empty value (`""`, `[]`, null). Keys match
    case-insensitively, as Hugo reads them (`Title:` is a title). Snippets
    (include files, and pages Hugo does not render: headless, `build.render:
    never` also through a `cascade`, drafts, future or expired pages) are not
    checked.

    **Why.** Presets list what the site's templates need: a page without a
    `title` shows up blank in navigation and search.

    **Example (bad).**

    ```markdown
    ---
    description: How we onboard
    ---
    ```

    **Use instead.**

    ```markdown
    ---
    title: Onboarding
    description: How we onboard
    ---
    ```
    """
    fm = ctx.facts.front_matter
    if ctx.page.snippet or fm.format is None or fm.error is not None:
        return
    data = _data(ctx)
    for key in options["keys"]:
        value = data.get(key.lower())
        if key.lower() not in data:
            yield Problem(fm.end_line or 1, 1, f"front matter has no '{key}'")
        elif value is None or (isinstance(value, str | list | dict) and not value):
            yield Problem(_line(ctx, key), 1, f"front matter '{key}' is empty")


def _validate_types(options: dict[str, Any]) -> None:
    for key, type_name in options["types"].items():
        if type_name not in TYPE_NAMES:
            raise OptionError(
                f"types.{key}", f"unknown type {type_name!r} (types: {', '.join(TYPE_NAMES)})"
            )


@register(
    "front-matter-type",
    "error",
    "A front matter value has the wrong type.",
    options={
        "types": {
            "title": "non-empty-string",
            "aliases": "string-list",
            "date": "date",
        }
    },
    option_docs={
        "types": "key -> type; types: " + ", ".join(TYPE_NAMES),
    },
    validate=_validate_types,
    fix="safe: a single plain value where a list is required becomes a one-item list "
    '(`tags: docs` to `tags: [docs]`); a quoted "true" or "false" where a boolean is '
    "required loses its quotes; only when the key and its value stand alone on one line",
)
def front_matter_type(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Checks the type of each front matter key listed in the
    `types` option, as Hugo reads it: a `string` may be any single value
    (Hugo casts `title: 2019` to the title "2019") but not a list or a
    mapping (Hugo makes those an empty title); `title` must not be empty;
    a `string-list` (`aliases`) is a list of values or one string (Hugo
    splits it into words); dates must parse as dates Hugo reads (it stops
    the build on one it cannot); a `boolean` must not be written as a string
    (`draft: "true"`: Hugo reads "true", "1" and "t" as true but "yes" as
    false); an `integer` must be a whole number.

    **Why.** Hugo coerces or rejects wrong types silently or with an
    unhelpful build error far from the page: a quoted `"false"` is a true
    value for templates, a date it cannot parse sorts the page wrongly.

    **Example (bad).**

    ```markdown
    ---
    title: Handbook
    draft: "false"
    aliases: /old-handbook/
    ---
    ```

    **Use instead.**

    ```markdown
    ---
    title: Handbook
    draft: false
    aliases: [/old-handbook/]
    ---
    ```
    """
    fm = ctx.facts.front_matter
    if fm.format is None or fm.error is not None:
        return
    data = _data(ctx)
    for key, expected in options["types"].items():
        value = data.get(key.lower())
        if value is None:
            continue
        problem = type_problem(value, expected)
        if problem:
            line = _line(ctx, key)
            yield Problem(
                line,
                1,
                f"front matter '{key}' {problem}",
                fix=_type_fix(ctx, key, line, value, expected),
            )


# A value that reads the same bare, quoted and as a flow-list item.
_PLAIN = re.compile(r"[A-Za-z0-9/_.][A-Za-z0-9/_. -]*(?<! )")


def _type_fix(ctx: PageContext, key: str, line: int, value: Any, expected: str) -> Fix | None:
    """The line `key: value` rewritten with the value in the required type, when
    the value is plain enough that the line can be known from the data (the
    fixer then checks the line really reads so)."""
    fm = ctx.facts.front_matter
    written = next((k for k in fm.key_lines if k.lower() == key.lower()), None)
    if written is None or not isinstance(value, str):
        return None
    sep = {"yaml": ": ", "toml": " = "}.get(fm.format or "")
    if sep is None:
        return None
    if expected == "list" and _PLAIN.fullmatch(value):
        if fm.format == "yaml":
            old, new = f"{written}: {value}", f"{written}: [{value}]"
        else:
            old, new = f'{written} = "{value}"', f'{written} = ["{value}"]'
    elif expected == "boolean" and value in ("true", "false"):
        old, new = f'{written}{sep}"{value}"', f"{written}{sep}{value}"
    else:
        return None
    return Fix((Edit(line, 0, old, new, whole_line=True),))


def type_problem(value: Any, expected: str) -> str | None:
    """Why `value` is not of type `expected`, or None when it is."""
    if expected in ("string", "non-empty-string"):
        # Hugo casts a scalar to its text (`title: 2019` is the title "2019"); a
        # list or a mapping becomes an empty string, silently.
        if isinstance(value, list | dict):
            return f"must be a string, not {_describe(value)} (Hugo makes it an empty string)"
        if expected == "non-empty-string" and not str(value).strip():
            return "must not be empty"
        return None
    if expected == "string-list":
        # Hugo casts a string to the list of its words, and scalars in the list
        # to their text; a mapping (in or as the list) it cannot read.
        if isinstance(value, dict):
            return f"must be a list of strings, not {_describe(value)}"
        items = value if isinstance(value, list) else [value]
        bad = [v for v in items if isinstance(v, list | dict)]
        return f"must hold only strings, not {_describe(bad[0])}" if bad else None
    if expected == "list":
        return None if isinstance(value, list) else f"must be a list, not {_describe(value)}"
    if expected == "mapping":
        return None if isinstance(value, dict) else f"must be a mapping, not {_describe(value)}"
    if expected == "boolean":
        if isinstance(value, bool):
            return None
        if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return f"is the string {value!r}: write {value.strip().lower()} without quotes"
        return f"must be true or false, not {_describe(value)}"
    if expected == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        return f"must be a whole number, not {_describe(value)}"
    if expected == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None
        return f"must be a number, not {_describe(value)}"
    if expected == "date":
        if isinstance(value, datetime.date):
            return None
        if isinstance(value, str) and parse_date(value):
            return None
        return f"is not a date Hugo can read: {value!r}"
    return None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, datetime.date):
        return "a date"
    return type(value).__name__
