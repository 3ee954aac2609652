"""External link checking engine.

`check_urls` checks a set of absolute http(s) URLs concurrently and politely:

* each distinct URL is requested once per run (fragments are ignored: `page#a` and
  `page#b` cost one request), and a SQLite cache carries results across runs;
* at most `per_host` requests are in flight to one host (host = name + port), with an
  optional minimum delay between request starts; the scheduler only hands a worker a
  URL whose host has a free slot, so a site with many links to one host does not
  starve the others;
* `HEAD` first, `GET` (streamed, body never read) when the server refuses `HEAD`;
  redirects are followed by hand so that every hop is vetted;
* 429/503 with a short `Retry-After` are waited for, 5xx / connection errors /
  timeouts are retried with exponential backoff, and a host that cannot be reached
  at all is not retried for every one of its URLs;
* no request goes to a loopback, private, link-local, unique-local, unspecified or
  multicast address unless `allow_private` is set: the host is resolved and vetted
  before connecting, and the peer address of every new connection is vetted again
  (which also defeats DNS rebinding);
* per-host extra headers (tokens) go to that host only, never to a redirect target,
  never over plain http after an https hop, and never into results or logs;
* when nothing at all could be reached, network-level failures come back as
  "unreachable" rather than "broken", so a linter can tell "offline" from "dead links".

The linter rule and the command line are built on top of this module.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http
import ipaddress
import logging
import os
import re
import socket
import sqlite3
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import RemoteDisconnected
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from handbook_lint.cache.sqlite import connect, move_aside
from handbook_lint.external.settings import (
    BROKEN,
    EXCLUDED,
    OK,
    RATE_LIMITED,
    REDIRECT,
    SKIPPED,
    UNREACHABLE,
    ExternalSettings,
)

__all__ = [
    "BROKEN",
    "EXCLUDED",
    "OK",
    "RATE_LIMITED",
    "REDIRECT",
    "SKIPPED",
    "UNREACHABLE",
    "ExternalCacheWarning",
    "ExternalResult",
    "ExternalSettings",
    "check_urls",
]

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


# --------------------------------------------------------------------------- #
# Outcomes (internal)


@dataclass(frozen=True)
class _Outcome:
    status: str
    code: int | None
    detail: str
    new_url: str | None = None
    network: bool = False  # DNS failure, refused / failed / timed-out connect: host not reached
    cacheable: bool = True  # False for our own failures (an exception while checking)


@dataclass(frozen=True)
class _Reply:
    code: int
    reason: str
    location: str | None
    retry_after: str | None


@dataclass(frozen=True)
class _NetFailure:
    detail: str
    retry: bool  # worth another attempt
    connect: bool  # no connection to the host at all (memoised for the run; offline sign)


def _reason(code: int, reason: str | None) -> str:
    if reason:
        return reason
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return ""


def _status_text(code: int, reason: str) -> str:
    return f"{code} {reason}".strip()


def _attempts(detail: str, attempts: int) -> str:
    return f"{detail} after {attempts} attempts" if attempts > 1 else detail


# --------------------------------------------------------------------------- #
# Address policy (SSRF)

_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _ip_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL:
        return "unique-local"
    if ip.is_private or ip.is_reserved or not ip.is_global:
        return "private"
    return None


def _blocked_reason(address: str) -> str | None:
    """Why `address` must not be contacted ("loopback address 127.0.0.1"), or None."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"unrecognised address {address}"
    kind = _ip_kind(ip)
    if isinstance(ip, ipaddress.IPv6Address):  # an IPv4 address in IPv6 clothing
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            kind = _ip_kind(embedded) or kind
    return f"{kind} address {address}" if kind else None


def _resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (raises OSError / UnicodeError on failure)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _BlockedAddressError(Exception):
    """A new connection reached an address the policy forbids (raised past urllib3)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _vet_socket(sock: socket.socket) -> None:
    try:
        peer = str(sock.getpeername()[0])
    except OSError:
        return  # not connected after all: the request fails by itself
    reason = _blocked_reason(peer)
    if reason is not None:
        sock.close()
        raise _BlockedAddressError(reason)


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _vet_socket(sock)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _vet_socket(sock)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    """An adapter whose connections refuse to talk to forbidden peer addresses."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


