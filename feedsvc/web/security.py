"""App-wide guards: request targets no route could want are refused with a
4xx before any view sees them, and every response carries the headers
that keep browsers from running or sniffing anything feedsvc did not
mean as a page."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_to_bytes

from flask import Flask, Response, request

# Everything from feedsvc itself, nothing inline: item text that slipped
# past escaping still could not run. The XSLT feed view counts as script.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
                           "frame-ancestors 'none'; form-action 'self'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Links lead to news sites: they need not learn where a reader found them.
    "Referrer-Policy": "no-referrer",
}
# Longer than any feed URL with every filter set; granian takes targets far
# longer, so the limit is kept here, under any server.
MAX_TARGET_BYTES = 8192
# Headers a browser or feed reader sends fit in a few hundred bytes; the
# server's own limit (granian: a 400 KB buffer) is far above this.
MAX_HEADER_BYTES = 8192
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


def init_app(app: Flask) -> None:
    app.before_request(refuse_malformed_target)
    app.after_request(add_headers)


def _wsgi_bytes(value: str) -> bytes:
    # WSGI hands over the request line's bytes as a latin-1 string.
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # a server that decoded them already
        return value.encode("utf-8", "surrogatepass")


def _header_bytes(environ) -> int:
    return sum(len(key) + len(value) for key, value in environ.items()
               if key.startswith("HTTP_") and isinstance(value, str))


def _problem(path: bytes, query: str, environ) -> tuple[int, str] | None:
    if len(path) + len(query) > MAX_TARGET_BYTES:
        return 414, f"request target longer than {MAX_TARGET_BYTES} bytes"
    if _header_bytes(environ) > MAX_HEADER_BYTES:
        return 431, f"request headers longer than {MAX_HEADER_BYTES} bytes"
    if _BAD_ESCAPE.search(query):
        return 400, "query string has a % not followed by two hex digits"
    for part, name in ((path, "path"), (unquote_to_bytes(_wsgi_bytes(query)), "query string")):
        try:
            part.decode("utf-8")
        except UnicodeDecodeError:
            return 400, f"{name} is not valid UTF-8"
    # No route has a control character in it. Parameters are checked by
    # the views, which name the parameter at fault.
    if _CONTROL.search(path):
        return 400, "path holds control characters"
    if not request.host:
        return 400, "Host header is malformed"
    return None


def refuse_malformed_target() -> Response | None:
    """Over-long targets, broken percent-encoding, bytes that are not UTF-8,
    control characters (NUL, CR, LF) in the path and bad Host headers: 4xx
    here, so no view, store query or header ever sees them."""
    environ = request.environ
    problem = _problem(_wsgi_bytes(environ.get("PATH_INFO", "")), environ.get("QUERY_STRING", ""), environ)
    if problem is None:
        return None
    status, message = problem
    if request.path.startswith("/api/"):  # the API's own error shape
        return Response(json.dumps({"error": message, "parameter": None}), status, mimetype="application/json")
    return Response(message + "\n", status, mimetype="text/plain")


def add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
