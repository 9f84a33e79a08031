"""The SSRF guard: feedsvc must not become a way to reach the machines
around it. Every connection, redirects included, goes to an address
checked here after DNS resolution, so a public name that resolves to
10.0.0.1 (or changes to it between two lookups) is refused as well.

Only globally routable addresses are allowed, plus the networks the
operator lists in FEEDSVC_FETCH_ALLOWED_NETWORKS (tests and the demo list
loopback)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128"


class AddressRefused(Exception):
    """A host resolved only to addresses feedsvc may not connect to."""


def parse_networks(value: str | Iterable[str] | None) -> tuple[Network, ...]:
    """'127.0.0.0/8, ::1' (or a list of such strings) → networks; a bare
    address is a one-address network. Raises ValueError on a bad entry."""
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())


def _plain(address: Address) -> Address:
    # ::ffff:127.0.0.1 reaches 127.0.0.1: judge it as the IPv4 address.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_permitted(address: str | Address, allowed: tuple[Network, ...] = ()) -> bool:
    ip = _plain(ipaddress.ip_address(address) if isinstance(address, str) else address)
    if any(ip.version == net.version and ip in net for net in allowed):
        return True
    return ip.is_global and not ip.is_multicast


def describe(address: str) -> str:
    ip = _plain(ipaddress.ip_address(address))
    for kind in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(ip, f"is_{kind}"):
            return f"a {kind.replace('_', '-')} address"
    return "not a public address"


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to permitted addresses
    of the host it resolves itself (TLS still verifies the host name)."""

    def __init__(self, allowed: tuple[Network, ...] = ()):
        self.allowed = allowed

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        permitted = [a for a in addresses if is_permitted(a, self.allowed)]
        if not permitted:
            first = addresses[0]
            raise AddressRefused(f"{host} resolves to {first}, {describe(first)}; "
                                 "allow it with FEEDSVC_FETCH_ALLOWED_NETWORKS")
        error: Exception | None = None
        for address in permitted:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # try the host's next address, as browsers do
                error = exc
        raise error


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over GuardedBackend. httpx has no public hook for
    the network backend, so the connection pool is rebuilt with it."""

    def __init__(self, allowed: tuple[Network, ...] = (), wrap_backend=None, **kwargs):
        # wrap_backend(backend) -> backend: a layer over the guarded sockets
        # (fetch's whole-request deadline).
        super().__init__(**kwargs)
        limits = kwargs.get("limits", httpx.Limits())
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=(wrap_backend or (lambda backend: backend))(GuardedBackend(allowed)),
        )
