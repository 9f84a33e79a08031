"""Getting bytes from the web, politely and within bounds. Every failure
becomes a FetchError subclass; nothing here parses or stores."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import httpx

from feedsvc import __version__
from feedsvc.fetch.encoding import charset_from_content_type
from feedsvc.core.errors import (
    FetchAddressRefused, FetchConnectError, FetchError, FetchHTTPStatus, FetchRefused, FetchTimeout, FetchTooLarge,
)
from feedsvc.core.networks import Network
from feedsvc.fetch.ssrf import AddressRefused, GuardedTransport
from feedsvc.fetch.transfer import ACCEPT_ENCODING, DeadlineBackend, deadline, decoded

DEFAULT_USER_AGENT = f"feedsvc/{__version__} (self-hosted news feed generator)"


# Statuses whose Retry-After tells a client when to come back.
_RETRY_AFTER_STATUSES = (429, 503)


@dataclass(frozen=True)
class FetchedPage:
    url: str  # as asked for
    final_url: str  # after redirects
    status: int  # 304 when a conditional GET found the page unchanged; content is then empty
    content: bytes
    content_type: str | None
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names

    @property
    def charset(self) -> str | None:
        return charset_from_content_type(self.content_type)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class FetchSettings:
    timeout_seconds: float = 20.0
    connect_timeout_seconds: float = 10.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT
    # Networks the SSRF guard lets through besides public addresses.
    allowed_networks: tuple[Network, ...] = ()
    host_delay_seconds: float = 1.0
    # HTTPS_PROXY/HTTP_PROXY/NO_PROXY are honoured only when this is set.
    proxy_from_environment: bool = False
    browser_pages: int = 2  # pages render = "browser" recipes render at once, per process


def make_client(settings: FetchSettings, transport: httpx.BaseTransport | None = None,
                event_hooks: dict | None = None) -> httpx.Client:
    """An httpx client whose every connection, redirects included, passes
    the SSRF guard and keeps fetch_page's deadline. fetch_page undoes gzip,
    deflate and br itself, a bounded piece at a time. A `transport` of the
    caller's (a proxy's) brings its own guard as `event_hooks`."""
    timeout = httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds)
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        headers={"User-Agent": settings.user_agent, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
                 "Accept-Encoding": ACCEPT_ENCODING},
        transport=transport or GuardedTransport(settings.allowed_networks, wrap_backend=DeadlineBackend),
        event_hooks=event_hooks,
        # Proxies from the environment would route loopback sources away;
        # feedsvc.fetch.proxying reads them when the operator allows it.
        trust_env=False,
    )


def parse_retry_after(value: str | None, now: datetime | None = None) -> timedelta | None:
    """Retry-After as a delay: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(when - (now or datetime.now(timezone.utc)), timedelta(0))


def _conditional_headers(validators: tuple[str | None, str | None] | None) -> dict[str, str]:
    etag, last_modified = validators or (None, None)
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _read_capped(response: httpx.Response, url: str, settings: FetchSettings) -> bytes:
    # The size is counted after decoding, piece by piece, so a compression
    # bomb stops at the limit instead of inflating in memory first.
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > settings.max_bytes:
        raise FetchTooLarge(url, f"body of {int(declared)} bytes is over the {settings.max_bytes}-byte limit")
    chunks: list[bytes] = []
    size = 0
    for chunk in decoded(response.iter_raw(), response.headers.get("Content-Encoding")):
        size += len(chunk)
        if size > settings.max_bytes:
            raise FetchTooLarge(url, f"body is over the {settings.max_bytes}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _page(url: str, response: httpx.Response, content: bytes) -> FetchedPage:
    headers = response.headers
    return FetchedPage(
        url=url,
        final_url=str(response.url),
        status=response.status_code,
        content=content,
        content_type=headers.get("Content-Type"),
        etag=headers.get("ETag"),
        last_modified=headers.get("Last-Modified"),
        headers={name.lower(): value for name, value in headers.items()},
    )


def fetch_page(client: httpx.Client, url: str, settings: FetchSettings,
               validators: tuple[str | None, str | None] | None = None,
               headers: dict[str, str] | None = None) -> FetchedPage:
    """GET `url`; raise a FetchError subclass for anything but a 2xx body
    or, when `validators` (ETag, Last-Modified) are given, a 304.
    `headers`: a recipe's own (cookies, tokens, user agent)."""
    if not url.lower().startswith(("http://", "https://")):
        raise FetchRefused(url, "only http and https URLs are fetched")
    started = time.monotonic()
    try:
        # Headers and body, redirects included, within the timeout in all.
        with deadline(settings.timeout_seconds), \
                client.stream("GET", url, headers={**(headers or {}), **_conditional_headers(validators)}) as response:
            if response.status_code == 304 and validators:
                return _page(url, response, b"")
            if response.status_code >= 300:  # a 3xx left over is a redirect without a Location
                retry_after = None
                if response.status_code in _RETRY_AFTER_STATUSES:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raise FetchHTTPStatus(url, response.status_code, retry_after)
            return _page(url, response, _read_capped(response, url, settings))
    except FetchError:
        raise
    except AddressRefused as exc:
        raise FetchAddressRefused(url, f"refused: {exc}") from None
    except httpx.TimeoutException as exc:
        if time.monotonic() - started >= settings.timeout_seconds:
            raise FetchTimeout(url, f"no complete response within {settings.timeout_seconds:g} s") from None
        raise FetchTimeout(url, f"timed out ({type(exc).__name__})") from None
    except httpx.TooManyRedirects:
        raise FetchRefused(url, f"more than {settings.max_redirects} redirects") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise FetchRefused(url, f"URL not fetchable: {exc}") from None
    except httpx.DecodingError as exc:
        raise FetchConnectError(url, f"response body could not be decoded: {exc}") from None
    except httpx.TransportError as exc:
        raise FetchConnectError(url, f"connection failed: {exc or type(exc).__name__}") from None
