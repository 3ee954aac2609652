"""What checking an external link comes to: a result per URL, and the cache warning."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from handbook_lint.external.settings import (
    BROKEN,
    OK,
    RATE_LIMITED,
    REDIRECT,
)

log = logging.getLogger(__name__)


OFFLINE_DETAIL = "no network: no host could be reached"


_GOOD = frozenset({OK, REDIRECT})  # cached for ok_ttl


_BAD = frozenset({BROKEN, RATE_LIMITED})  # cached for fail_ttl


_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


_PERMANENT_CODES = frozenset({301, 308})


_HEAD_REFUSED = frozenset({403, 405, 501})  # try GET after these answers to HEAD


_GET_ONLY_HINTS = frozenset({405, 501})  # ... and use GET right away for that host afterwards


_FAST_FAIL_HOSTS = 3  # nothing answered yet and this many hosts failed: stop retrying


_OFFLINE_HOSTS = 8  # nothing answered and this many hosts (or all) failed: offline


_CACHE_BATCH = 256


_CACHE_FLUSH_SECONDS = 5.0


class ExternalCacheWarning(UserWarning):
    """The link cache could not be used as is (corrupt, locked, unwritable)."""


@dataclass(frozen=True)
class ExternalResult:
    """The verdict on one URL."""

    url: str
    status: str  # OK, BROKEN, REDIRECT, RATE_LIMITED, SKIPPED, EXCLUDED or UNREACHABLE
    code: int | None  # final HTTP status when there was one
    detail: str  # human text, e.g. "404 Not Found", "DNS lookup failed"
    new_url: str | None = None  # for "redirect": where the permanent redirects lead
    from_cache: bool = False
