"""Rules of a change: what moving, renaming or deleting pages does to the URLs
people and other sites already use. They run only when a change is linted
(`--staged`, `--diff-base`): a full run has no "before"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from handbook_lint.checks.context import ChangeContext
from handbook_lint.checks.registry import Problem, register
from handbook_lint.site.model import Page, normalize_url


@register(
    "page-url-lost",
    "warning",
    "A change moves or deletes a page, and nothing serves its old URL any more.",
    scope="change",
)
def page_url_lost(ctx: ChangeContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** In a merge request or a commit, reports a page whose URL
    (or one of its aliases) worked before the change and leads nowhere after
    it: the page was renamed, moved or deleted, its `url` or `slug` changed,
    or an alias was taken out, and no other page, alias or redirect serves
    the old address. A moved page is reported at its new file (the
    `aliases` key, else its front matter); a deleted page at the site's
    redirects file when it has one. A redirect that pointed at the old URL
    is reported too, at its line. Links inside the site to the old URL are
    `link-broken` findings of the change, which say what moved.

    **Why.** Bookmarks, search engines, issues, Slack messages and other
    sites link to handbook pages by URL; moving a page without keeping its
    old URL breaks all of them, silently.

    **Example (bad).** `content/handbook/values.md` renamed to
    `content/handbook/company/values.md` with no alias.

    **Use instead.** Keep the old URL with an alias in the moved page's front
    matter:

    ```yaml
    aliases:
      - /handbook/values/
    ```

    or a line in the redirects file: `/handbook/values/ /handbook/company/values/ 301`.
    """
    changes = ctx.changes
    redirects_file = next((r for r in ctx.now.config.redirects if ctx.now.exists(r)), None)
    lost_urls: set[str] = set()
    index = ctx.now_index
    # (most URLs are a page's as written: what lookup finds first, without its
    # decoding and candidates; every page of the site is looked at)
    plain, lookup = index.plain_urls(), index.lookup
    losing: list[tuple[str, Page, list[str]]] = []
    for old_path, was in ctx.before.pages.items():
        if was.snippet or not was.url:
            continue
        if was.url in plain and not was.aliases:
            continue
        lost = [u for u in (was.url, *was.aliases) if u not in plain and lookup(u) is None]
        if lost:
            losing.append((old_path, was, lost))
    for old_path, was, lost in sorted(losing, key=lambda found: found[0]):
        lost_urls.update(normalize_url(u.lower()) for u in lost)
        new_path = changes.renamed.get(old_path, old_path)
        page = ctx.now.pages.get(new_path) if old_path not in changes.deleted else None
        shown = ", ".join(lost)
        if page is not None and not page.snippet:
            facts = ctx.load(new_path)
            fm = facts.front_matter if facts is not None else None
            line = 1
            if fm is not None:
                key = next((k for k in fm.key_lines if k.lower() == "aliases"), None)
                line = (fm.key_lines[key] if key else fm.start_line) or 1
            if new_path != old_path:
                what = f"this change moves the page from {changes.repo_path(old_path)}"
            elif was.url not in lost:
                what = "this change takes an alias out of the page"
            else:
                what = "this change changes the page's URL"
            yield Problem(
                line,
                0,
                f"{what}, and nothing serves {shown} any more: add it to the page's "
                "aliases, or a redirect",
                path=new_path,
            )
        else:
            why = "deletes" if old_path in changes.deleted or page is None else "unpublishes"
            if page is not None and page.snippet:
                why = "stops rendering"
            at = redirects_file or old_path
            line = _line_count(ctx, redirects_file) if redirects_file else 1
            yield Problem(
                line,
                0,
                f"this change {why} {changes.repo_path(old_path)}, and nothing serves {shown} "
                "any more: add a redirect to the page that replaces it",
                path=at,
            )
    if not lost_urls:
        return
    for redirect in ctx.now_index.redirects.exact.values():
        target = redirect.target.split("#", 1)[0].split("?", 1)[0]
        if not target.startswith("/") or normalize_url(target.lower()) not in lost_urls:
            continue
        yield Problem(
            redirect.line,
            0,
            f"this redirect leads to {target}, which this change moved or deleted",
            path=redirect.file,
        )


def _line_count(ctx: ChangeContext, path: str) -> int:
    text = ctx.now.read_text(path)
    return max(1, len(text.splitlines())) if text is not None else 1
