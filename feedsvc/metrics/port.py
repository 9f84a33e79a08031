"""The scheduler's metrics port: a process without a web server still
answers Prometheus, with the same bearer token as the web's `/metrics`."""

from __future__ import annotations

import socket
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from feedsvc.core.auth import check_bearer


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a scrape in progress never holds the process open


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # a scrape every few seconds is not news
        pass


def metrics_app(registry: CollectorRegistry, token: str | None):
    """The registry as a WSGI app, behind the token when one is set."""
    exposition = make_wsgi_app(registry)

    def app(environ, start_response):
        if token:
            decision = check_bearer(environ.get("HTTP_AUTHORIZATION"), token, "METRICS_TOKEN")
            if decision.status != 200:
                reason = "401 Unauthorized" if decision.status == 401 else "403 Forbidden"
                start_response(reason, [("Content-Type", "text/plain; charset=utf-8"),
                                        ("WWW-Authenticate", "Bearer")])
                return [decision.reason.encode() + b"\n"]
        return exposition(environ, start_response)

    return app


def serve_metrics(registry: CollectorRegistry, address: str, port: int, token: str | None) -> WSGIServer:
    """Serve `/metrics` from a daemon thread; raises OSError when the
    address cannot be bound."""
    server_class = _Server
    if ":" in address:  # an IPv6 address
        server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
    server = make_server(address, port, metrics_app(registry, token), server_class=server_class,
                         handler_class=_QuietHandler)
    # Polled every 0.1 s (not 0.5): the scheduler stops without waiting on it.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="metrics", daemon=True).start()
    return server
