"""The `external:` section of the config: validated into ExternalSettings.

external:
  enabled: false          # true: check external links without --external
  jobs: 16                # threads (--external-jobs)
  per_host: 2             # connections to one host at once
  min_delay: 0            # seconds between request starts to one host
  connect_timeout: 5
  read_timeout: 10        # longest wait for the next bytes of an answer
  request_timeout: 20     # one request once connected: TLS and the answer's head
  host_timeouts: 3        # this many links in a row timed out: the host's others go unchecked
  time_budget: 0          # seconds for the whole pass (0: none); what is left goes unchecked
  retries: 2              # for 5xx and connection errors, with backoff
  max_redirects: 10
  max_retry_after: 10     # honour Retry-After up to this many seconds
  accept: [403]           # extra status codes that mean "fine"
  exclude: ['^https://example\\.com/']   # regexes of URLs not to check
  headers:                # per host (sent over https only) or host:port (any scheme);
    gitlab.com: {PRIVATE-TOKEN: "${GITLAB_TOKEN}"}   # ${VAR} reads the environment
  allow_private: false    # true: also loopback / private addresses
  user_agent: "..."
  ok_ttl: 86400           # cache: trust a good result this long (seconds)
  fail_ttl: 3600          # cache: check a failure again after this long
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from handbook_lint import __version__

# The verdicts on a URL (ExternalResult.status), here so that the rules can name
# them without importing the HTTP machinery.
OK = "ok"
BROKEN = "broken"
REDIRECT = "redirect"
RATE_LIMITED = "rate-limited"
SKIPPED = "skipped"
EXCLUDED = "excluded"
UNREACHABLE = "unreachable"
UNCHECKED = "unchecked"  # not requested: its host stopped answering, or time ran out


@dataclass(frozen=True)
class ExternalSettings:
    """How to check external links (see handbook_lint.external.scheduler.check_urls)."""

    jobs: int = 16  # thread pool size
    per_host: int = 2  # max concurrent connections per host
    min_delay: float = 0.0  # minimum seconds between request starts to one host
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    request_timeout: float = 20.0  # one request once connected: TLS, status line, headers
    host_timeouts: int = 3  # links in a row timed out, after which a host is given up
    time_budget: float = 0.0  # the whole pass, seconds (0: no budget)
    retries: int = 2  # retries with backoff for 5xx and connection errors
    backoff: float = 0.5  # base seconds, exponential
    max_redirects: int = 10
    max_retry_after: float = 10.0  # honour Retry-After on 429/503 up to this many seconds
    accept: tuple[int, ...] = ()  # extra status codes treated as fine (e.g. 403)
    exclude: tuple[str, ...] = ()  # regexes: matching URLs are not checked
    # host (or host:port) -> headers; values may use "${ENV_VAR}". Kept out of repr.
    headers: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, hash=False)
    allow_private: bool = False  # allow loopback/private/link-local/unique-local targets
    user_agent: str = f"handbook-lint/{__version__} (+link checker)"
    ok_ttl: float = 86400.0  # cache: trust a good result this long
    fail_ttl: float = 3600.0  # cache: retry a failure after this long

    def check(self) -> list[re.Pattern[str]]:
        """Validate the settings (the one place: the config's `external:` and a
        direct caller of `check_urls` both come here); the `exclude` regexes,
        compiled. Raises ExternalConfigError, naming the key."""
        for key, (_, minimum, meaning) in _NUMBERS.items():
            value = getattr(self, key)
            if not math.isfinite(value):
                raise ExternalConfigError(f"'external.{key}' must be a finite number")
            if value < minimum:
                raise ExternalConfigError(f"'external.{key}' must be {meaning}")
        patterns = []
        for pattern in self.exclude:
            try:
                patterns.append(re.compile(pattern))
            except re.error as exc:
                raise ExternalConfigError(
                    f"'external.exclude': invalid regex {pattern!r}: {exc}"
                ) from None
        return patterns


class ExternalConfigError(ValueError):
    """A bad `external:` setting; the message names the key."""


_NUMBERS: dict[str, tuple[type, float, str]] = {
    # key: (int or float, minimum, what the minimum means)
    "jobs": (int, 1, "at least 1"),
    "per_host": (int, 1, "at least 1"),
    "retries": (int, 0, "0 or more"),
    "max_redirects": (int, 0, "0 or more"),
    "min_delay": (float, 0, "0 or more"),
    "backoff": (float, 0, "0 or more"),
    "max_retry_after": (float, 0, "0 or more"),
    "ok_ttl": (float, 0, "0 or more"),
    "fail_ttl": (float, 0, "0 or more"),
    "connect_timeout": (float, 0.001, "positive"),
    "read_timeout": (float, 0.001, "positive"),
    "request_timeout": (float, 0.001, "positive"),
    "host_timeouts": (int, 1, "at least 1"),
    "time_budget": (float, 0, "0 (no budget) or more"),
}
KEYS = sorted([*_NUMBERS, "enabled", "accept", "exclude", "headers", "allow_private", "user_agent"])


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _header_text(text: str) -> bool:
    """Can `text` be sent as an HTTP header value?"""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return not any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in text)


def _number(key: str, value: object) -> int | float:
    kind, _, _ = _NUMBERS[key]
    ok = isinstance(value, int) if kind is int else isinstance(value, int | float)
    if isinstance(value, bool) or not ok:
        noun = "a whole number" if kind is int else "a number"
        raise ExternalConfigError(f"'external.{key}' must be {noun}")
    assert isinstance(value, int | float)
    return value  # (its range: ExternalSettings.check)


def _headers(value: object) -> dict[str, dict[str, str]]:
    message = "'external.headers' must map a host to a mapping of header names to text"
    if not isinstance(value, dict):
        raise ExternalConfigError(message)
    out: dict[str, dict[str, str]] = {}
    for host, headers in value.items():
        if not isinstance(host, str) or not isinstance(headers, dict):
            raise ExternalConfigError(message)
        for name, text in headers.items():
            where = f"'external.headers.{host}.{name}'"
            if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
                raise ExternalConfigError(f"{where}: not a valid HTTP header name")
            if not isinstance(text, str) or not _header_text(text):
                raise ExternalConfigError(
                    f"{where}: the value must be text without control characters "
                    "(Latin-1, as HTTP headers are)"
                )
        out[host] = dict(headers)
    return out


def parse_external(raw: dict[str, Any]) -> tuple[bool, ExternalSettings]:
    """(enabled, settings) from the `external:` mapping; a clear error for a bad key."""
    settings = ExternalSettings()
    enabled = False
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _NUMBERS:
            changes[key] = _number(key, value)
        elif key in ("enabled", "allow_private"):
            if not isinstance(value, bool):
                raise ExternalConfigError(f"'external.{key}' must be true or false")
            if key == "enabled":
                enabled = value
            else:
                changes[key] = value
        elif key == "accept":
            if not isinstance(value, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) and 100 <= v <= 599 for v in value
            ):
                raise ExternalConfigError("'external.accept' must be a list of HTTP status codes")
            changes[key] = tuple(value)
        elif key == "exclude":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ExternalConfigError("'external.exclude' must be a list of regexes")
            changes[key] = tuple(value)
        elif key == "headers":
            changes[key] = _headers(value)
        elif key == "user_agent":
            if not isinstance(value, str) or not value.strip() or not _header_text(value):
                raise ExternalConfigError(
                    "'external.user_agent' must be non-empty text without control characters"
                )
            changes[key] = value
        else:
            raise ExternalConfigError(
                f"unknown key 'external.{key}' (known keys: {', '.join(KEYS)})"
            )
    settings = replace(settings, **changes)
    settings.check()
    return enabled, settings
