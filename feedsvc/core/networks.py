"""Address networks as settings name them: the one parser, used by the
settings (allowed fetch networks, trusted proxies) and the SSRF guard."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str | Iterable[str] | None) -> tuple[Network, ...]:
    """'127.0.0.0/8, ::1' (or a list of such strings) → networks; a bare
    address is a one-address network. Raises ValueError on a bad entry."""
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())
