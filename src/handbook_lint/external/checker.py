"""Checking one URL: vetted host, HEAD then GET (streamed, the body never read),
redirects followed by hand so that every hop is vetted, Retry-After honoured,
retries with backoff; the outcome becomes an ExternalResult.

Time is bounded: each request has a deadline (external/deadline.py), a HEAD
that times out is tried once as a GET (a link whose GET times out too is
broken, not retried), a host with `host_timeouts` links in a row timed out
is given up for the rest of the run (its other links go unchecked, not
broken), and when the pass runs out of time every request in flight is cut
off and reported unchecked."""

from __future__ import annotations

import threading
import time
from urllib.parse import SplitResult, urljoin, urlsplit

import requests

from handbook_lint.external import policy  # (looked up there: one place to patch)
from handbook_lint.external.deadline import BUDGET, Watchdog
from handbook_lint.external.failures import (
    _attempts,
    _classify,
    _NetFailure,
    _Outcome,
    _parse_retry_after,
    _reason,
    _Reply,
    _status_text,
)
from handbook_lint.external.headers import _expand, _normalise_header_rules
from handbook_lint.external.hosts import _ascii_host, _host_port, _strip_fragment
from handbook_lint.external.limits import _HostLimiter
from handbook_lint.external.policy import (
    _BlockedAddressError,
    _WatchedAdapter,
)
from handbook_lint.external.results import (
    _FAST_FAIL_HOSTS,
    _GET_ONLY_HINTS,
    _HEAD_REFUSED,
    _PERMANENT_CODES,
    _REDIRECT_CODES,
    log,
)
from handbook_lint.external.settings import (
    BROKEN,
    OK,
    RATE_LIMITED,
    REDIRECT,
    SKIPPED,
    UNCHECKED,
    ExternalSettings,
)


class _OutOfTime(Exception):
    """The pass's time budget ran out while this request was in flight."""


class _TriedTwice(requests.exceptions.ReadTimeout):
    """HEAD timed out, then GET did too: not retried."""


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
        self._timeouts: dict[str, int] = {}  # host -> requests in a row that timed out
        self._given_up: dict[str, _Outcome] = {}  # host -> the verdict on its other links
        self.watchdog = Watchdog()
        self.out_of_time = False

    # -- plumbing ---------------------------------------------------------- #

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies or .netrc from the environment
            session.headers["User-Agent"] = self.settings.user_agent
            adapter = _WatchedAdapter(guard=not self.settings.allow_private)
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
        self.watchdog.close()

    def run_out_of_time(self) -> None:
        """The pass's budget is spent: no new request, and those in flight cut off."""
        with self._lock:
            self.out_of_time = True
        self.stop.set()
        self.watchdog.expire_all()

    def given_up(self) -> dict[str, _Outcome]:
        with self._lock:
            return dict(self._given_up)

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
                addresses = policy._resolve(host, port)
            except (OSError, UnicodeError):
                addresses = None
            with self._lock:
                self._resolved[key] = addresses
        if not addresses:
            return _Outcome(BROKEN, None, "DNS lookup failed", network=True)
        for address in addresses:
            reason = policy._blocked_reason(address)
            if reason is not None:
                return _skipped(reason, hop)
        return None

    def _send(self, method: str, url: str, host: str, headers: dict[str, str]) -> _Reply:
        with self.limiter.slot(host), self.watchdog.watching(self.settings.request_timeout) as w:
            session = self._session()
            try:
                if method == "HEAD":
                    resp = session.head(
                        url, headers=headers, allow_redirects=False, timeout=self.timeout
                    )
                else:  # the body is never read: close as soon as the headers are in
                    resp = session.get(
                        url,
                        headers=headers,
                        allow_redirects=False,
                        timeout=self.timeout,
                        stream=True,
                    )
            except requests.RequestException as exc:
                self._cut_off(w.expired, exc)
                raise
            try:
                # A cut-off answer may still parse (its head ended early): not an answer.
                self._cut_off(w.expired, None)
                return _Reply(
                    resp.status_code,
                    _reason(resp.status_code, resp.reason),
                    resp.headers.get("Location"),
                    resp.headers.get("Retry-After"),
                )
            finally:
                resp.close()

    def _cut_off(self, expired: str | None, exc: BaseException | None) -> None:
        if expired == BUDGET:
            raise _OutOfTime from exc
        if expired is not None:  # cut off at the request's deadline
            seconds = f"{self.settings.request_timeout:g}"
            raise requests.exceptions.ReadTimeout(f"no answer in {seconds} s") from exc

    def _request(self, url: str, host: str, headers: dict[str, str]) -> _Reply:
        with self._lock:
            get_only = host in self._get_only
        if not get_only:
            try:
                reply = self._send("HEAD", url, host, headers)
            except requests.exceptions.ReadTimeout as exc:
                # Some servers never answer HEAD: try GET once before calling it a timeout.
                with self._lock:  # and from now on, on this host
                    self._get_only.add(host)
                if self.stop.is_set():
                    raise
                try:
                    return self._send("GET", url, host, headers)
                except requests.exceptions.ReadTimeout as again:
                    raise _TriedTwice(*again.args) from exc
            if reply.code not in _HEAD_REFUSED:
                return reply
            if reply.code in _GET_ONLY_HINTS:
                with self._lock:
                    self._get_only.add(host)
        return self._send("GET", url, host, headers)

    def _timed_out(self, host: str) -> bool:
        """Count a link of `host` that timed out; True when the host is given up."""
        limit = self.settings.host_timeouts
        with self._lock:
            count = self._timeouts[host] = self._timeouts.get(host, 0) + 1
            if count >= limit and host not in self._given_up:
                self._given_up[host] = _Outcome(
                    UNCHECKED,
                    None,
                    f"not checked: {host} stopped answering ({count} links in a row timed out)",
                    cacheable=False,
                )
            return host in self._given_up

    # -- one hop ----------------------------------------------------------- #

    def _hop(self, url: str, parts: SplitResult, hop: int, credentials: bool) -> _Reply | _Outcome:
        """Request `url` (one hop), with retries; an HTTP reply or a final outcome."""
        settings = self.settings
        host_name, port = _host_port(parts)
        host = f"{host_name}:{port}"
        with self._lock:
            down = self._down.get(host)
            limited = self._limited.get(host)
            given_up = self._given_up.get(host)
        if down is not None:
            return down
        if given_up is not None:
            return given_up
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
        counted = False  # (a timeout of this URL counted against its host)
        while True:
            attempt += 1
            if self.stop.is_set():
                return _OUT_OF_TIME if self.out_of_time else _Outcome(BROKEN, None, "cancelled")
            try:
                reply = self._request(url, host, headers)
            except _BlockedAddressError as exc:
                return _skipped(exc.reason, hop)
            except _OutOfTime:
                return _OUT_OF_TIME
            except requests.RequestException as exc:
                failure = _classify(exc)
                if self.out_of_time:
                    return _OUT_OF_TIME
                # A timeout counts once per URL against its host, and is not
                # retried when GET was already tried after a HEAD that timed out.
                gave_up = False
                if isinstance(exc, requests.exceptions.ReadTimeout):
                    if counted:
                        with self._lock:
                            gave_up = host in self._given_up
                    else:
                        counted, gave_up = True, self._timed_out(host)
                if isinstance(exc, _TriedTwice):
                    attempt += 1
                    gave_up = True
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
                    and not gave_up
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
                self._timeouts[host] = 0
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


_OUT_OF_TIME = _Outcome(
    UNCHECKED, None, "not checked: the external pass ran out of time", cacheable=False
)


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
