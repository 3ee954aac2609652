"""Internal links and anchors, resolved against the whole site; reference links."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from handbook_lint.checks.context import PageContext
from handbook_lint.checks.registry import Edit, Fix, Problem, list_of_strings, register
from handbook_lint.parsing.facts import CHECKED_KINDS, Link
from handbook_lint.parsing.markdown import normalize_label
from handbook_lint.site.model import Page, matches_any, normalize_url
from handbook_lint.site.resolve import Resolution, resolve


@lru_cache(maxsize=64)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# A link's resolution in one place it renders: the page itself, or (for a
# snippet) one of the pages that include it.
Placed = tuple[Page, Resolution]


def _resolved(ctx: PageContext) -> list[tuple[Link, list[Placed]]]:
    """Each internal link of the page with where it lands, resolved once per page
    for both link rules. A snippet's links are resolved where they render: in
    each page that includes it (a relative link against that page's URL, a
    `#fragment` against its anchors); a snippet no page includes has only its
    absolute links checked."""
    found: list[tuple[Link, list[Placed]]] | None = ctx.shared.get("resolutions")
    if found is not None:
        return found
    found = []
    page = ctx.page
    contexts = ctx.index.includers(page.path) if page.snippet else [page]
    # A destination written again lands where it landed (a page of 2,000 copies
    # of a few links resolved each one anew).
    memo: dict[tuple[str, str, str], Resolution] = {}

    def landing(where: Page, link: Link) -> Resolution:
        key = (where.path, link.kind, link.target)
        res = memo.get(key)
        if res is None:
            res = memo[key] = resolve(ctx.index, where, link)
        return res

    for link in ctx.facts.links:
        if link.kind not in CHECKED_KINDS:
            continue
        if contexts:
            places = [(where, landing(where, link)) for where in contexts]
        elif _absolute(link):
            places = [(page, landing(page, link))]
        else:
            continue  # rendered nowhere: where it would land is unknown
        places = [(where, res) for where, res in places if res.kind not in ("skip", "external")]
        if places:
            found.append((link, places))
    ctx.shared["resolutions"] = found
    return found


def _absolute(link: Link) -> bool:
    """A destination that lands in the same place from every page."""
    target = link.target
    if link.kind in ("ref", "relref"):
        return target.startswith("/")
    return target.startswith(("/", "http:", "https:")) and not target.lower().endswith(".md")


def resolutions(ctx: PageContext, ignore: list[str]) -> Iterator[tuple[Link, list[Placed]]]:
    """The page's resolved internal links, but those whose destination matches
    one of the `ignore` regexes."""
    for link, places in _resolved(ctx):
        if not any(_regex(p).search(link.target) for p in ignore):
            yield link, places


def merged(ctx: PageContext, found: list[tuple[Page, Problem | None]]) -> Problem | None:
    """One problem for a link checked in several places (a snippet in the pages
    that include it): reported once, naming the pages it fails in when it does
    not fail in all of them."""
    failing = [(where, problem) for where, problem in found if problem is not None]
    if not failing:
        return None
    first = failing[0][1]
    assert first is not None
    if not ctx.page.snippet:
        return first
    if first.fix is not None and (
        len(failing) < len(found) or any(p is None or p.fix != first.fix for _, p in failing)
    ):
        # A snippet renders in several pages: its fix must hold in all of them.
        first = replace(first, fix=None)
    if len(failing) < len(found):
        names = ", ".join(where.path for where, _ in failing[:3])
        if len(failing) > 3:
            names += f" and {len(failing) - 3} more"
        return replace(first, detail=f"when included from {names}")
    if len(failing) > 1 and any(p is not None and p.message != first.message for _, p in failing):
        others = len(failing) - 1
        pages = "page that includes" if others == 1 else "pages that include"
        return replace(first, detail=f"and in the {others} other {pages} it")
    return first


@register(
    "link-broken",
    "error",
    "An internal link points to no page, alias, section or file.",
    options={"ignore": []},
    option_docs={
        "ignore": "regular expressions: link destinations that match are not checked "
        "(for example destinations a site's link render hook rewrites)"
    },
    validate=list_of_strings("ignore", regex=True),
    fix="unsafe: replaces the link's path with the suggested URL when it is the only "
    "existing URL close to it (a guess: check where it leads)",
)
def link_broken(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Resolves every internal link the way Hugo serves the site:
    absolute paths (`/handbook/values/`), paths relative to the page's URL,
    relative links to `.md` files (resolved against the file, as Hugo's link
    render hook does), reference-style links, `{{< ref >}}` / `relref`, and
    absolute URLs on the site's own `base_url`. A link is fine when it lands
    on a page, an alias of a page, a section, a taxonomy page, a static file
    or a page resource. With Hugo's embedded link render hook, a link whose
    scheme is not http, https or mailto (`tel:`) is reported too: Go's
    templates write it as `#ZgotmplZ`; so is an empty link (`[text](#)`).
    Query strings are ignored; a trailing slash or its absence both resolve.
    The suggestion is the closest existing URL.

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
    for link, places in resolutions(ctx, options["ignore"]):
        problem = merged(ctx, [(where, _broken(ctx, link, res)) for where, res in places])
        if problem is not None:
            yield problem


def _broken(ctx: PageContext, link: Link, res: Resolution) -> Problem | None:
    if res.kind == "unsafe":
        scheme = res.url.split(":", 1)[0]
        return Problem(
            link.line,
            link.column,
            f"link to {res.url!r} is written as '#ZgotmplZ': Hugo's embedded link render "
            f"hook lets only http, https and mailto URLs through, not {scheme}:",
            target=res.url,
        )
    if res.kind == "empty":
        return Problem(link.line, link.column, "link to '#' goes nowhere: an empty link")
    if res.kind != "broken":
        return None
    suggestion = None
    fix = None
    if link.kind not in ("ref", "relref") and not res.url.lower().endswith(".md"):
        close = ctx.index.close_urls(res.url)
        suggestion = close[0] if close else None
        path, _, fragment = link.target.partition("#")
        if len(close) == 1 and path and _has_anchor(ctx, close[0], fragment):
            fix = _destination_fix(link, path, close[0], safe=False)
    what = "page" if link.kind in ("ref", "relref") else "URL"
    shown = link.target.split("#", 1)[0] or link.target
    return Problem(
        link.line,
        link.column,
        f"link to {shown!r}: no {what} at {res.url}"
        if res.url != shown
        else f"link to {shown!r}: no such page or file",
        suggestion=suggestion,
        target=res.url,
        fix=fix,
    )


def _has_anchor(ctx: PageContext, url: str, fragment: str) -> bool:
    """The page at `url` has the anchor (or none is asked for): a fix that moves
    a link there must not trade a broken link for a missing anchor."""
    if not fragment:
        return True
    target = ctx.index.lookup(url)
    if target is None or target.page is None:
        return False
    return unquote(fragment) in ctx.index.anchors(target.page)


# What stands before a link's destination: `](` or `](<`.
_DESTINATION = "](|](<"


def _destination_fix(link: Link, old: str, new: str, safe: bool) -> Fix | None:
    """Replace the start of an inline link's destination (`old`, as the facts
    have it) with `new`. Only where the destination's place is known: not a
    reference definition, a shortcode or HTML."""
    if link.kind not in ("inline", "image") or link.column < 1 or not link.target.startswith(old):
        return None
    return Fix((Edit(link.line, link.column - 1, old, new, after=_DESTINATION),), safe)


@register(
    "link-anchor-missing",
    "error",
    "A link's #anchor does not exist on the page it points to.",
    options={"skip_pages": []},
    option_docs={
        "skip_pages": "URL globs of pages whose anchors come from shortcodes or templates "
        "the linter cannot expand: links to them are checked, their anchors are not"
    },
    validate=list_of_strings("skip_pages"),
    fix="unsafe: replaces the fragment with the suggested anchor when it is the only "
    "anchor of that page close to it",
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
    for link, places in resolutions(ctx, []):
        found = [(where, _missing_anchor(ctx, link, res, skip)) for where, res in places]
        problem = merged(ctx, found)
        if problem is not None:
            yield problem


def _missing_anchor(
    ctx: PageContext, link: Link, res: Resolution, skip: list[str]
) -> Problem | None:
    # `#:~:text=...` is a text fragment (browsers scroll to the text); what comes
    # before `:~:` is the anchor, if anything.
    raw = res.fragment.split(":~:", 1)[0]
    if res.kind != "ok" or not raw or res.page is None:
        return None
    target = res.page
    if skip and matches_any(target.url, skip):
        return None
    anchors = ctx.index.anchors(target)
    fragment = unquote(raw)
    if fragment in anchors or raw in anchors:
        return None
    if ctx.index.has_unstable_ids(target):
        return None  # an id comes from a shortcode: heading-id-unstable says so there
    close = ctx.index.close_anchors(target, fragment)
    suggestion = close[0] if close else None
    fix = None
    at = link.target.find("#")
    if len(close) == 1 and at >= 0 and link.kind in ("inline", "image") and link.column >= 1:
        path = link.target[:at]
        where = f"]({path}|](<{path}"  # (the fragment follows the link's own path)
        edit = Edit(link.line, link.column - 1 + at, link.target[at:], f"#{close[0]}", after=where)
        fix = Fix((edit,), False)
    if not res.same_page:
        # The site path the link names (the page's URL, or an alias of it): what
        # the author wrote, and what stays the same when the page moves.
        where = normalize_url(res.url) if res.url else target.url
    elif ctx.page.snippet:
        where = f"{target.url}, the page that includes this file"
    else:
        where = "this page"
    return Problem(
        link.line,
        link.column,
        f"no anchor #{fragment} on {where}",
        suggestion=f"#{suggestion}" if suggestion else None,
        target=f"{target.url}#{fragment}",
        fix=fix,
    )


@register(
    "heading-id-unstable",
    "warning",
    "A heading whose id depends on a shortcode, on a page other pages link into.",
)
def heading_id_unstable(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports a heading whose text holds a shortcode call and
    that has no `{#id}` of its own, when other pages link to this page with a
    fragment that no heading the linter can see makes. Hugo makes that
    heading's id from the shortcode's output, which the linter cannot know:
    the links are not reported as missing anchors (they may well work), this
    heading is, once, naming the fragments.

    **Why.** An id that depends on a shortcode's output changes when the
    output does (a version number, a product name), silently breaking every
    link to it; and no linter can check those links.

    **Example (bad).** `/handbook/releases/#hugo-0150` links here:

    ```markdown
    ## Hugo {{< param "hugoVersion" >}}
    ```

    **Use instead.**

    ```markdown
    ## Hugo {{< param "hugoVersion" >}} {#current-hugo}
    ```
    """
    if ctx.page.snippet or not ctx.index.has_unstable_ids(ctx.page):
        return
    unknown = set(ctx.index.incoming_fragments(ctx.page)) - ctx.index.anchors(ctx.page)
    if not unknown:
        return
    shown = ", ".join(f"#{f}" for f in sorted(unknown)[:5])
    if len(unknown) > 5:
        shown += f" and {len(unknown) - 5} more"
    for heading in ctx.facts.headings:
        if heading.unstable and not heading.explicit:
            yield Problem(
                heading.line,
                1,
                "the id of this heading comes from a shortcode's output, which the linter "
                f"cannot know, and other pages link here to {shown}: give it an id of its "
                "own ({#id})",
            )


