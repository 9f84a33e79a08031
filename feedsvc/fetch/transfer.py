"""Bounds on one HTTP exchange that httpx does not give.

A deadline for the whole exchange: httpx's timeouts bound each wait, so a
site sending one byte a second (of headers or of body) would never trip
them. Every socket read and write of a fetch gets at most the time left.

Content decoding that inflates a piece at a time: httpx decodes a whole
network chunk in one go, and 64 KiB of gzip inside gzip (or of brotli)
inflates to gigabytes before any size check could look at it."""

from __future__ import annotations

import functools
import ssl
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import brotli
import httpcore
import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The one client TLS context of the process. Building one reads the
    whole CA bundle (tens of milliseconds), and each client would build two
    of them; a context is made to be shared by connections and threads."""
    return httpx.create_ssl_context()


_deadline: ContextVar[float | None] = ContextVar("fetch_deadline", default=None)

# About the largest piece of body one decoding step produces (brotli may
# overshoot it by a buffer's growth).
PIECE_BYTES = 64 * 1024


@contextmanager
def deadline(seconds: float):
    """Socket operations in this thread inside the block end by then."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    until = _deadline.get()
    if until is None:
        return timeout
    left = until - time.monotonic()
    if left <= 0:
        raise error("the fetch deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname,
                                                      _left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """Wraps a network backend so its connections keep the deadline."""

    def __init__(self, inner: httpcore.NetworkBackend):
        self._inner = inner

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = self._inner.connect_tcp(host, port, _left(timeout, httpcore.ConnectTimeout), local_address,
                                         socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


# -- content decoding --------------------------------------------------------------


def _zlib(chunks: Iterable[bytes], wbits: int) -> Iterator[bytes]:
    decompressor = zlib.decompressobj(wbits)
    for chunk in chunks:
        data = chunk
        while not decompressor.eof:
            piece = decompressor.decompress(data, PIECE_BYTES)
            yield piece
            data = decompressor.unconsumed_tail
            # A full piece may leave output held back: ask again with no input.
            if not data and len(piece) < PIECE_BYTES:
                break


def _deflate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    # "deflate" is zlib-wrapped by the spec and raw in practice; browsers
    # and httpx take both. A zlib header is two bytes, a multiple of 31.
    chunks = iter(chunks)
    first = b""
    for chunk in chunks:
        first += chunk
        if len(first) >= 2:
            break
    wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and int.from_bytes(first[:2], "big") % 31 == 0
    yield from _zlib(_chain(first, chunks), zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)


def _brotli(chunks: Iterable[bytes]) -> Iterator[bytes]:
    decompressor = brotli.Decompressor()

    def pieces(data: bytes) -> Iterator[bytes]:
        # While it cannot take input, it holds output to hand out.
        yield decompressor.process(data, output_buffer_limit=PIECE_BYTES)
        while not decompressor.can_accept_more_data() and not decompressor.is_finished():
            yield decompressor.process(b"", output_buffer_limit=PIECE_BYTES)

    for chunk in chunks:
        if decompressor.is_finished():
            break
        yield from pieces(chunk)
    while not decompressor.is_finished():  # the input is in; drain what it holds
        piece = decompressor.process(b"", output_buffer_limit=PIECE_BYTES)
        if not piece:
            break
        yield piece


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


_DECODERS = {"gzip": lambda c: _zlib(c, zlib.MAX_WBITS | 16), "x-gzip": lambda c: _zlib(c, zlib.MAX_WBITS | 16),
             "deflate": _deflate, "br": _brotli}


# What decoded() undoes, and so all a fetch may ask for.
ACCEPT_ENCODING = "gzip, deflate, br"


def decoded(chunks: Iterable[bytes], content_encoding: str | None) -> Iterator[bytes]:
    """The body as sent (`chunks`, e.g. response.iter_raw()) with its
    Content-Encoding undone, codings applied in turn undone in reverse.
    Unknown codings are passed through, as httpx does. Corrupt data raises
    httpx.DecodingError."""
    stream: Iterable[bytes] = chunks
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding in _DECODERS:
            stream = _DECODERS[coding](stream)
    try:
        for piece in stream:
            if piece:
                yield piece
    except (zlib.error, brotli.error) as exc:
        raise httpx.DecodingError(f"{', '.join(codings)} body is corrupt: {exc}") from None
