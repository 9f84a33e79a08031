"""Cross-origin reading of feeds, OPML and the read API, done in one place:
every answer on those paths may be read by any origin, with the validators
and paging links exposed, and a preflight (a web reader sending its
If-None-Match or If-Modified-Since) answered here."""

from __future__ import annotations

from flask import Flask, Response, request

PUBLIC_PREFIXES = ("/feeds", "/api/")
ALLOW_METHODS = "GET, HEAD, OPTIONS"
ALLOW_HEADERS = "If-None-Match, If-Modified-Since, Accept, Accept-Language, Cache-Control"
EXPOSE_HEADERS = "ETag, Last-Modified, Link, Content-Language"
MAX_AGE_SECONDS = 86400
# For answers made in front of Flask (the fast path's refusals).
ALLOW_ANY_ORIGIN = ("Access-Control-Allow-Origin", "*")


def init_app(app: Flask) -> None:
    app.before_request(answer_preflight)
    app.after_request(add_headers)


def _public() -> bool:
    return request.path.startswith(PUBLIC_PREFIXES)


def answer_preflight() -> Response | None:
    """OPTIONS with Access-Control-Request-Method: what a browser asks
    before a cross-origin GET with headers of its own."""
    if request.method != "OPTIONS" or not _public() or "Access-Control-Request-Method" not in request.headers:
        return None
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
    response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
    response.headers["Access-Control-Max-Age"] = str(MAX_AGE_SECONDS)
    return response


def add_headers(response: Response) -> Response:
    if _public():
        response.headers[ALLOW_ANY_ORIGIN[0]] = ALLOW_ANY_ORIGIN[1]
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    return response
