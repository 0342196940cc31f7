"""Outgoing HTTP for pushes and webhooks, guarded against loopback and private targets.

The guard sits where the socket connects: every address the host name resolves to must be
public, and the connection goes to the address that was checked, so a DNS answer that
changes between a check and the connect (rebinding) cannot slip through. Redirects are not
followed, proxies from the environment are not used, and every request has a timeout.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.timeout import _DEFAULT_TIMEOUT


class BlockedDestination(Exception):
    """The target resolves to a loopback, private, link-local or otherwise non-public address."""


def is_public_address(ip: str) -> bool:
    """Whether ``ip`` is a globally routable unicast address."""
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return bool(address.is_global) and not address.is_multicast


def check_url(url: str, *, allow_private: bool, require_https: bool = True) -> str | None:
    """Why ``url`` may not be a target, or None when it may. Resolves the host name."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Must be an http or https URL."
    if parts.username or parts.password:
        return "Must not carry credentials."
    if allow_private:
        return None
    if require_https and parts.scheme != "https":
        return "Must be an https URL."
    try:
        _vetted_addresses(parts.hostname, parts.port or 443, allow_private=False)
    except BlockedDestination:
        return "Must point to a public address, not a loopback or private one."
    except OSError:
        return "The host name does not resolve."
    return None


def _vetted_addresses(host: str, port: int, *, allow_private: bool) -> list[Any]:
    infos = socket.getaddrinfo(host.strip("[]"), port, 0, socket.SOCK_STREAM)
    if not infos:
        raise OSError(f"{host} does not resolve")
    if not allow_private:
        for *_, sockaddr in infos:
            if not is_public_address(str(sockaddr[0])):
                raise BlockedDestination(f"{host} resolves to a non-public address")
    return infos


class _GuardMixin:
    allow_private = False
    host: str
    port: int
    timeout: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        infos = _vetted_addresses(self.host, self.port, allow_private=self.allow_private)
        error: OSError | None = None
        for family, socktype, proto, _, sockaddr in infos:
            sock = socket.socket(family, socktype, proto)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                if self.timeout is not _DEFAULT_TIMEOUT:
                    sock.settimeout(self.timeout)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                error = exc
                sock.close()
        raise error or OSError("no address to connect to")


def _pools(allow_private: bool) -> dict[str, type]:
    guard = type("Guard", (_GuardMixin,), {"allow_private": allow_private})
    http_conn = type("GuardedHTTPConnection", (guard, HTTPConnection), {})
    https_conn = type("GuardedHTTPSConnection", (guard, HTTPSConnection), {})
    return {
        "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, allow_private: bool) -> None:
        self._classes = _pools(allow_private)
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._classes


def guarded_session(*, allow_private: bool) -> requests.Session:
    """A requests session whose connections refuse non-public addresses (unless allowed)."""
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = 0
    adapter = _GuardedAdapter(allow_private)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
