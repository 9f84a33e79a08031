"""The image proxy from the web side: item bodies and lead images pointed
at /img/<token> when FEEDSVC_IMAGE_PROXY is on (at render time: stored
bodies stay as fetched), and /img/ passed on to the images process when
`feedsvc serve` runs one alongside."""

from __future__ import annotations

from dataclasses import replace

import httpx
from flask import Blueprint, Flask, Response, current_app, request

from feedsvc.fetch.transfer import tls_context
from feedsvc.images.keys import image_signer
from feedsvc.images.rewrite import proxy_images
from feedsvc.images.tokens import ImageRef
from feedsvc.service import EXTENSION
from feedsvc.web.state import base_url, runtime

IMAGE_SIGNER = "feedsvc.image_signer"
IMAGE_UPSTREAM = "feedsvc.image_upstream"
bp = Blueprint("images", __name__)
_PASSED_HEADERS = ("content-type", "content-length", "cache-control", "etag", "x-content-type-options",
                   "content-security-policy", "access-control-allow-origin")


def init_app(app: Flask) -> None:
    if app.config["IMAGE_PROXY"]:
        app.extensions[IMAGE_SIGNER] = image_signer(app.config, app.extensions[EXTENSION].store)
    upstream = app.config.get("IMAGE_PROXY_UPSTREAM")
    if upstream:
        app.extensions[IMAGE_UPSTREAM] = (upstream.rstrip("/"), httpx.Client(timeout=60, trust_env=False, verify=tls_context()))
    app.register_blueprint(bp)


def _referer(source_id: str, page_url: str) -> str | None:
    recipe = runtime().recipes.get(source_id)
    configured = recipe.image_referer if recipe else None
    if configured is None:
        return page_url  # what the site's own pages send
    return configured or None  # "": no Referer at all


def with_proxied_images(items: list) -> list:
    """StoredItems with their images through the proxy, when it is on."""
    signer = current_app.extensions.get(IMAGE_SIGNER)
    if signer is None:
        return items
    prefix = f"{base_url()}/img/"
    out = []
    for item in items:
        referer = _referer(item.source_id, item.url)
        body = proxy_images(item.body_html, item.url, referer, signer, prefix)
        image = prefix + signer.sign(ImageRef(item.image, referer)) if item.image else None
        out.append(replace(item, body_html=body, image=image))
    return out


@bp.get("/img/<path:token>")
def image(token: str):
    found = current_app.extensions.get(IMAGE_UPSTREAM)
    if found is None:
        return Response("images are served by the images process (`feedsvc images`); route /img/ to it\n", 404,
                        mimetype="text/plain")
    upstream, client = found
    headers = {k: v for k, v in request.headers.items() if k.lower() in ("if-none-match",)}
    try:
        answer = client.get(f"{upstream}/img/{token}", headers=headers)
    except httpx.HTTPError as exc:
        return Response(f"image proxy unavailable: {type(exc).__name__}\n", 502, mimetype="text/plain")
    response = Response(answer.content, answer.status_code)
    for name in _PASSED_HEADERS:
        if name in answer.headers:
            response.headers[name] = answer.headers[name]
    return response
