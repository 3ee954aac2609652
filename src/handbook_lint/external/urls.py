"""Which links of a page leave the site, and as which http(s) URL: what the
external pass checks and what the `link-external-*` rules look up."""

from __future__ import annotations

import re

from handbook_lint.parsing.facts import CHECKED_KINDS, Link, PageFacts
from handbook_lint.site.resolve import on_site, templated

EXTERNAL_KINDS = CHECKED_KINDS - {"ref", "relref"}  # links that can leave the site
_HTTP_RE = re.compile(r"^(?:https?:)?//[^/\s]", re.IGNORECASE)


def external_url(link: Link, base_url: str) -> str | None:
    """The http(s) URL a link points at outside the site, or None."""
    if link.kind not in EXTERNAL_KINDS:
        return None
    target = link.target.strip()
    if not _HTTP_RE.match(target) or templated(target):
        return None
    if any(c.isspace() for c in target):
        return None  # not a URL a browser would follow as written
    if target.startswith("//"):
        target = "https:" + target
    if on_site(target, base_url) is not None:
        return None  # the site's own pages: the internal link rules check them
    return target


def external_links(facts: PageFacts, base_url: str) -> list[tuple[Link, str]]:
    """The page's links that leave the site, with their URLs."""
    found = []
    for link in facts.links:
        url = external_url(link, base_url)
        if url is not None:
            found.append((link, url))
    return found
