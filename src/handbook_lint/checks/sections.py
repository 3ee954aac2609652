"""Required sections per page type."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from handbook_lint.checks.context import PageContext, PlacedHeading
from handbook_lint.checks.registry import OptionError, Problem, register
from handbook_lint.site.model import matches_any

_SPEC_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*$")


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """A required heading: its level and the pattern its text must match."""

    level: int
    pattern: str  # as written, e.g. "* Leadership Competencies"
    regex: re.Pattern[str]

    @property
    def shown(self) -> str:
        return "#" * self.level + " " + self.pattern

    def matches(self, placed: PlacedHeading) -> bool:
        return placed.heading.level == self.level and bool(
            self.regex.match(_norm(placed.heading.text))
        )


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


@lru_cache(maxsize=256)
def parse_spec(spec: str) -> SectionSpec:
    match = _SPEC_RE.match(spec)
    if match is None:
        raise ValueError(
            f"section {spec!r} must look like '## Heading text' ('*' matches any words)"
        )
    pattern = match.group(2)
    regex = ".+".join(re.escape(part) for part in _norm(pattern).split("*"))
    return SectionSpec(len(match.group(1)), pattern, re.compile(regex + r"\Z"))


def page_types_for(path: str, page_types: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, spec in page_types.items():
        if matches_any(path, spec.get("paths", [])) and not matches_any(
            path, spec.get("exclude", [])
        ):
            out.append((name, spec))
    return out


def align(specs: list[SectionSpec], headings: list[PlacedHeading]) -> list[int | None]:
    """For each spec, the index of the heading it matches, keeping order and
    matching as many as possible (a longest-common-subsequence alignment)."""
    n, m = len(specs), len(headings)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if specs[i].matches(headings[j]):
                best[i][j] = 1 + best[i + 1][j + 1]
            else:
                best[i][j] = max(best[i + 1][j], best[i][j + 1])
    out: list[int | None] = []
    i = j = 0
    while i < n:
        if j < m and specs[i].matches(headings[j]) and best[i][j] == 1 + best[i + 1][j + 1]:
            out.append(j)
            i += 1
            j += 1
        elif j < m and best[i][j + 1] >= best[i + 1][j]:
            j += 1
        else:
            out.append(None)
            i += 1
    return out


def _validate_page_types(options: dict[str, Any]) -> None:
    for type_name, spec in options["page_types"].items():
        at = f"page_types.{type_name}"
        if not isinstance(spec, dict):
            raise OptionError(at, "must be a mapping")
        for key in spec:
            if key not in ("paths", "exclude", "ordered", "sections"):
                raise OptionError(
                    at, f"unknown key {key!r} (keys: paths, exclude, ordered, sections)"
                )
        for key in ("paths", "exclude", "sections"):
            value = spec.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise OptionError(f"{at}.{key}", "must be a list of strings")
        if not isinstance(spec.get("ordered", True), bool):
            raise OptionError(f"{at}.ordered", "must be true or false")
        for section in spec.get("sections", []):
            try:
                parse_spec(section)
            except ValueError as exc:
                raise OptionError(f"{at}.sections", str(exc)) from None


@register(
    "required-sections",
    "error",
    "A page of a given type lacks a required section, or has it out of order.",
    options={"page_types": {}},
    option_docs={
        "page_types": "name -> {paths: [globs], exclude: [globs], ordered: true, "
        "sections: ['## Heading', '## *', '### * Suffix']}"
    },
    validate=_validate_page_types,
)
def required_sections(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** For pages matched by a page type (globs over paths relative
    to the site root), checks that the type's `sections` are there, at their
    heading level, in order unless `ordered: false`. `*` in a section matches
    any words (`## *` is any level-2 heading). Headings are compared ignoring
    case and repeated spaces. Headings that come from included files count,
    at the line of the include. Each missing section is reported at the line
    where it was expected; a section that is there but out of order is
    reported at its own line.

    **Why.** Pages of one kind (career framework levels, runbooks, team pages)
    are read side by side; a missing section is a gap in the framework that
    review rarely notices.

    **Example (bad).** A level page of the Infrastructure career framework
    without `## Autonomy`:

    ```markdown
    ## Staff
    ## Accountability
    ## Credibility
    ## Team building
    ```

    **Use instead.**

    ```markdown
    ## Staff
    ## Accountability
    ## Credibility
    ## Autonomy
    ## Team building
    ```
    """
    if ctx.page.snippet:
        return
    types = page_types_for(ctx.path, options["page_types"])
    if not types:
        return
    headings = ctx.placed_headings()
    for name, spec in types:
        specs = [parse_spec(s) for s in spec.get("sections", [])]
        yield from _check_type(ctx, name, specs, headings, spec.get("ordered", True))


def _check_type(
    ctx: PageContext,
    type_name: str,
    specs: list[SectionSpec],
    headings: list[PlacedHeading],
    ordered: bool,
) -> Iterator[Problem]:
    if not ordered:
        for spec in specs:
            if not any(spec.matches(h) for h in headings):
                yield Problem(
                    _end_line(ctx), 1, f"missing section '{spec.shown}' ({type_name} page)"
                )
        return
    matched = align(specs, headings)
    used = {j for j in matched if j is not None}
    for i, (spec, j) in enumerate(zip(specs, matched, strict=True)):
        if j is not None:
            continue
        elsewhere = [k for k, h in enumerate(headings) if k not in used and spec.matches(h)]
        after = _previous_match(matched, i)
        if elsewhere:
            k = elsewhere[0]
            used.add(k)
            place = f"after '{specs[after[0]].shown}'" if after is not None else "before the others"
            yield Problem(
                headings[k].line,
                1,
                f"section '{spec.shown}' is out of order: expected {place} ({type_name} page)",
            )
            continue
        line = _expected_line(ctx, headings, matched, i)
        where = f" after '{specs[after[0]].shown}'" if after is not None else ""
        yield Problem(line, 1, f"missing section '{spec.shown}'{where} ({type_name} page)")


def _previous_match(matched: list[int | None], i: int) -> tuple[int, int] | None:
    for k in range(i - 1, -1, -1):
        j = matched[k]
        if j is not None:
            return k, j
    return None


def _expected_line(
    ctx: PageContext, headings: list[PlacedHeading], matched: list[int | None], i: int
) -> int:
    """The line of the first matched heading after spec i, or the page's end."""
    for j in matched[i + 1 :]:
        if j is not None:
            return headings[j].line
    return _end_line(ctx)


def _end_line(ctx: PageContext) -> int:
    return max(ctx.facts.line_count, 1)
