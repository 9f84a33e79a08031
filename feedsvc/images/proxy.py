"""The image proxy process: GET /img/<token> fetches the signed image with
the Referer its site expects, checks that the bytes are a raster image,
keeps it in a bounded disk cache and serves it with caching headers.

An ASGI app with asynchronous fetching (`feedsvc images`, the Procfile's
`images:` line), so no feed worker ever waits on an image. The fetch keeps
feedsvc's rules: the SSRF guard on every connection (redirects included),
the size cap and the time limit."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import replace
from urllib.parse import urlsplit

import httpcore
import httpx
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.exposition import generate_latest

from feedsvc.core.auth import check_bearer
from feedsvc.fetch.page import FetchSettings
from feedsvc.images.cache import ImageCache
from feedsvc.images.sniff import raster_type
from feedsvc.images.tokens import BadToken, ImageRef, Signer
from feedsvc.core.networks import Network
from feedsvc.fetch.ssrf import AddressRefused, describe, is_permitted
from feedsvc.fetch.transfer import tls_context
from feedsvc.service import fetch_settings

log = logging.getLogger(__name__)
PREFIX = "/img/"
CACHE_MAX_AGE_SECONDS = 7 * 24 * 3600


class Refused(Exception):
    """The image is not one the proxy serves; `status` says why to the client."""

    def __init__(self, status: int, reason: str, label: str):
        self.status, self.reason, self.label = status, reason, label
        super().__init__(reason)


class AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    """The SSRF guard for asynchronous fetching: resolve, check every
    address as feedsvc.fetch.ssrf does, connect only to permitted ones."""

    def __init__(self, allowed: tuple[Network, ...]):
        self.allowed = allowed
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        permitted = [a for a in addresses if is_permitted(a, self.allowed)]
        if not permitted:
            first = addresses[0] if addresses else "?"
            raise AddressRefused(f"{host} resolves to {first}, {describe(first) if addresses else 'nothing'}")
        error: Exception | None = None
        for address in permitted:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedAsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, allowed: tuple[Network, ...]):
        super().__init__(verify=tls_context())
        self._pool = httpcore.AsyncConnectionPool(ssl_context=tls_context(),
                                                  network_backend=AsyncGuardedBackend(allowed))




class ImageMetrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.hits = Counter("feedsvc_image_cache_hits", "Images served from the disk cache", registry=self.registry)
        self.misses = Counter("feedsvc_image_cache_misses", "Images fetched from their site",
                              registry=self.registry)
        self.bytes = Counter("feedsvc_image_bytes", "Image bytes served", registry=self.registry)
        self.refusals = Counter("feedsvc_image_refusals", "Image requests refused", ["reason"],
                                registry=self.registry)


class ImageProxy:
    def __init__(self, signer: Signer, cache: ImageCache, settings: FetchSettings, metrics_token: str | None = None):
        self.signer, self.cache, self.settings = signer, cache, settings
        self.metrics = ImageMetrics()
        self.metrics_token = metrics_token
        self._client: httpx.AsyncClient | None = None
        self._fetching: dict[str, asyncio.Future] = {}

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=_GuardedAsyncTransport(self.settings.allowed_networks), follow_redirects=True,
                max_redirects=self.settings.max_redirects, trust_env=False,
                timeout=httpx.Timeout(self.settings.timeout_seconds, connect=self.settings.connect_timeout_seconds),
                headers={"User-Agent": self.settings.user_agent, "Accept": "image/avif,image/webp,image/*;q=0.8",
                         "Accept-Encoding": "identity"})
        return self._client

    async def fetch(self, ref: ImageRef) -> tuple[str, bytes]:
        """(type, bytes) of the image, or Refused."""
        headers = {"Referer": ref.referer} if ref.referer else {}
        try:
            async with asyncio.timeout(self.settings.timeout_seconds):
                async with self.client().stream("GET", ref.url, headers=headers) as response:
                    if response.status_code != 200:
                        raise Refused(502, f"the site answered HTTP {response.status_code}", "status")
                    declared = response.headers.get("Content-Length")
                    if declared and declared.isdigit() and int(declared) > self.settings.max_bytes:
                        raise Refused(502, f"image over the {self.settings.max_bytes}-byte limit", "too_large")
                    body = bytearray()
                    async for chunk in response.aiter_raw():
                        body += chunk
                        if len(body) > self.settings.max_bytes:
                            raise Refused(502, f"image over the {self.settings.max_bytes}-byte limit", "too_large")
                    content_type = response.headers.get("Content-Type")
        except AddressRefused as exc:
            raise Refused(403, f"refused: {exc}", "address_refused") from None
        except TimeoutError:
            raise Refused(504, f"no image within {self.settings.timeout_seconds:g} s", "timeout") from None
        except httpx.HTTPError as exc:
            raise Refused(502, f"fetch failed: {type(exc).__name__}", "fetch") from None
        try:
            return raster_type(content_type, bytes(body)), bytes(body)
        except ValueError as exc:
            raise Refused(415, str(exc), "not_an_image") from None

    async def image(self, token: str):
        """The cached or fetched image for `token`; one fetch at a time per image."""
        try:
            ref = self.signer.verify(token)
        except BadToken as exc:
            raise Refused(403, f"{exc}: this proxy serves only the images of its own feeds", "bad_token") from None
        if urlsplit(ref.url).scheme not in ("http", "https"):
            raise Refused(403, "only http and https images", "scheme")
        name = f"{ref.url}\x00{ref.referer}"
        cached = await asyncio.to_thread(self.cache.get, name)
        if cached is not None:
            self.metrics.hits.inc()
            return cached
        self.metrics.misses.inc()
        waiting = self._fetching.get(name)
        if waiting is None:
            waiting = self._fetching[name] = asyncio.ensure_future(self._fetch_and_keep(name, ref))
            waiting.add_done_callback(lambda _f: self._fetching.pop(name, None))
        return await asyncio.shield(waiting)

    async def _fetch_and_keep(self, name: str, ref: ImageRef):
        content_type, body = await self.fetch(ref)
        return await asyncio.to_thread(self.cache.put, name, content_type, body)

    # -- ASGI ----------------------------------------------------------------

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if path == "/metrics":
            await self._metrics(headers, send)
        elif not path.startswith(PREFIX) or method not in ("GET", "HEAD"):
            await _answer(send, 404, b"not here: images are at /img/<token>\n", "text/plain; charset=utf-8")
        else:
            await self._serve(path[len(PREFIX):], headers, method == "HEAD", send)

    async def _serve(self, token: str, headers: dict, head: bool, send) -> None:
        try:
            image = await self.image(token)
        except Refused as exc:
            self.metrics.refusals.labels(exc.label).inc()
            log.info("image_refused reason=%s status=%d", exc.label, exc.status)
            await _answer(send, exc.status, (exc.reason + "\n").encode(), "text/plain; charset=utf-8")
            return
        etag = f'"{image.etag}"'
        common = [(b"etag", etag.encode()), (b"cache-control", f"public, max-age={CACHE_MAX_AGE_SECONDS}, immutable".encode()),
                  (b"x-content-type-options", b"nosniff"), (b"content-security-policy", b"default-src 'none'"),
                  (b"access-control-allow-origin", b"*")]
        if etag in [t.strip() for t in headers.get("if-none-match", "").split(",")]:
            await send({"type": "http.response.start", "status": 304, "headers": common})
            await send({"type": "http.response.body", "body": b""})
            return
        self.metrics.bytes.inc(len(image.body))
        await _answer(send, 200, b"" if head else image.body, image.content_type,
                      [*common, (b"content-length", str(len(image.body)).encode())])

    async def _metrics(self, headers: dict, send) -> None:
        if self.metrics_token:
            decision = check_bearer(headers.get("authorization"), self.metrics_token, "METRICS_TOKEN")
            if decision.status != 200:
                await _answer(send, decision.status, (decision.reason + "\n").encode(), "text/plain; charset=utf-8")
                return
        await _answer(send, 200, generate_latest(self.metrics.registry), "text/plain; version=0.0.4; charset=utf-8")

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _answer(send, status: int, body: bytes, content_type: str, headers=()) -> None:
    extra = list(headers)
    if not any(name == b"content-length" for name, _ in extra):
        extra.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), *extra]})
    await send({"type": "http.response.body", "body": body})


def image_settings(settings) -> FetchSettings:
    """The service's fetch settings (timeouts, redirects, user agent, allowed
    networks), with the image size cap."""
    return replace(fetch_settings(settings), max_bytes=settings["IMAGE_MAX_BYTES"])
