"""The ceiling for the serve group: a plain WSGI callable that answers with
fixed bytes (200, or 304 when If-None-Match names its tag), run under the
Procfile's own web server command in place of feedsvc. No Flask, no cache,
no counting: what the server itself costs per request."""

from __future__ import annotations

import os


def create_app():
    with open(os.environ["BENCH_BARE_BODY"], "rb") as handle:
        body = handle.read()
    etag = os.environ["BENCH_BARE_ETAG"]
    ok = [("Content-Type", "application/atom+xml; charset=utf-8"), ("Content-Length", str(len(body))),
          ("ETag", etag)]
    not_modified = [("ETag", etag)]

    def app(environ, start_response):
        if environ.get("HTTP_IF_NONE_MATCH") == etag:
            start_response("304 NOT MODIFIED", not_modified)
            return []
        start_response("200 OK", ok)
        return [body]

    return app
