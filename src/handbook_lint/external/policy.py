"""The address policy: no request to a loopback, private, link-local,
unique-local, unspecified or multicast address unless allowed; hosts are
vetted before connecting and every new connection's peer address again. The
connections also hand their sockets to the request's deadline watch."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from handbook_lint.external import deadline

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


class _Watched:
    """For a connection class: attaches its socket to the request's deadline
    watch (external/deadline.py); with `guard`, refuses a peer address the
    policy forbids."""

    guard = False
    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        if self.guard:
            _vet_socket(sock)
        deadline.attach(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        deadline.attach(self.sock)  # a kept-alive connection: its socket is already there
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _GuardedHTTPConnection(_WatchedHTTPConnection):
    guard = True


class _GuardedHTTPSConnection(_WatchedHTTPSConnection):
    guard = True


_POOLS = {
    guard: {
        "http": type("_HTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type("_HTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
    }
    for guard, (http, https) in (
        (False, (_WatchedHTTPConnection, _WatchedHTTPSConnection)),
        (True, (_GuardedHTTPConnection, _GuardedHTTPSConnection)),
    )
}


class _WatchedAdapter(HTTPAdapter):
    """An adapter whose connections obey the request's deadline and, when
    `guard` is set, refuse to talk to forbidden peer addresses."""

    def __init__(self, guard: bool) -> None:
        self.guard = guard
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS[self.guard])
