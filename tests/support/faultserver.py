"""A loopback HTTP server that misbehaves on purpose, one path per fault.

It speaks HTTP/1.1 over raw sockets rather than through http.server, so a
fault can be anything a broken or hostile site does on the wire: reset the
connection, never answer, drip bytes, lie about lengths, stream forever.
Every loop is bounded by `LONGEST_FAULT_SECONDS` and ends when the server
closes, so a client that never gives up cannot keep a test running."""

from __future__ import annotations

import gzip
import itertools
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from functools import lru_cache

import brotli

LONGEST_FAULT_SECONDS = 30.0
MIB = 1024 * 1024
REASONS = {200: "OK", 302: "Found", 404: "Not Found", 410: "Gone", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def rss(items: list[tuple[str, str]], title: str = "频道", prolog: str = "", summary: str = "摘要") -> str:
    """An RSS 2.0 document of (title, link) items."""
    entries = "".join(f"<item><title>{t}</title><link>{link}</link><description>{t} {summary}</description></item>"
                      for t, link in items)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n{prolog}<rss version="2.0"><channel><title>{title}</title>'
            f"<link>http://example.org/</link>{entries}</channel></rss>")


def article_html(slug: str, title: str, body: str, charset: str = "utf-8") -> str:
    """A page in the markup of `ARTICLE_SELECTORS`, canonically at
    https://example.org/<slug>.html."""
    return (f'<html><head><meta charset="{charset}"><link rel="canonical" href="https://example.org/{slug}.html">'
            f'</head><body><h1 class="article-title">{title}</h1><div class="article-main">{body}</div></body></html>')


ARTICLE_SELECTORS = '[article]\ntitle = "h1.article-title"\nbody = ".article-main"\n'


