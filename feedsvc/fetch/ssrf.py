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

import httpcore
import httpx

from feedsvc.core.networks import Network
from feedsvc.fetch.transfer import tls_context

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128"


class AddressRefused(Exception):
    """A host resolved only to addresses feedsvc may not connect to."""


# IPv6 prefixes whose addresses carry an IPv4 address that the packets
# end up at: NAT64's well-known prefix (RFC 6052) and its local-use range
# (RFC 8215), where the operator picks the prefix length.
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
_LOW32 = 0xFFFFFFFF


def _rfc6052(value: int, prefix_length: int) -> ipaddress.IPv4Address:
    """The IPv4 address behind an RFC 6052 address of a /32 to /96 prefix:
    the 32 bits after the prefix, skipping bits 64-71 (the "u" octet)."""
    if prefix_length == 96:
        return ipaddress.IPv4Address(value & _LOW32)
    without_u = ((value >> 64) << 56) | (value & ((1 << 56) - 1))  # 120 bits
    return ipaddress.IPv4Address((without_u >> (120 - prefix_length - 32)) & _LOW32)


def embedded_ipv4(ip: Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address reaches through: IPv4-mapped
    (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96), IPv4-compatible
    (::/96), NAT64 (64:ff9b::/96; 64:ff9b:1::/48 read at every prefix
    length it may use), 6to4 (2002::/16) and Teredo (2001::/32: its server
    and its de-obfuscated client). Empty for any other address."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return ()
    value = int(ip)
    if ip.ipv4_mapped:
        return (ip.ipv4_mapped,)
    if value >> 32 == 0xFFFF0000 or (value >> 32 == 0 and value > 1):  # translated; compatible (not :: or ::1)
        return (ipaddress.IPv4Address(value & _LOW32),)
    if ip in _NAT64_WELL_KNOWN:
        return (_rfc6052(value, 96),)
    if ip in _NAT64_LOCAL_USE:
        return tuple(dict.fromkeys(_rfc6052(value, length) for length in (96, 64, 56, 48)))
    if ip.sixtofour:
        return (ip.sixtofour,)
    if ip.teredo:
        return ip.teredo
    return ()


def _listed(ip: Address, allowed: tuple[Network, ...]) -> bool:
    return any(ip.version == net.version and ip in net for net in allowed)


def _refused_part(ip: Address, allowed: tuple[Network, ...]) -> Address | None:
    """The address (`ip` or one it embeds) that makes `ip` refused, or None.
    An address that embeds IPv4 is judged by what it embeds: ::ffff:127.0.0.1
    and 64:ff9b::7f00:1 reach 127.0.0.1, and allowing 2000::/3 does not
    allow 2002:7f00:1:: (6to4 to 127.0.0.1)."""
    for part in embedded_ipv4(ip) or (ip,):
        if not _listed(part, allowed) and not (part.is_global and not part.is_multicast):
            return part
    return None


def is_permitted(address: str | Address, allowed: tuple[Network, ...] = ()) -> bool:
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    return _refused_part(ip, allowed) is None


def describe(address: str, allowed: tuple[Network, ...] = ()) -> str:
    ip = ipaddress.ip_address(address)
    part = _refused_part(ip, allowed) or ip
    for kind in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(part, f"is_{kind}"):
            words = f"a {kind.replace('_', '-')} address"
            return words if part == ip else f"reaching {part}, {words}"
    return "not a public address" if part == ip else f"reaching {part}, not a public address"


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
            raise AddressRefused(f"{host} resolves to {first}, {describe(first, self.allowed)}; "
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
        super().__init__(verify=tls_context(), **kwargs)
        limits = kwargs.get("limits", httpx.Limits())
        self._pool = httpcore.ConnectionPool(
            ssl_context=tls_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=(wrap_backend or (lambda backend: backend))(GuardedBackend(allowed)),
        )
