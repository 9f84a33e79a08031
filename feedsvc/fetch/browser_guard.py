"""The SSRF guard for a headless browser: a forward proxy on loopback that
Chromium must send every request through (scripts, images, frames,
redirects, WebSockets). Each target is resolved here and checked as
feedsvc.fetch.ssrf checks fetches, and the connection goes to the very address
that was checked; anything else gets a 403 and never leaves."""

from __future__ import annotations

import logging
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from feedsvc.core.networks import Network
from feedsvc.fetch.ssrf import describe, is_permitted, resolve

log = logging.getLogger(__name__)
_HOP_HEADERS = ("proxy-connection", "proxy-authorization", "connection", "keep-alive")


class GuardProxy:
    def __init__(self, allowed: tuple[Network, ...], max_bytes: int, timeout_seconds: float):
        self.allowed, self.max_bytes, self.timeout = allowed, max_bytes, timeout_seconds
        self.refused: list[str] = []
        guard = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_CONNECT(self):
                host, _, port = self.path.rpartition(":")
                guard._tunnel(self, host.strip("[]"), int(port or 443))

            def _forward(self):
                guard._forward(self)

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _forward

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, name="browser-guard", daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _checked_address(self, handler, host: str, port: int, what: str) -> str | None:
        try:
            addresses = resolve(host, port)
        except OSError:
            addresses = []
        permitted = [a for a in addresses if is_permitted(a, self.allowed)]
        if permitted:
            return permitted[0]
        reason = describe(addresses[0]) if addresses else "no address"
        self.refused.append(what)
        log.info("browser_request_refused target=%s reason=%s", what, reason)
        _reply(handler, 403, f"refused: {host} is {reason}")
        return None

    def _connect(self, handler, host: str, port: int, what: str) -> socket.socket | None:
        """A connection to the address the guard checked for `host`, or
        None once the client has its 403 or 502."""
        address = self._checked_address(handler, host, port, what)
        if address is None:
            return None
        try:
            return socket.create_connection((address, port), timeout=self.timeout)
        except OSError as exc:
            _reply(handler, 502, f"cannot connect: {exc}")
            return None

    def _tunnel(self, handler, host: str, port: int) -> None:
        upstream = self._connect(handler, host, port, f"{host}:{port}")
        if upstream is None:
            return
        handler.send_response(200, "Connection established")
        handler.end_headers()
        handler.close_connection = True
        self._relay(handler.connection, upstream)

    def _forward(self, handler) -> None:
        url = urlsplit(handler.path)
        if url.scheme != "http" or not url.hostname:
            self.refused.append(handler.path[:200])
            _reply(handler, 403, "refused: only http(s) through this proxy")
            return
        port = url.port or 80
        upstream = self._connect(handler, url.hostname, port, handler.path[:200])
        if upstream is None:
            return
        target = url.path or "/"
        if url.query:
            target += "?" + url.query
        lines = [f"{handler.command} {target} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in handler.headers.items() if k.lower() not in _HOP_HEADERS]
        lines.append("Connection: close")
        body = b""
        length = handler.headers.get("Content-Length")
        if length and length.isdigit():
            body = handler.rfile.read(min(int(length), self.max_bytes))
        upstream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        handler.close_connection = True
        self._relay(handler.connection, upstream, one_way=True)

    def _relay(self, client: socket.socket, upstream: socket.socket, one_way: bool = False) -> None:
        """Pass bytes until either side closes, the size cap or the time limit."""
        sent = 0
        sockets = [upstream] if one_way else [client, upstream]
        try:
            while True:
                ready, _, _ = select.select(sockets, [], [], self.timeout)
                if not ready:
                    return
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is upstream:
                        sent += len(data)
                        if sent > self.max_bytes:
                            return
                        client.sendall(data)
                    else:
                        upstream.sendall(data)
        except OSError:
            return
        finally:
            upstream.close()


def _reply(handler, status: int, message: str) -> None:
    body = (message + "\n").encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "text/plain; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(body)
    handler.close_connection = True
