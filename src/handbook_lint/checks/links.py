"""Internal links and anchors, resolved against the whole site; reference links."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from handbook_lint.context import PageContext
from handbook_lint.facts import Link
from handbook_lint.parse import normalize_label
from handbook_lint.resolve import Resolution, resolve
from handbook_lint.rules import Problem, register
from handbook_lint.site import matches_any

CHECKED_KINDS = frozenset({"inline", "reference", "autolink", "html", "image", "ref", "relref"})


@lru_cache(maxsize=64)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _resolved(ctx: PageContext) -> list[tuple[Link, Resolution]]:
    """Each internal link of the page with where it lands, resolved once per page
    for both link rules (links the page cannot resolve by itself, such as
    relative links in an include file, are skipped)."""
    found: list[tuple[Link, Resolution]] | None = ctx.shared.get("resolutions")
    if found is not None:
        return found
    found = []
    page = ctx.page
    for link in ctx.facts.links:
        if link.kind not in CHECKED_KINDS:
            continue
        relative = not link.target.startswith(("/", "#", "http:", "https:"))
        if not page.url and (relative or link.target.startswith("#")):
            continue  # an include file: resolved in the including page's context
        res = resolve(ctx.index, page, link)
        if res.kind not in ("skip", "external"):
            found.append((link, res))
    ctx.shared["resolutions"] = found
    return found


def resolutions(ctx: PageContext, ignore: list[str]) -> Iterator[tuple[Link, Resolution]]:
    """The page's resolved internal links, but those whose destination matches
    one of the `ignore` regexes."""
    for link, res in _resolved(ctx):
        if not any(_regex(p).search(link.target) for p in ignore):
            yield link, res


@register(
    "link-broken",
    "error",
    "An internal link points to no page, alias, section or file.",
    options={"ignore": []},
    option_docs={
        "ignore": "regular expressions: link destinations that match are not checked "
        "(for example destinations a site's link render hook rewrites)"
    },
)
def link_broken(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Resolves every internal link the way Hugo serves the site:
    absolute paths (`/handbook/values/`), paths relative to the page's URL,
    relative links to `.md` files (resolved against the file, as Hugo's link
    render hook does), reference-style links, `{{< ref >}}` / `relref`, and
    absolute URLs on the site's own `base_url`. A link is fine when it lands
    on a page, an alias of a page, a section, a taxonomy page, a static file
    or a page resource. Query strings are ignored; a trailing slash or its
    absence both resolve. The suggestion is the closest existing URL.

    **Why.** Hugo's render hook passes an unknown destination through
    silently, so a moved or misspelt page becomes a 404 in production.

    **Example (bad).**

    ```markdown
    Read our [mission](/handbook/company/misson/).
    ```

    **Use instead.**

    ```markdown
    Read our [mission](/handbook/company/mission/).
    ```
    """
    for link, res in resolutions(ctx, options["ignore"]):
        if res.kind != "broken":
            continue
        suggestion = None
        if link.kind not in ("ref", "relref") and not res.url.lower().endswith(".md"):
            suggestion = ctx.index.suggest_url(res.url)
        what = "page" if link.kind in ("ref", "relref") else "URL"
        shown = link.target.split("#", 1)[0] or link.target
        yield Problem(
            link.line,
            link.column,
            f"link to {shown!r}: no {what} at {res.url}"
            if res.url != shown
            else f"link to {shown!r}: no such page or file",
            suggestion=suggestion,
            target=res.url,
        )


@register(
    "link-anchor-missing",
    "error",
    "A link's #anchor does not exist on the page it points to.",
    options={"skip_pages": []},
    option_docs={
        "skip_pages": "URL globs of pages whose anchors come from shortcodes or templates "
        "the linter cannot expand: links to them are checked, their anchors are not"
    },
)
def link_anchor_missing(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** For a link with a `#fragment` that lands on a page (the
    same page or another), checks that the page has that anchor: a heading id
    as Hugo makes it (including headings of included files), a `{#custom}`
    id, a raw HTML `id=` or `<a name=>`, or a definition-term id when the
    site turns those on. The suggestion is the closest anchor on that page,
    given only when it is close. Pages listed in `skip_pages` (by URL glob)
    are not checked for anchors.

    **Why.** A renamed heading silently breaks every link to it: the page
    opens at the top and the reader is lost.

    **Example (bad).**

    ```markdown
    See [dogfooding](/handbook/values/#dogfoodng).
    ```

    **Use instead.**

    ```markdown
    See [dogfooding](/handbook/values/#dogfooding).
    ```
    """
    skip = options["skip_pages"]
    for link, res in resolutions(ctx, []):
        if res.kind != "ok" or not res.fragment or res.page is None:
            continue
        target = res.page
        if skip and matches_any(target.url, skip):
            continue
        anchors = ctx.index.anchors(target)
        fragment = unquote(res.fragment)
        if fragment in anchors or res.fragment in anchors:
            continue
        if ctx.index.has_unstable_ids(target) and not anchors:
            continue
        suggestion = ctx.index.suggest_anchor(target, fragment)
        where = "this page" if res.same_page else target.url
        yield Problem(
            link.line,
            link.column,
            f"no anchor #{fragment} on {where}",
            suggestion=f"#{suggestion}" if suggestion else None,
            target=f"{target.url}#{fragment}",
        )


@register(
    "link-reference-undefined",
    "error",
    "A reference-style link uses a label that has no definition.",
)
def link_reference_undefined(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports `[text][label]` (and `[text][]`) when no
    `[label]: destination` definition exists on the page or in the files it
    includes. Footnotes (`[^1]`) and shortcodes are not references.

    **Why.** Markdown renders an undefined reference as the literal brackets:
    the reader sees `[text][label]` instead of a link.

    **Example (bad).**

    ```markdown
    Read the [values][values-page].
    ```

    **Use instead.**

    ```markdown
    Read the [values][values-page].

    [values-page]: /handbook/values/
    ```
    """
    if not ctx.facts.undefined_refs:
        return
    # Included Markdown is rendered into the page: its definitions count.
    defined = {label for f in ctx.included_facts() for label in f.ref_definitions}
    for label, line, column in ctx.facts.undefined_refs:
        if normalize_label(label) not in defined:
            yield Problem(line, column, f"reference [{label}] has no definition on this page")


@register(
    "link-reference-unused",
    "warning",
    "A link reference definition that no link uses.",
)
def link_reference_unused(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports a `[label]: destination` definition that no
    reference-style link or image on the page (or in the files it includes)
    uses. Definitions in snippets and include files are not reported: they
    may serve the page that includes them.

    **Why.** Unused definitions are left over from edits; they hide the real
    destinations from review and rot unnoticed.

    **Example (bad).**

    ```markdown
    Read the values.

    [values]: /handbook/values/
    ```

    **Use instead.**

    ```markdown
    Read the [values].

    [values]: /handbook/values/
    ```
    """
    if not ctx.facts.ref_definitions or ctx.page.snippet:
        return  # a snippet's definitions may serve the page that includes it
    used = {normalize_label(link.label) for link in ctx.facts.links if link.label}
    for included in ctx.included_facts():
        used.update(normalize_label(link.label) for link in included.links if link.label)
    for label, (_, line) in sorted(ctx.facts.ref_definitions.items(), key=lambda kv: kv[1][1]):
        if label not in used:
            yield Problem(line or 1, 1, f"reference definition [{label.lower()}] is not used")
