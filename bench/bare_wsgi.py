"""The ceiling for the serve group: a plain WSGI callable that answers with
fixed bytes (200, gzip bytes when the client takes them, or 304 when
If-None-Match names the tag), run under the Procfile's own web server
command in place of feedsvc. No Flask, no cache, no counting: what the
server itself costs per request, for each feed the bench serves."""

from __future__ import annotations

import json
import os


def _answers(body_path: str, gzip_path: str, etag: str) -> tuple:
    with open(body_path, "rb") as handle:
        body = handle.read()
    with open(gzip_path, "rb") as handle:
        gzipped = handle.read()
    kind = ("Content-Type", "application/atom+xml; charset=utf-8")
    plain = [kind, ("Content-Length", str(len(body))), ("ETag", etag), ("Vary", "Accept, Accept-Encoding")]
    packed = [kind, ("Content-Length", str(len(gzipped))), ("Content-Encoding", "gzip"), ("ETag", etag + "-gz"),
              ("Vary", "Accept, Accept-Encoding")]
    return etag, body, plain, gzipped, packed, [("ETag", etag)]


def create_app():
    files = {path: _answers(*spec) for path, spec in json.loads(os.environ["BENCH_BARE_FILES"]).items()}

    def app(environ, start_response):
        etag, body, plain, gzipped, packed, not_modified = files[environ.get("PATH_INFO", "")]
        if environ.get("HTTP_IF_NONE_MATCH") == etag:
            start_response("304 NOT MODIFIED", not_modified)
            return []
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            start_response("200 OK", packed)
            return [gzipped]
        start_response("200 OK", plain)
        return [body]

    return app