# --------------------------------------------------------------------------- #
# Exceptions -> failures


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(chain) < 32:
        cur = todo.pop()
        if any(cur is seen for seen in chain):
            continue
        chain.append(cur)
        todo.extend(arg for arg in cur.args if isinstance(arg, BaseException))
        reason = getattr(cur, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
        for linked in (cur.__cause__, cur.__context__):
            if linked is not None:
                todo.append(linked)
    return chain


_ERRNO_TEXT = {
    errno.ECONNREFUSED: "connection refused",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETDOWN: "network down",
    errno.EADDRNOTAVAIL: "address not available",
}


def _classify(exc: requests.RequestException) -> _NetFailure | _Outcome:
    """A network-level failure (to retry or report), or a final non-network outcome."""
    chain = _exception_chain(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        detail = "TLS error"
        for e in chain:
            verify = getattr(e, "verify_message", None)
            if verify:
                detail = f"TLS certificate verification failed: {verify}"
                break
        return _Outcome(BROKEN, None, detail)
    if isinstance(exc, requests.exceptions.ConnectionError):
        if any(isinstance(e, (NameResolutionError, socket.gaierror)) for e in chain):
            return _NetFailure("DNS lookup failed", retry=False, connect=True)
        for e in chain:
            if isinstance(e, OSError) and e.errno in _ERRNO_TEXT:
                return _NetFailure(_ERRNO_TEXT[e.errno], retry=True, connect=True)
        if isinstance(exc, requests.exceptions.ConnectTimeout) or any(
            isinstance(e, ConnectTimeoutError) and not isinstance(e, NewConnectionError)
            for e in chain
        ):
            return _NetFailure("connect timed out", retry=True, connect=True)
        if any(isinstance(e, (ReadTimeoutError, TimeoutError)) for e in chain):
            return _NetFailure("timed out", retry=True, connect=False)
        if any(isinstance(e, RemoteDisconnected) for e in chain):
            return _NetFailure("connection closed by server", retry=True, connect=False)
        if any(isinstance(e, ConnectionResetError) for e in chain):
            return _NetFailure("connection reset", retry=True, connect=False)
        return _NetFailure("connection error", retry=True, connect=False)
    if isinstance(exc, requests.exceptions.Timeout):
        return _NetFailure("timed out", retry=True, connect=False)
    if isinstance(exc, requests.exceptions.InvalidHeader):
        # requests quotes the offending value: never pass it on (it may be a token)
        return _Outcome(BROKEN, None, "invalid header value configured for this host")
    if isinstance(
        exc,
        (
            requests.exceptions.InvalidURL,
            requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema,
            requests.exceptions.URLRequired,
        ),
    ):
        return _Outcome(BROKEN, None, "invalid URL")
    return _Outcome(BROKEN, None, f"request failed ({type(exc).__name__})")


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait per a Retry-After header (delta-seconds or HTTP date), as
    urllib3 reads it; None when there is none or it does not parse."""
    if not value or not value.strip():
        return None
    try:
        return float(_RETRY.parse_retry_after(value.strip()))
    except InvalidHeader:
        return None


_RETRY = Retry(0)  # only its Retry-After parser


# --------------------------------------------------------------------------- #
# Headers


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


# --------------------------------------------------------------------------- #
# Per-host limits


class _HostLimiter:
    """At most `per_host` requests in flight per host, starts `min_delay` apart, and
    a host-wide pause after the host asked us to slow down."""

    def __init__(self, per_host: int, min_delay: float, stop: threading.Event) -> None:
        self._per_host = per_host
        self._min_delay = min_delay
        self._stop = stop
        self._lock = threading.Lock()
        self._sems: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    def _semaphore(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            sem = self._sems.get(host)
            if sem is None:
                sem = self._sems[host] = threading.BoundedSemaphore(self._per_host)
            return sem

    @contextlib.contextmanager
    def slot(self, host: str) -> Iterator[None]:
        sem = self._semaphore(host)
        sem.acquire()
        try:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start.get(host, 0.0))
                self._next_start[host] = start + self._min_delay
            if start > now:
                self._stop.wait(start - now)
            yield
        finally:
            sem.release()

    def hold_off(self, host: str, seconds: float) -> None:
        with self._lock:
            until = time.monotonic() + seconds
            self._next_start[host] = max(self._next_start.get(host, 0.0), until)


# --------------------------------------------------------------------------- #
# URLs


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


# --------------------------------------------------------------------------- #
# The checker


class _Checker:
    """Checks URLs from worker threads; shared state for one run of check_urls."""

    def __init__(self, settings: ExternalSettings) -> None:
        self.settings = settings
        self.stop = threading.Event()
        self.limiter = _HostLimiter(settings.per_host, settings.min_delay, self.stop)
        # Expanded once: the environment does not change during a run.
        self.header_rules = {
            key: {name: text for name, raw in values.items() if (text := _expand(raw)) is not None}
            for key, values in _normalise_header_rules(settings.headers).items()
        }
        self.timeout = (settings.connect_timeout, settings.read_timeout)
        self.accept = frozenset(settings.accept)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: list[requests.Session] = []
        self._reached = False  # some host was connected to (answered, or failed later)
        self._failed_hosts: set[str] = set()  # hosts with network-level failures
        self._down: dict[str, _Outcome] = {}  # host -> how connecting to it failed
        self._limited: dict[str, tuple[float, _Outcome]] = {}  # host -> (until, outcome)
        self._get_only: set[str] = set()  # hosts that refuse HEAD
        self._resolved: dict[tuple[str, int], list[str] | None] = {}

    # -- plumbing ---------------------------------------------------------- #

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies or .netrc from the environment
            session.headers["User-Agent"] = self.settings.user_agent
            adapter = HTTPAdapter() if self.settings.allow_private else _GuardedAdapter()
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    @property
    def reached(self) -> bool:
        with self._lock:
            return self._reached

    def offline_suspected(self, hosts: int) -> bool:
        """No host has answered and `hosts` distinct hosts failed to connect: stop
        starting requests; when those in flight fail too, the run is offline."""
        with self._lock:
            return not self._reached and len(self._failed_hosts) >= hosts

    def _headers_for(self, host: str, port: int, scheme: str) -> dict[str, str]:
        """Configured headers for this host: a rule keyed by the host name alone is
        for https only (a token never travels in clear text unless its rule names
        the port); a rule keyed `host:port` is for that port."""
        merged: dict[str, str] = {}
        keys = (host, f"{host}:{port}") if scheme == "https" else (f"{host}:{port}",)
        for key in keys:
            merged.update(self.header_rules.get(key, {}))
        return merged

    def _vet_host(self, host: str, port: int, hop: int) -> _Outcome | None:
        """Resolve and vet `host` (when private targets are not allowed)."""
        if self.settings.allow_private:
            return None
        key = (host, port)
        with self._lock:
            known = key in self._resolved
            addresses = self._resolved.get(key)
        if not known:
            try:
                addresses = _resolve(host, port)
            except (OSError, UnicodeError):
                addresses = None
            with self._lock:
                self._resolved[key] = addresses
        if not addresses:
            return _Outcome(BROKEN, None, "DNS lookup failed", network=True)
        for address in addresses:
            reason = _blocked_reason(address)
            if reason is not None:
                return _skipped(reason, hop)
        return None

    def _send(self, method: str, url: str, host: str, headers: dict[str, str]) -> _Reply:
        with self.limiter.slot(host):
            session = self._session()
            if method == "HEAD":
                resp = session.head(
                    url, headers=headers, allow_redirects=False, timeout=self.timeout
                )
            else:  # the body is never read: close as soon as the headers are in
                resp = session.get(
                    url, headers=headers, allow_redirects=False, timeout=self.timeout, stream=True
                )
            try:
                return _Reply(
                    resp.status_code,
                    _reason(resp.status_code, resp.reason),
                    resp.headers.get("Location"),
                    resp.headers.get("Retry-After"),
                )
            finally:
                resp.close()

    def _request(self, url: str, host: str, headers: dict[str, str]) -> _Reply:
        with self._lock:
            get_only = host in self._get_only
        if not get_only:
            reply = self._send("HEAD", url, host, headers)
            if reply.code not in _HEAD_REFUSED:
                return reply
            if reply.code in _GET_ONLY_HINTS:
                with self._lock:
                    self._get_only.add(host)
        return self._send("GET", url, host, headers)

    # -- one hop ----------------------------------------------------------- #

    def _hop(self, url: str, parts: SplitResult, hop: int, credentials: bool) -> _Reply | _Outcome:
        """Request `url` (one hop), with retries; an HTTP reply or a final outcome."""
        settings = self.settings
        host_name, port = _host_port(parts)
        host = f"{host_name}:{port}"
        with self._lock:
            down = self._down.get(host)
            limited = self._limited.get(host)
        if down is not None:
            return down
        if limited is not None and limited[0] > time.monotonic():
            return limited[1]
        try:
            ascii_host = _ascii_host(host_name)
        except (UnicodeError, ValueError):
            return _Outcome(BROKEN, None, "invalid host name")
        vetted = self._vet_host(ascii_host, port, hop)
        if vetted is not None:
            if vetted.network:
                self._network_failure(host, vetted)
            return vetted
        headers = self._headers_for(host_name, port, parts.scheme) if credentials else {}
        attempts = 1 + settings.retries
        attempt = 0
        while True:
            attempt += 1
            if self.stop.is_set():
                return _Outcome(BROKEN, None, "cancelled")
            try:
                reply = self._request(url, host, headers)
            except _BlockedAddressError as exc:
                return _skipped(exc.reason, hop)
            except requests.RequestException as exc:
                failure = _classify(exc)
                if isinstance(exc, requests.exceptions.SSLError) or (
                    isinstance(failure, _NetFailure) and not failure.connect
                ):
                    with self._lock:  # connected, then failed: the network is up
                        self._reached = True
                if isinstance(failure, _Outcome):
                    return failure
                if failure.connect:
                    with self._lock:
                        self._failed_hosts.add(host)
                if (
                    failure.retry
                    and attempt < attempts
                    and not self.offline_suspected(_FAST_FAIL_HOSTS)
                ):
                    self.stop.wait(settings.backoff * 2 ** (attempt - 1))
                    continue
                detail = _attempts(failure.detail, attempt)
                outcome = _Outcome(BROKEN, None, detail, network=failure.connect)
                if failure.connect:
                    self._network_failure(host, outcome)
                return outcome
            with self._lock:
                self._reached = True
            code = reply.code
            if code in self.accept:
                return reply
            if code in (429, 503):
                wait = _parse_retry_after(reply.retry_after)
                text = _status_text(code, reply.reason)
                if wait is not None and wait > settings.max_retry_after:
                    outcome = _Outcome(
                        RATE_LIMITED, code, f"rate limited: {text}, Retry-After {wait:g} s"
                    )
                    with self._lock:  # leave the host alone for the rest of the run
                        self._limited[host] = (time.monotonic() + wait, outcome)
                    return outcome
                if attempt < attempts:
                    if wait is None:
                        wait = settings.backoff * 2 ** (attempt - 1)
                    self.limiter.hold_off(host, wait)  # the retry waits in limiter.slot
                    continue
                if code == 429:
                    return _Outcome(RATE_LIMITED, code, f"rate limited: {_attempts(text, attempt)}")
                return _Outcome(BROKEN, code, _attempts(text, attempt))
            if code >= 500:
                if attempt < attempts:
                    self.stop.wait(settings.backoff * 2 ** (attempt - 1))
                    continue
                return _Outcome(BROKEN, code, _attempts(_status_text(code, reply.reason), attempt))
            return reply

    def _network_failure(self, host: str, outcome: _Outcome) -> None:
        with self._lock:
            self._failed_hosts.add(host)
            self._down.setdefault(host, outcome)

    # -- one URL ----------------------------------------------------------- #

    def check(self, url: str) -> _Outcome:
        try:
            return self._check(url)
        except Exception as exc:  # one odd URL must not end the whole run
            log.debug("checking %s failed", url, exc_info=True)
            return _Outcome(BROKEN, None, f"check failed ({type(exc).__name__})", cacheable=False)

    def _check(self, url: str) -> _Outcome:
        settings = self.settings
        current = url
        seen = {url}
        codes: list[int] = []
        was_https = False
        while True:
            parts = urlsplit(current)
            scheme = parts.scheme.lower()
            invalid = _invalid(parts, bool(codes))
            if invalid is not None:
                return invalid
            parts = parts._replace(scheme=scheme)
            credentials = not (was_https and scheme == "http")
            was_https = was_https or scheme == "https"
            result = self._hop(current, parts, len(codes), credentials)
            if isinstance(result, _Outcome):
                return result
            code = result.code
            text = _status_text(code, result.reason)
            if code in _REDIRECT_CODES and code not in self.accept:
                if not result.location:
                    return _Outcome(BROKEN, code, f"{text} without a Location header")
                target, _ = _strip_fragment(urljoin(current, result.location))
                if target in seen:
                    return _Outcome(BROKEN, code, f"redirect loop ({code} back to {target})")
                if len(codes) >= settings.max_redirects:
                    return _Outcome(
                        BROKEN, code, f"too many redirects (more than {settings.max_redirects})"
                    )
                seen.add(target)
                codes.append(code)
                current = target
                continue
            if code in self.accept:
                return _Outcome(OK, code, f"{text} (accepted)")
            if 200 <= code < 300:
                if codes and all(c in _PERMANENT_CODES for c in codes):
                    chain = ", ".join(str(c) for c in codes)
                    return _Outcome(REDIRECT, code, f"permanent redirect ({chain})", current)
                return _Outcome(OK, code, text)
            if 400 <= code < 600:
                return _Outcome(BROKEN, code, text)
            return _Outcome(OK, code, text)  # 1xx, 304 and the like: the URL exists


_OFFLINE_GUESS = _Outcome(BROKEN, None, "not checked: no host could be reached", network=True)


def _invalid(parts: SplitResult, redirected: bool) -> _Outcome | None:
    """The verdict on a URL that needs no request: a bad scheme, port or host."""
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        if redirected:
            return _Outcome(BROKEN, None, f"redirect to unsupported scheme {scheme!r}")
        return _Outcome(SKIPPED, None, f"unsupported scheme {scheme!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return _Outcome(BROKEN, None, "invalid URL: bad port")
    if not parts.hostname:
        return _Outcome(BROKEN, None, "invalid URL: no host")
    return None


def _offline_verdict(url: str) -> _Outcome:
    """What an unchecked URL gets once the run is found offline."""
    try:
        return _invalid(urlsplit(url), False) or _OFFLINE_GUESS
    except ValueError:
        return _Outcome(BROKEN, None, "invalid URL")


def _skipped(reason: str, hop: int) -> _Outcome:
    if hop:
        return _Outcome(SKIPPED, None, f"redirects to {reason}, not checked")
    return _Outcome(SKIPPED, None, f"{reason} not checked")


# --------------------------------------------------------------------------- #
# Scheduling


def _run(
    checker: _Checker,
    urls: list[str],
    on_result: Callable[[str, _Outcome], None],
) -> None:
    """Check `urls` on `settings.jobs` threads, handing a worker a URL only when its
    host has a free slot; `on_result` is called on this thread as results come in."""
    settings = checker.settings
    queues: dict[str, deque[str]] = {}
    for url in urls:
        queues.setdefault(_host_key(url), deque()).append(url)
    # Most-linked hosts first: they are the likeliest to answer, so a run that is
    # online finds out at once, and an offline verdict rests on the big hosts.
    ring = deque(sorted(queues, key=lambda host: -len(queues[host])))
    offline_hosts = min(_OFFLINE_HOSTS, len(queues))
    active = dict.fromkeys(queues, 0)
    cond = threading.Condition()
    finished: list[tuple[str, str, _Outcome]] = []
    running = 0
    remaining = len(urls)
    jobs, per_host = settings.jobs, settings.per_host

    def work(host: str, url: str) -> None:
        outcome = _Outcome(BROKEN, None, "not checked")
        try:
            outcome = checker.check(url)
        finally:  # always report back, or the loop below would wait forever
            with cond:
                finished.append((host, url, outcome))
                cond.notify()

    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="handbook-lint-external")
    try:
        while remaining:
            with cond:
                if not checker.offline_suspected(offline_hosts):
                    for _ in range(len(ring)):
                        if running >= jobs or not ring:
                            break
                        host = ring[0]
                        ring.rotate(-1)
                        queue = queues[host]
                        while queue and active[host] < per_host and running < jobs:
                            active[host] += 1
                            running += 1
                            pool.submit(work, host, queue.popleft())
                        if not queue:
                            ring.remove(host)
                elif running == 0:
                    # Every request so far failed to reach its host, and nothing at
                    # all answered: offline. Do not wait out a DNS timeout per host.
                    for host in ring:
                        for url in queues[host]:
                            finished.append((host, url, _offline_verdict(url)))
                            active[host] += 1
                            running += 1
                        queues[host].clear()
                    ring.clear()
                while not finished:
                    cond.wait()
                batch = finished[:]
                finished.clear()
                for host, _, _ in batch:
                    active[host] -= 1
                    running -= 1
                    remaining -= 1
            for _, url, outcome in batch:
                on_result(url, outcome)
    except BaseException:
        checker.stop.set()  # workers give up at their next attempt or pause
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- #
# Cache

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    url TEXT NOT NULL,
    profile TEXT NOT NULL,
    status TEXT NOT NULL,
    code INTEGER,
    detail TEXT NOT NULL,
    new_url TEXT,
    checked_at REAL NOT NULL,
    PRIMARY KEY (url, profile)
)
"""

_Row = tuple[str, str, int | None, str, str | None, float]


class _Cache:
    """URL -> last verdict, in SQLite (WAL, busy timeout, short transactions)."""

    def __init__(self, path: Path, profile: str, warn: Callable[[str], None] | None) -> None:
        self.path = path
        self.profile = profile  # the settings a verdict depends on (see _profile)
        self.warn = warn
        self.conn: sqlite3.Connection | None = None
        self._recovered = False
        self._open()

    def _warn(self, message: str) -> None:
        if self.warn is not None:
            self.warn(message)
        else:
            warnings.warn(message, ExternalCacheWarning, stacklevel=4)

    def _connect(self) -> sqlite3.Connection:
        conn = connect(self.path)
        try:
            conn.execute(_SCHEMA)
            conn.execute("SELECT url, profile FROM verdicts LIMIT 1").fetchall()
        except BaseException:
            conn.close()
            raise
        return conn

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = self._connect()
        except sqlite3.OperationalError as exc:  # locked, unwritable, ...: leave it be
            self._warn(f"link cache {self.path} not used: {exc}")
        except sqlite3.DatabaseError as exc:  # not a database, or damaged
            self._replace(exc)
        except OSError as exc:
            self._warn(f"link cache {self.path} not used: {exc}")

    def _replace(self, exc: sqlite3.Error) -> None:
        """Move a damaged cache aside and start a new one (once per run)."""
        self.close()
        if self._recovered:
            self._warn(f"link cache {self.path} not used: {exc}")
            return
        self._recovered = True
        try:
            aside = move_aside(self.path)
            self.conn = self._connect()
        except (OSError, sqlite3.Error) as exc2:
            self._warn(
                f"link cache {self.path} is damaged ({exc}) and could not be replaced: {exc2}"
            )
            return
        self._warn(
            f"link cache {self.path} was damaged ({exc}); moved it to {aside.name} "
            "and started a new one"
        )

    def _failed(self, exc: sqlite3.Error, what: str) -> None:
        if isinstance(exc, sqlite3.OperationalError):
            self._warn(f"link cache {self.path}: could not {what}: {exc}")
        else:
            self._replace(exc)

    def lookup(self, urls: list[str], settings: ExternalSettings) -> dict[str, _Outcome]:
        found: dict[str, _Outcome] = {}
        if self.conn is None or not urls:
            return found
        now = time.time()
        try:
            for start in range(0, len(urls), 500):
                chunk = urls[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self.conn.execute(
                    "SELECT url, status, code, detail, new_url, checked_at "
                    f"FROM verdicts WHERE profile = ? AND url IN ({marks})",
                    [self.profile, *chunk],
                ).fetchall()
                for url, status, code, detail, new_url, checked_at in rows:
                    ttl = (
                        settings.ok_ttl
                        if status in _GOOD
                        else settings.fail_ttl
                        if status in _BAD
                        else 0.0
                    )
                    age = now - float(checked_at)
                    if 0 <= age < ttl:
                        found[url] = _Outcome(
                            str(status),
                            int(code) if code is not None else None,
                            str(detail),
                            str(new_url) if new_url is not None else None,
                        )
        except sqlite3.Error as exc:
            self._failed(exc, "read it")
        return found

    def store(self, rows: list[_Row]) -> None:
        if self.conn is None or not rows:
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.executemany(
                    "INSERT OR REPLACE INTO verdicts "
                    "(url, status, code, detail, new_url, checked_at, profile) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(*row, self.profile) for row in rows],
                )
                self.conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            self._failed(exc, f"save {len(rows)} results")

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self.conn.close()
            self.conn = None


# --------------------------------------------------------------------------- #
# Entry point


def _validate(settings: ExternalSettings) -> list[re.Pattern[str]]:
    if settings.jobs < 1 or settings.per_host < 1:
        raise ValueError("jobs and per_host must be at least 1")
    if settings.connect_timeout <= 0 or settings.read_timeout <= 0:
        raise ValueError("timeouts must be positive")
    if settings.retries < 0 or settings.max_redirects < 0:
        raise ValueError("retries and max_redirects must not be negative")
    patterns = []
    for pattern in settings.exclude:
        try:
            patterns.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"invalid exclude pattern {pattern!r}: {exc}") from exc
    return patterns


def check_urls(
    urls: Iterable[str],
    settings: ExternalSettings,
    cache_path: Path | None,
    progress: Callable[[int, int, int], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict[str, ExternalResult]:
    """Check every distinct URL once; return URL -> result (in first-seen order).

    `progress(done, total, failures)` is called on the calling thread as results come
    in (`failures` counts broken and unreachable results so far). Network problems
    never raise: when no host at all could be reached, network-level failures come
    back as "unreachable" and are not cached. Invalid settings raise ValueError.
    Cache problems go to `warn`, or else are warnings of ExternalCacheWarning.
    """
    patterns = _validate(settings)
    order = list(dict.fromkeys(urls))
    total = len(order)
    results: dict[str, ExternalResult] = {}
    originals: dict[str, list[tuple[str, str]]] = {}  # checked URL -> [(input, fragment)]
    for url in order:
        pattern = next((p for p in patterns if p.search(url)), None)
        if pattern is not None:
            results[url] = ExternalResult(
                url, EXCLUDED, None, f"matches exclude pattern {pattern.pattern!r}"
            )
            continue
        base, fragment = _strip_fragment(url)
        originals.setdefault(base, []).append((url, fragment))

    done = len(results)
    failures = 0

    def record(key: str, outcome: _Outcome, from_cache: bool) -> None:
        nonlocal done, failures
        for url, fragment in originals[key]:
            new_url = outcome.new_url
            if new_url is not None and fragment and "#" not in new_url:
                new_url = f"{new_url}#{fragment}"
            results[url] = ExternalResult(
                url, outcome.status, outcome.code, outcome.detail, new_url, from_cache
            )
            done += 1
            if outcome.status in (BROKEN, UNREACHABLE):
                failures += 1

    cache = _Cache(cache_path, _profile(settings), warn) if cache_path is not None else None
    checker = _Checker(settings)
    try:
        cached = cache.lookup(list(originals), settings) if cache is not None else {}
        for key, outcome in cached.items():
            record(key, outcome, True)
        if progress is not None:
            progress(done, total, failures)

        fresh: dict[str, _Outcome] = {}
        pending: list[_Row] = []
        last_flush = time.monotonic()

        def on_result(key: str, outcome: _Outcome) -> None:
            nonlocal last_flush
            fresh[key] = outcome
            record(key, outcome, False)
            if (
                cache is not None
                and not outcome.network
                and outcome.cacheable
                and outcome.status in _GOOD | _BAD
            ):
                pending.append(_row(key, outcome))
                now = time.monotonic()
                if len(pending) >= _CACHE_BATCH or now - last_flush >= _CACHE_FLUSH_SECONDS:
                    cache.store(pending)
                    pending.clear()
                    last_flush = now
            if progress is not None:
                progress(done, total, failures)

        try:
            _run(checker, [key for key in originals if key not in cached], on_result)
        finally:
            if cache is not None:
                cache.store(pending)
                pending.clear()

        # Offline: some URL failed at the network level and no host at all could be
        # connected to (results that never touched the network do not count).
        offline = not checker.reached and any(o.network for o in fresh.values())
        for key, outcome in fresh.items():
            if not outcome.network:
                continue
            if offline:
                for url, _ in originals[key]:
                    results[url] = ExternalResult(url, UNREACHABLE, None, OFFLINE_DETAIL)
            else:
                pending.append(_row(key, outcome))
        if cache is not None:
            cache.store(pending)
    finally:
        checker.close()
        if cache is not None:
            cache.close()
    return {url: results[url] for url in order}


def _profile(settings: ExternalSettings) -> str:
    """A digest of the settings that change verdicts: verdicts found under other
    settings are not reused. Header values are left out (they are secrets, and
    the cache must not hold anything derived from them); hosts and names are in."""
    headers = sorted(
        (host, sorted(names)) for host, names in _normalise_header_rules(settings.headers).items()
    )
    key = repr(
        (
            sorted(settings.accept),
            settings.allow_private,
            settings.max_redirects,
            settings.max_retry_after,
            settings.user_agent,
            headers,
        )
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _row(url: str, outcome: _Outcome) -> _Row:
    return (url, outcome.status, outcome.code, outcome.detail, outcome.new_url, time.time())
