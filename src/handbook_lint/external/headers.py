"""Per-host extra headers (tokens): sent to that host only, never to a redirect
target, never over plain http after an https hop, never into results or logs."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand(value: str) -> str | None:
    """`value` with ${NAME} replaced from the environment; None when a variable is
    unset or empty (the header is then not sent) or the result is not a valid value."""
    missing = False

    def sub(match: re.Match[str]) -> str:
        nonlocal missing
        found = os.environ.get(match.group(1))
        if not found:
            missing = True
            return ""
        return found

    out = _ENV_REF.sub(sub, value)
    if missing or any(c in out for c in "\r\n\0"):
        return None
    try:
        out.encode("latin-1")  # what HTTP/1.1 header values can carry
    except UnicodeEncodeError:
        return None
    return out


def _normalise_header_rules(
    headers: dict[str, dict[str, str]],
) -> dict[str, dict[str, str]]:
    rules: dict[str, dict[str, str]] = {}
    for host, values in headers.items():
        key = host.strip().lower().rstrip(".")
        if "://" in key:
            key = urlsplit(key).netloc
        rules.setdefault(key, {}).update(values)
    return rules
