"""How a request went: the internal outcome of one URL, and exceptions (DNS, TLS,
timeouts, refused connections) turned into failures with a human detail."""

from __future__ import annotations

import errno
import http
import socket
from dataclasses import dataclass
from http.client import RemoteDisconnected

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from handbook_lint.external.settings import (
    BROKEN,
)


@dataclass(frozen=True)
class _Outcome:
    """What checking one URL came to."""

    status: str
    code: int | None
    detail: str
    new_url: str | None = None
    network: bool = False  # DNS failure, refused / failed / timed-out connect: host not reached
    cacheable: bool = True  # False for our own failures (an exception while checking)


@dataclass(frozen=True)
class _Reply:
    """An HTTP reply, as much of it as the outcome needs."""

    code: int
    reason: str
    location: str | None
    retry_after: str | None


@dataclass(frozen=True)
class _NetFailure:
    """A request that got no reply, and whether to try again."""

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
