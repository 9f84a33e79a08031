"""Who may trigger work: a bearer token when one is configured, otherwise
loopback clients only. Client addresses come from the socket, and from
X-Forwarded-For only when the socket peer is a configured trusted proxy."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from werkzeug.wrappers import Request

# The trusted proxies are parsed, like every address list, by
# feedsvc.core.networks.parse_networks when the settings are read.
from feedsvc.core.networks import Network


def _address(value: str | None):
    try:
        return ipaddress.ip_address((value or "").strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address, trusted: Sequence[Network]) -> bool:
    return address is not None and any(address in net for net in trusted)


def client_address(request: Request, trusted: Sequence[Network]):
    """The client's address. Walk X-Forwarded-For from the right while the
    hop is a trusted proxy; the first untrusted hop is the client. Anything
    the client wrote itself further left is ignored."""
    return environ_client_address(request.environ, trusted)


def environ_client_address(environ: dict, trusted: list[Network]):
    """client_address from a WSGI environ (for code in front of Flask)."""
    peer = _address(environ.get("REMOTE_ADDR"))
    if not _trusted(peer, trusted):
        return peer
    hops = [h for h in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    current = peer
    for hop in reversed(hops):
        current = _address(hop)
        if not _trusted(current, trusted):
            return current
    return current


@dataclass(frozen=True)
class Decision:
    status: int  # 200 allowed, 401 no credentials, 403 refused
    reason: str = ""


def check_bearer(header: str | None, token: str, setting: str) -> Decision:
    """An `Authorization` header against the configured token, compared in
    constant time. `setting` names the token in the 401 message."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return Decision(401, f"send Authorization: Bearer <FEEDSVC_{setting}>")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return Decision(403, "wrong token")
    return Decision(200)


def authorize(request: Request, token: str | None, trusted: Sequence[Network]) -> Decision:
    if token:
        return check_bearer(request.headers.get("Authorization"), token, "REFRESH_TOKEN")
    address = client_address(request, trusted)
    if address is None or not address.is_loopback:
        return Decision(403, "no FEEDSVC_REFRESH_TOKEN is set, so only loopback clients may refresh")
    return Decision(200)
