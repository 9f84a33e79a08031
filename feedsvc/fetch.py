"""Getting bytes from the web, politely and within bounds. Every failure
becomes a FetchError subclass; nothing here parses or stores."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from feedsvc import __version__
from feedsvc.encoding import charset_from_content_type
from feedsvc.errors import FetchConnectError, FetchError, FetchHTTPStatus, FetchRefused, FetchTimeout, FetchTooLarge

DEFAULT_USER_AGENT = f"feedsvc/{__version__} (self-hosted news feed generator)"


@dataclass(frozen=True)
class FetchedPage:
    url: str  # as asked for
    final_url: str  # after redirects
    status: int
    content: bytes
    content_type: str | None

    @property
    def charset(self) -> str | None:
        return charset_from_content_type(self.content_type)


@dataclass(frozen=True)
class FetchSettings:
    timeout_seconds: float = 20.0
    connect_timeout_seconds: float = 10.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT


def make_client(settings: FetchSettings) -> httpx.Client:
    timeout = httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds)
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        headers={"User-Agent": settings.user_agent, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"},
        # Proxies from the environment would route loopback sources away.
        trust_env=False,
    )


def _read_capped(response: httpx.Response, url: str, settings: FetchSettings) -> bytes:
    # Read timeouts bound each wait, not the whole body: a server dripping
    # one byte a second would never trip them, so keep a total deadline too.
    deadline = time.monotonic() + settings.timeout_seconds
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > settings.max_bytes:
        raise FetchTooLarge(url, f"body of {int(declared)} bytes is over the {settings.max_bytes}-byte limit")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > settings.max_bytes:
            raise FetchTooLarge(url, f"body is over the {settings.max_bytes}-byte limit")
        if time.monotonic() > deadline:
            raise FetchTimeout(url, f"body took longer than {settings.timeout_seconds:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch_page(client: httpx.Client, url: str, settings: FetchSettings) -> FetchedPage:
    """GET `url`; raise a FetchError subclass for anything but a 2xx body."""
    if not url.startswith(("http://", "https://")):
        raise FetchRefused(url, "only http and https URLs are fetched")
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise FetchHTTPStatus(url, response.status_code)
            content = _read_capped(response, url, settings)
            return FetchedPage(
                url=url,
                final_url=str(response.url),
                status=response.status_code,
                content=content,
                content_type=response.headers.get("Content-Type"),
            )
    except FetchError:
        raise
    except httpx.TimeoutException as exc:
        raise FetchTimeout(url, f"timed out ({type(exc).__name__})") from None
    except httpx.TooManyRedirects:
        raise FetchRefused(url, f"more than {settings.max_redirects} redirects") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise FetchRefused(url, f"URL not fetchable: {exc}") from None
    except httpx.DecodingError as exc:
        raise FetchConnectError(url, f"response body could not be decoded: {exc}") from None
    except httpx.TransportError as exc:
        raise FetchConnectError(url, f"connection failed: {exc or type(exc).__name__}") from None
