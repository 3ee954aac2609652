"""Hosts of URLs: host:port keys for scheduling and limits, IDNA names."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _host_port(parts: SplitResult) -> tuple[str, int]:
    """(host name, port) of a URL, the port by its scheme when none is given
    (ValueError for a bad port)."""
    return parts.hostname or "", parts.port or _default_port(parts.scheme.lower())


def _host_key(url: str) -> str:
    """ "host:port" for scheduling and limits ("" when the URL has no usable host)."""
    try:
        host, port = _host_port(urlsplit(url))
    except ValueError:
        return ""
    return f"{host}:{port}" if host else ""


def _strip_fragment(url: str) -> tuple[str, str]:
    url = url.strip()
    base, sep, fragment = url.partition("#")
    return base, fragment if sep else ""


def _ascii_host(host: str) -> str:
    if host.isascii():
        return host
    import idna

    return str(idna.encode(host, uts46=True).decode("ascii"))
