"""External links: verdicts of the run's URL check, reported at every linking place.

The URLs are checked once per run, before the page checks (see external/run.py);
these rules only look their verdicts up. Without `--external` (or
`external.enabled: true`) they do not run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from handbook_lint.checks.context import PageContext
from handbook_lint.checks.registry import Problem, register
from handbook_lint.external.settings import BROKEN, RATE_LIMITED, REDIRECT, SKIPPED
from handbook_lint.external.urls import external_links
from handbook_lint.parsing.facts import Link

if TYPE_CHECKING:
    from handbook_lint.external.results import ExternalResult


def _verdicts(ctx: PageContext, status: str) -> Iterator[tuple[Link, str, ExternalResult]]:
    results = ctx.external
    if not results:
        return
    links = ctx.shared.get("external_links")
    if links is None:  # found once per page for the four rules
        links = ctx.shared["external_links"] = external_links(ctx.facts, ctx.site.config.base_url)
    for link, url in links:
        result = results.get(url)
        if result is not None and result.status == status:
            yield link, url, result


@register(
    "link-external-broken",
    "error",
    "An external link answers 404/410, has no DNS entry, refuses connections or keeps failing.",
    external=True,
)
def link_external_broken(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** With `--external` (or `external.enabled: true` in the
    config), every distinct `http(s)` URL the site links to is requested once
    per run (HEAD, then GET without reading the body when HEAD is refused), and
    each link to a URL that is gone is reported where it stands: a 4xx or 5xx
    answer (after retries with backoff for 5xx), a host name that does not
    resolve, a refused or timed-out connection, or a redirect loop. Status
    codes listed in `external.accept` count as fine; URLs matching
    `external.exclude` are not requested. When no host at all can be reached
    (no network), nothing is reported and one warning says so: being offline
    is not link rot. Time is bounded: one request gets `request_timeout`
    seconds once connected (a server that sends a byte a second is cut off),
    a HEAD that times out is tried once as a GET (a link whose GET times out
    too is broken), a host with `host_timeouts` links in a row timed out is
    given up (its other links are "unchecked": one warning, no finding), and
    `time_budget` ends the whole pass, what is left unchecked.

    **Why.** Outside pages move and vanish; readers hit the 404, not the author.

    **Example (bad).**

    ```markdown
    See the [release post](https://about.example.com/blog/2019/removed-post/).
    ```

    **Use instead.**

    ```markdown
    See the [release post](https://about.example.com/blog/2019/release-post/).
    ```
    """
    for link, url, result in _verdicts(ctx, BROKEN):
        yield Problem(link.line, link.column, f"external link {url} is broken: {result.detail}")


@register(
    "link-external-redirect",
    "info",
    "An external link is permanently redirected (301/308); the suggestion is the new URL.",
    external=True,
)
def link_external_redirect(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports an external link whose every redirect is
    permanent (301 or 308), with the URL the chain ends at as the suggestion
    (the link's `#fragment` is kept). Temporary redirects (302, 303, 307) are
    fine: the old URL is still the one to use.

    **Why.** A permanent redirect says the page has a new address; old ones
    tend to break when the site is reorganised again.

    **Example (bad).**

    ```markdown
    [Runbooks](http://gitlab.com/gitlab-com/runbooks)
    ```

    **Use instead.**

    ```markdown
    [Runbooks](https://gitlab.com/gitlab-com/runbooks)
    ```
    """
    for link, url, result in _verdicts(ctx, REDIRECT):
        yield Problem(
            link.line,
            link.column,
            f"external link {url} has moved: {result.detail}",
            suggestion=result.new_url,
        )


@register(
    "link-external-rate-limited",
    "warning",
    "An external host kept answering 429 or asked to wait too long: the link was not checked.",
    external=True,
)
def link_external_rate_limited(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** A host that answers `429 Too Many Requests` (or `503`
    with `Retry-After`) is waited for when it asks for at most
    `external.max_retry_after` seconds (default 10), and retried with backoff
    when it gives no `Retry-After`; when it asks for longer, or keeps refusing,
    the link is reported here as not checked. It is a
    warning, not a broken link: the page may well be there. Lower
    `external.per_host` or raise `external.min_delay` for that host's sake.

    **Why.** Reporting rate limits as dead links is the classic false alarm
    of link checkers; hiding them would hide that a link went unchecked.

    **Example (bad).**

    ```markdown
    [Issue 1](https://tracker.example.com/issues/1) <!-- the host answers 429 -->
    ```

    **Use instead.**

    ```markdown
    [Issue 1](https://tracker.example.com/issues/1) <!-- checked when the host allows -->
    ```
    """
    for link, url, result in _verdicts(ctx, RATE_LIMITED):
        yield Problem(link.line, link.column, f"external link {url} not checked: {result.detail}")


@register(
    "link-external-skipped",
    "info",
    "An external link points at a loopback, private or link-local address and was not requested.",
    external=True,
)
def link_external_skipped(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** By default no request goes to a loopback, private
    (RFC 1918), link-local (169.254.0.0/16, where cloud metadata lives),
    unique-local IPv6 or other non-public address, checked on the address the
    host name resolves to (and again after every redirect). Links to such
    addresses are reported here as skipped. `--external-allow-private` (or
    `external.allow_private: true`) allows them.

    **Why.** A merge request must not be able to make CI probe the network it
    runs in.

    **Example (bad).**

    ```markdown
    Open the [local preview](http://127.0.0.1:1313/handbook/).
    ```

    **Use instead.**

    ```markdown
    Open the local preview at `http://127.0.0.1:1313/handbook/`.
    ```
    """
    for link, url, result in _verdicts(ctx, SKIPPED):
        yield Problem(link.line, link.column, f"external link {url}: {result.detail}")