@register(
    "link-unverifiable",
    "warning",
    "A link into content mounted from a source missing here, or into another language.",
    enabled=False,
    counted=True,
)
def link_unverifiable(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports a link that lands on no page the linter knows
    but points into a part of the site Hugo mounts from a source this checkout
    does not hold: a git submodule not checked out, a folder a build step
    generates (the site's `module.mounts`, or the config's `content_mounts`);
    or into another language of a multilingual site (`/fr/...` from the
    English pages: the run lints one language). Whether such a link works
    cannot be known here. The rule is off by
    default: the run then ends with one line saying how many links it could
    not verify and why. Turn it on (`rules: {link-unverifiable: warning}` in
    the config) to list them, for example in a job that checks the
    submodules out first, where every one of them is worth a look.

    **Why.** Calling these links broken would be a false alarm on every
    checkout without the submodules; passing them silently would hide that
    nothing checked them.

    **Example (bad).** With `tmp/otel/specification` (mounted at
    `docs/specs/otel`) missing:

    ```markdown
    See the [specification](/docs/specs/otel/overview/).
    ```

    **Use instead.** Check the submodule out (`git submodule update --init`)
    and lint again: the link is then checked like any other.

    ```markdown
    See the [specification](/docs/specs/otel/overview/).
    ```
    """
    for link, places in resolutions(ctx, []):
        found = [(where, _unverifiable(link, res)) for where, res in places]
        problem = merged(ctx, found)
        if problem is not None:
            yield problem


def _unverifiable(link: Link, res: Resolution) -> Problem | None:
    if res.kind != "unverifiable":
        return None
    shown = link.target.split("#", 1)[0]
    return Problem(
        link.line, link.column, f"link to {shown!r} cannot be verified: {res.why}", target=res.url
    )


@register(
    "link-redirected",
    "info",
    "A link that reaches its page through one of the site's redirects.",
    options={"aliases": False},
    option_docs={
        "aliases": "also report links to a page's `aliases` (each alias is a redirect page "
        "Hugo writes)"
    },
    fix="safe: replaces a root-relative destination (`/old/`) with the page's own URL, "
    "keeping the fragment",
)
def link_redirected(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports a link whose destination is the source of a
    redirect the site serves (a line of `static/_redirects` or of a template
    that renders it, such as the GitLab handbook's `layouts/index.redirects`;
    the files are the config's `redirects`), and with `aliases: true` a link
    to an alias of a page. The link works; the suggestion is where it ends up.

    **Why.** Each redirect is a hop for the reader and a line someone must
    keep: links that name the page itself survive the redirect list being
    cleaned up.

    **Example (bad).** With `/handbook/old-values/ /handbook/values/ 301` in
    `static/_redirects`:

    ```markdown
    Read our [values](/handbook/old-values/).
    ```

    **Use instead.**

    ```markdown
    Read our [values](/handbook/values/).
    ```
    """
    for link, places in resolutions(ctx, []):
        found = [(where, _redirected(link, res, options["aliases"])) for where, res in places]
        problem = merged(ctx, found)
        if problem is not None:
            yield problem


def _redirected(link: Link, res: Resolution, aliases: bool) -> Problem | None:
    if res.kind != "ok" or (res.redirect is None and not (aliases and res.via_alias)):
        return None
    landed = res.page.url if res.page is not None else None
    fragment = f"#{res.fragment}" if res.fragment else ""
    shown = link.target.split("#", 1)[0]
    if res.redirect is not None:
        where = f"{res.redirect.file}:{res.redirect.line}"
        to = landed or res.redirect.target
        message = f"link to {shown!r} is redirected to {to} ({where})"
    else:
        message = f"link to {shown!r} goes through an alias of {landed}"
    return Problem(
        link.line,
        link.column,
        message,
        suggestion=f"{landed}{fragment}" if landed else None,
        fix=_destination_fix(link, shown, landed, safe=True)
        if landed and shown.startswith("/") and not shown.startswith("//") and "?" not in shown
        else None,
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
    includes; in an include file, when the pages that include it do not
    define it either. Footnotes (`[^1]`) and shortcodes are not references.

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
    # Included Markdown is rendered into the page: its definitions count, and a
    # snippet may use those of the pages that include it.
    includers = ctx.index.includers(ctx.path) if ctx.page.snippet else []
    where = "in this file or the page that includes it" if includers else "on this page"
    contexts = [(page, _definitions(ctx, page.path)) for page in includers] or [
        (ctx.page, {label for f in ctx.included_facts() for label in f.ref_definitions})
    ]
    for label, line, column in ctx.facts.undefined_refs:
        key = normalize_label(label)
        problem = Problem(line, column, f"reference [{label}] has no definition {where}")
        found = merged(ctx, [(page, None if key in defs else problem) for page, defs in contexts])
        if found is not None:
            yield found


def _definitions(ctx: PageContext, path: str) -> set[str]:
    """Reference labels defined in a page and the files it includes."""
    out: set[str] = set()
    for name in (path, *ctx.index.included(path)):
        facts = ctx.facts_of(name)
        if facts is not None:
            out.update(facts.ref_definitions)
    return out


@register(
    "link-reference-unused",
    "warning",
    "A link reference definition that no link uses.",
    fix="safe: removes the definition when it stands alone on its line",
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
    code = [(b.line, b.end_line) for b in ctx.facts.blocks if b.kind in ("fence", "code", "html")]
    for label, (_, line) in sorted(ctx.facts.ref_definitions.items(), key=lambda kv: kv[1][1]):
        if label not in used:
            text = ctx.facts.single_line_definitions.get(label)
            fix = None
            if text is not None and not any(a <= line <= b for a, b in code):
                fix = Fix((Edit(line, 0, text, "", whole_line=True),))
            yield Problem(
                line or 1, 1, f"reference definition [{label.lower()}] is not used", fix=fix
            )
