"""Include shortcode calls: malformed, missing target, cycles."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from typing import Any

from handbook_lint.checks.context import PageContext
from handbook_lint.checks.registry import Problem, register
from handbook_lint.parsing.facts import Include
from handbook_lint.site.includes import INCLUDE, Event, expand
from handbook_lint.site.model import content_ancestors
from handbook_lint.site.suggest import closest


@register("include-invalid", "error", "A malformed include shortcode call.")
def include_invalid(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports an `include` shortcode call that names no file,
    is never closed, or opens with one delimiter and closes with the other
    (`{{% include "x" >}}`). Calls inside code blocks or code spans and the
    escaped form `{{</* include "x" */>}}` are not calls and are never
    reported.

    **Why.** Hugo fails the build on a malformed call, with a message that
    points into the template rather than the page.

    **Example (bad).**

    ```markdown
    {{% include "includes/nav.md" >}}
    ```

    **Use instead.**

    ```markdown
    {{% include "includes/nav.md" %}}
    ```
    """
    for inc in ctx.facts.includes:
        if inc.error:
            yield Problem(inc.line, inc.column, f"invalid include call: {inc.error}")


@register(
    "include-missing",
    "error",
    "An include shortcode names a file that exists in no include root.",
)
def include_missing(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Looks up the target of each `include` call where the site
    looks it up (the config's `includes.roots`, and first the page's own
    folder when `includes.relative_to_page` is on, as hugo-docs does) and
    reports a target found nowhere, with the closest existing file as the
    suggestion.

    **Why.** A missing include fails the build, or (with some include
    shortcodes) silently renders nothing where a whole section should be.

    **Example (bad).**

    ```markdown
    {{% include "includes/engineering-careers/carer-matrix-nav.md" %}}
    ```

    **Use instead.**

    ```markdown
    {{% include "includes/engineering-careers/career-matrix-nav.md" %}}
    ```
    """
    for inc in ctx.facts.includes:
        if inc.error or not inc.target:
            continue
        if ctx.resolve_include(inc.target) is None:
            suggestion = _closest_include(ctx, inc.target)
            looked = ", ".join(ctx.site.include_candidates(ctx.path, inc.target)[:3])
            yield Problem(
                inc.line,
                inc.column,
                f"included file '{inc.target}' not found (looked for {looked})",
                suggestion=suggestion,
                detail=_folder_hint(ctx, inc.target),
            )


def _folder_hint(ctx: PageContext, target: str) -> str | None:
    """Where a missing include is found after all, in a folder beside the page or
    beside one of its parents in the content tree (Docsy-style sites keep
    snippets in `_includes/`), as a hint to set `includes.folders`."""
    if target.startswith(("/", ".")):
        return None
    site = ctx.site
    inner = site.inner(ctx.path)
    if inner is None:
        return None
    for folder in content_ancestors(inner):
        for disk in site.disk_paths(folder):
            try:
                names = sorted(e.name for e in os.scandir(site.root / disk) if e.is_dir())
            except OSError:
                continue
            for name in names:
                if name not in site.config.include_folders and site.exists(
                    posixpath.join(disk, name, target)
                ):
                    return (
                        f"it is in {posixpath.join(disk, name)}/: if the site's include "
                        f"shortcode looks there, set includes.folders: [{name}]"
                    )
    return None


def _closest_include(ctx: PageContext, target: str) -> str | None:
    """The include path (as the call would write it) closest to `target`."""
    names: dict[str, str] = {}
    for path in ctx.site.include_files():
        for root in ctx.site.config.include_roots:
            prefix = root.strip("/") + "/"
            if path.startswith(prefix):
                written = path[len(prefix) :]
                if target.startswith("/"):
                    written = "/" + written
                names.setdefault(written, path)
    return closest(target, names, cutoff=0.75)


@register(
    "include-cycle",
    "error",
    "A file includes itself, directly or through other includes.",
)
def include_cycle(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Follows include calls from the page through the included
    files and reports a call whose chain comes back to a file already being
    included, naming the whole chain.

    **Why.** Hugo recurses until it gives up: the build fails or hangs.

    **Example (bad).** `includes/a.md` holds `{{% include "includes/b.md" %}}`
    and `includes/b.md` holds `{{% include "includes/a.md" %}}`.

    **Use instead.** Move the shared part into a third file that both include.
    """

    def calls(path: str) -> list[Event] | None:
        facts = ctx.facts_of(path)
        if facts is None:
            return None
        return [(INCLUDE, i.target, i.line) for i in facts.includes if i.target and not i.error]

    # Each call of the page on its own (two calls on a line, two cycles), each
    # file entered once per call: whether a cycle is reached, not every path.
    for call in ctx.facts.includes:
        if call.error or not call.target:
            continue

        def from_call(path: str, call: Include = call) -> list[Event] | None:
            return [(INCLUDE, call.target, call.line)] if path == ctx.path else calls(path)

        for step in expand(ctx.path, from_call, ctx.site.resolve_include, once=True):
            if step.kind == "cycle":
                chain = [*step.chain, step.value]
                yield Problem(call.line, call.column, "include cycle: " + " -> ".join(chain))
                break