@lru_cache(maxsize=1)
def gzip_bomb(mebibytes: int = 1024) -> bytes:
    """`mebibytes` MiB of zeros as one gzip member of about 1 KiB per MiB.
    One MiB is compressed once and its (self-contained, fully flushed)
    deflate segment repeated, so building a 1 GiB bomb takes no time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(MIB)
    segment = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00" + bytes(4) + b"\x02\xff"
    final_block = b"\x03\x00"  # an empty fixed-Huffman block with BFINAL set
    trailer = struct.pack("<II", crc, (mebibytes * MIB) & 0xFFFFFFFF)
    return header + segment * mebibytes + final_block + trailer


@lru_cache(maxsize=1)
def brotli_bomb(mebibytes: int = 1024) -> bytes:
    """`mebibytes` MiB of zeros in brotli: about 1.6 KiB for 1 GiB."""
    compressor = brotli.Compressor(quality=5)
    block = bytes(MIB)
    return b"".join(compressor.process(block) for _ in range(mebibytes)) + compressor.finish()


@lru_cache(maxsize=1)
def feed_of_entries(count: int) -> bytes:
    items = "".join(f"<item><title>条目{n}</title><link>https://example.org/many/{n}</link></item>"
                    for n in range(count))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>很多</title>'
            f"{items}</channel></rss>").encode()


class Exchange:
    """One request on one connection, with ways to answer it badly."""

    def __init__(self, server: FaultServer, sock: socket.socket, method: str, path: str):
        self.server, self.sock, self.method, self.path = server, sock, method, path

    def send(self, data: bytes) -> bool:
        """False once the client has gone."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def head(self, status: int, headers: dict[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
        lines += [f"{name}: {value}" for name, value in {"Connection": "close", **headers}.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def answer(self, status: int, body: bytes | str = b"", content_type: str = "application/rss+xml; charset=utf-8",
               headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send(self.head(status, {"Content-Type": content_type, "Content-Length": str(len(data)),
                                     **(headers or {})}) + data)

    def wait(self, seconds: float = LONGEST_FAULT_SECONDS) -> bool:
        """Sleep unless the server is closing; False when it is."""
        return not self.server.closing.wait(seconds)

    def reset(self) -> None:
        # Linger 0: close() sends RST instead of FIN.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def drip(self, data: bytes, every_seconds: float = 1.0) -> None:
        started = time.monotonic()
        for byte in data:
            if time.monotonic() - started > LONGEST_FAULT_SECONDS or not self.send(bytes([byte])):
                return
            if not self.wait(every_seconds):
                return

    def stream(self, chunks: Callable[[int], bytes | None], chunked: bool = False) -> None:
        """Send chunks(0), chunks(1), … until one is None, the client goes,
        the server closes or time is up; `chunked` frames them."""
        started, n = time.monotonic(), 0
        while not self.server.closing.is_set() and time.monotonic() - started < LONGEST_FAULT_SECONDS:
            data = chunks(n)
            if data is None:
                return
            if chunked:
                data = f"{len(data):x}\r\n".encode() + data + b"\r\n"
            if not self.send(data):
                return
            n += 1


Fault = Callable[[Exchange], None]


class FaultServer:
    """`routes[path] = fault`; anything else (robots.txt too) is a 404.
    `hits` counts requests per path."""

    def __init__(self):
        self.routes: dict[str, Fault] = {}
        self.hits: Counter[str] = Counter()
        self.closing = threading.Event()
        self.lock = threading.Lock()
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                owner._handle(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 64

        self.tcp = Server(("127.0.0.1", 0), Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.tcp.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(10)
        reader = sock.makefile("rb")
        try:
            request_line = reader.readline(8192).decode("latin-1").split()
            while reader.readline(8192) not in (b"\r\n", b"\n", b""):
                pass  # headers: no fault depends on them
        except OSError:
            return
        if len(request_line) < 2:
            return
        method, path = request_line[0], request_line[1]
        with self.lock:
            self.hits[path] += 1
        exchange = Exchange(self, sock, method, path)
        fault = self.routes.get(path)
        try:
            if fault is None:
                exchange.answer(404, b"not here", "text/plain")
            else:
                fault(exchange)
        except OSError:
            pass  # the client hung up on a fault: that is its right

    def __enter__(self) -> FaultServer:
        threading.Thread(target=self.tcp.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.closing.set()
        self.tcp.shutdown()
        self.tcp.server_close()


# -- the faults ---------------------------------------------------------------


def status(code: int, headers: dict[str, str] | None = None) -> Fault:
    return lambda ex: ex.answer(code, f"error {code}", "text/html", headers)


def reset(ex: Exchange) -> None:
    ex.reset()


def never_answer(ex: Exchange) -> None:
    ex.wait()


def drip_body(ex: Exchange) -> None:
    body = rss([("慢", "https://example.org/slow")]).encode()
    ex.send(ex.head(200, {"Content-Type": "application/rss+xml", "Content-Length": str(len(body))}))
    ex.drip(body)


def drip_headers(ex: Exchange) -> None:
    ex.drip(b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 4000 + b"\r\n\r\n")


def huge(declared: bool) -> Fault:
    size = 50 * MIB

    def fault(ex: Exchange) -> None:
        headers = {"Content-Type": "application/rss+xml"}
        if declared:
            headers["Content-Length"] = str(size)
        ex.send(ex.head(200, headers))
        block = b"<!-- padding -->" * (MIB // 16)
        ex.stream(lambda n: block if n < size // MIB else None)
    return fault


def bomb(encoding: str) -> Fault:
    """1 GiB of zeros under Content-Encoding `encoding`: gzip, "gzip, gzip"
    (the bomb compressed again, 2.4 KiB) or br."""
    data = {"gzip": gzip_bomb, "gzip, gzip": lambda: gzip.compress(gzip_bomb(), 9), "br": brotli_bomb}[encoding]()
    return lambda ex: ex.answer(200, data, headers={"Content-Encoding": encoding})


def redirect(location: str) -> Fault:
    return lambda ex: ex.answer(302, b"", "text/html", {"Location": location})


def endless_chunks(ex: Exchange) -> None:
    ex.send(ex.head(200, {"Content-Type": "application/rss+xml", "Transfer-Encoding": "chunked"}))
    head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    item = b"<item><title>x</title><link>https://example.org/endless</link></item>" * 100
    ex.stream(lambda n: head if n == 0 else item, chunked=True)


def truncated_transfer(ex: Exchange) -> None:
    body = rss([("截断", "https://example.org/cut")]).encode()
    ex.send(ex.head(200, {"Content-Type": "application/rss+xml", "Content-Length": str(len(body) * 10)}) + body)


def body(data: bytes | str, content_type: str = "application/rss+xml; charset=utf-8",
         headers: dict[str, str] | None = None) -> Fault:
    return lambda ex: ex.answer(200, data, content_type, headers)



def fresh_feed(source: str, entries: int, delay_seconds: float = 0.0, summary: str = "摘要") -> Fault:
    """A feed of `entries` items that are all new at every request (their
    links carry the request's number), answered after `delay_seconds`."""
    requests = itertools.count()

    def fault(ex: Exchange) -> None:
        n = next(requests)
        if delay_seconds and not ex.wait(delay_seconds):
            return
        items = [(f"{source} 第{n}次 条目{k}", f"https://example.org/{source}/{n}/{k}") for k in range(entries)]
        ex.answer(200, rss(items, title=source, summary=summary))
    return fault
