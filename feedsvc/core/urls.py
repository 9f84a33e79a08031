"""Canonical URLs: one spelling per page, so an item reached through a
tracking link, an upper-case host or a fragment is still one item."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from feedsvc.core.xmlchars import strip_invalid

# Query parameters that say who sent the reader, never which page it is.
TRACKING_PARAMETERS = frozenset({
    "spm", "from", "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "igshid",
    "isappinstalled", "scene", "share_token", "wfr", "ref_src", "vd_source", "scm", "share_source", "share_medium",
})
TRACKING_PREFIXES = ("utm_",)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TAB_NEWLINE = re.compile(r"[\t\r\n]")


def is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


def canonicalize(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no
    tracking parameters; other parameters keep their order and spelling."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username or parts.password:
        netloc = f"{parts.netloc.rsplit('@', 1)[0]}@{netloc}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not is_tracking(k)]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def absolute_http(href: str | None, base: str) -> str | None:
    """`href` resolved against `base` and canonicalized, if it is an http(s)
    URL; javascript:, mailto: and the like give None. Control characters
    go (tab and newline as browsers drop them, the rest so no feed carries
    them), and anything but a string (a JSON Feed's "url": 5) is no URL."""
    if not isinstance(href, str):
        return None
    href = _TAB_NEWLINE.sub("", strip_invalid(href)).strip()
    if not href:
        return None
    try:
        url = urljoin(base, href)
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            return None
        return canonicalize(url)
    except ValueError:  # "http://[::1": no URL at all
        return None
