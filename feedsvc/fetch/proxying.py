"""Fetching through an HTTP proxy a recipe names (or HTTPS_PROXY, when
FEEDSVC_FETCH_PROXY_FROM_ENVIRONMENT allows it). The connection goes to
the proxy, which the operator chose; the SSRF guard checks each target the
proxy is asked for, redirects included, before the request leaves."""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

import httpcore
import httpx

from feedsvc.core.networks import Network
from feedsvc.fetch.ssrf import AddressRefused, describe, is_permitted, resolve
from feedsvc.fetch.transfer import DeadlineBackend, tls_context


class ProxyTransport(httpx.HTTPTransport):
    """httpx's proxy transport over sockets that keep fetch's deadline."""

    def __init__(self, proxy_url: str, **kwargs):
        super().__init__(verify=tls_context(), **kwargs)
        proxy = httpx.Proxy(proxy_url)
        self._pool = httpcore.HTTPProxy(
            proxy_url=httpcore.URL(scheme=proxy.url.raw_scheme, host=proxy.url.raw_host, port=proxy.url.port,
                                   target=proxy.url.raw_path),
            proxy_auth=proxy.raw_auth,
            proxy_headers=proxy.headers.raw,
            ssl_context=tls_context(),
            network_backend=DeadlineBackend(httpcore.SyncBackend()),
        )


def target_guard(allowed: tuple[Network, ...]):
    """An httpx request hook refusing a target whose host resolves to any
    address the SSRF guard does not permit (the proxy, not feedsvc, picks
    which of them it connects to)."""

    def check(request: httpx.Request) -> None:
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = resolve(url.host, port)
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {url.host}: {exc}", request=request) from None
        for address in addresses:
            if not is_permitted(address, allowed):
                raise AddressRefused(f"{url.host} resolves to {address}, {describe(address)}; "
                                     "allow it with FEEDSVC_FETCH_ALLOWED_NETWORKS")

    return check


def environment_proxy(url: str) -> str | None:
    """The proxy HTTPS_PROXY/HTTP_PROXY name for `url`, unless NO_PROXY
    exempts its host."""
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"
