"""The image proxy: signed /img/<token> URLs in rendered bodies, images
fetched with the Referer their site wants, checked, cached on disk within a
bound, and refused when forged, private, oversized or not raster."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from tests.support.checks import parse_strict
from feedsvc.app import create_app
from feedsvc.images.app import create_image_app
from feedsvc.images.rewrite import proxy_images
from feedsvc.images.tokens import ImageRef, Signer
from tests.support.sites import JPEG, LoggingListener, image_site
from tests.support.stores import close, image_proxy_settings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def site(httpserver):
    return image_site(httpserver)


def _get(proxy, path: str, headers: dict | None = None) -> httpx.Response:
    async def call():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=proxy), base_url="http://feeds.test") as client:
            return await client.get(path, headers=headers or {})
    return asyncio.run(call())


def _proxied_srcs(app) -> list[str]:
    body = app.test_client().get("/feeds/all.atom").data
    content = parse_strict(body).entries[0].content[0].value
    return re.findall(r'(?:src|srcset)="([^" ]+)', content)


@pytest.fixture
def refreshed(site, tmp_path):
    app = create_app(image_proxy_settings(tmp_path, site))
    assert app.extensions["feedsvc"].refresher.refresh_source("news").status == "ok"
    yield app
    close(app)


def test_an_image_refused_without_its_sites_referer_comes_through_the_proxy(refreshed, site, tmp_path):
    assert httpx.get(site.url("/pic.jpg")).status_code == 403  # hotlinked directly: refused
    srcs = _proxied_srcs(refreshed)
    assert srcs and all(s.startswith("http://localhost/img/") for s in srcs)
    proxy = create_image_app(image_proxy_settings(tmp_path, site))  # its own process in production; the key is in the store
    answer = _get(proxy, srcs[0].removeprefix("http://localhost"))
    assert answer.status_code == 200 and answer.content == JPEG
    assert answer.headers["content-type"] == "image/jpeg" and "max-age" in answer.headers["cache-control"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert site.hits("/pic.jpg")[-1].headers["Referer"] == site.url("/a/0.html")
    again = _get(proxy, srcs[0].removeprefix("http://localhost"), {"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and len(site.hits("/pic.jpg")) == 2  # a cache hit: not fetched again
    metrics = _get(proxy, "/metrics").text
    assert "feedsvc_image_cache_hits_total 1.0" in metrics and "feedsvc_image_cache_misses_total 1.0" in metrics
    assert f"feedsvc_image_bytes_total {float(len(JPEG))}" in metrics


def test_bodies_carry_proxied_urls_only_when_enabled(refreshed, site, tmp_path):
    stored = refreshed.extensions["feedsvc"].store.query_items()[0].body_html
    assert site.url("/pic.jpg") in stored and "/img/" not in stored  # stored as fetched
    close(refreshed)
    plain = create_app(image_proxy_settings(tmp_path, site, IMAGE_PROXY=False))
    assert set(_proxied_srcs(plain)) == {site.url("/pic.jpg")}
    close(plain)


def test_a_recipe_can_name_the_referer_or_send_none(site, tmp_path):
    config = image_proxy_settings(tmp_path, site)
    recipe = Path(config["RECIPES_PATH"]) / "news.toml"
    recipe.write_text(recipe.read_text().replace("[listing]", 'image_referer = ""\n[listing]'))
    app = create_app(config)
    app.extensions["feedsvc"].refresher.refresh_source("news")
    src = _proxied_srcs(app)[0]
    assert _get(create_image_app(config), src.removeprefix("http://localhost")).status_code == 502
    assert "Referer" not in site.hits("/pic.jpg")[-1].headers
    close(app)


def test_forged_and_altered_tokens_are_403(refreshed, site, tmp_path):
    proxy = create_image_app(image_proxy_settings(tmp_path, site))
    token = _proxied_srcs(refreshed)[0].rsplit("/", 1)[1]
    body, signature = token.split(".")
    forged = Signer("not the key").sign(ImageRef(site.url("/pic.jpg"), site.url("/a/0.html")))
    altered = Signer("x").sign(ImageRef("http://127.0.0.1:1/other.jpg", None)).split(".")[0] + "." + signature
    for bad in (forged, altered, body + "." + signature[::-1], "garbage", body):
        answer = _get(proxy, f"/img/{bad}")
        assert answer.status_code == 403 and "serves only the images of its own feeds" in answer.text
    assert 'feedsvc_image_refusals_total{reason="bad_token"} 5.0' in _get(proxy, "/metrics").text


@pytest.fixture
def proxy_and_signer(site, tmp_path):
    config = image_proxy_settings(tmp_path, site, SECRET_KEY="test-key", IMAGE_MAX_BYTES=4096,
                     FETCH_ALLOWED_NETWORKS="127.0.0.1/32")
    return create_image_app(config), Signer("test-key")


@pytest.mark.parametrize(("path", "body", "content_type", "status", "words"), [
    ("/page.html", b"<html><body>not an image</body></html>", "text/html", 415, "not a raster image"),
    ("/evil.svg", SVG, "image/svg+xml", 415, "SVG images are not served"),
    ("/evil-png.png", SVG, "image/png", 415, "not a raster image"),  # a label does not make it raster
    ("/html-as-png", PNG, "text/html", 415, "not an image"),
    ("/big.jpg", JPEG * 3, "image/jpeg", 502, "4096-byte limit"),
])
def test_what_is_not_a_small_raster_image_is_refused(site, proxy_and_signer, path, body, content_type, status,
                                                     words):
    proxy, signer = proxy_and_signer
    site.page(path, body, content_type=content_type)
    answer = _get(proxy, "/img/" + signer.sign(ImageRef(site.url(path), None)))
    assert answer.status_code == status and words in answer.text
    assert answer.headers["content-type"].startswith("text/plain")


def test_a_private_address_is_refused_before_connecting(proxy_and_signer):
    proxy, signer = proxy_and_signer
    with LoggingListener("127.0.0.2") as listener:
        for url in (listener.url("/secret.png"), "http://10.255.255.1/x.png", "http://[::1]:9/x.png"):
            answer = _get(proxy, "/img/" + signer.sign(ImageRef(url, None)))
            assert answer.status_code == 403 and "refused" in answer.text, url
        assert listener.requests == []
    assert 'feedsvc_image_refusals_total{reason="address_refused"} 3.0' in _get(proxy, "/metrics").text


def test_the_disk_cache_stays_under_its_bound(site, tmp_path):
    bound = 20_000
    config = image_proxy_settings(tmp_path, site, SECRET_KEY="k", IMAGE_CACHE_MAX_BYTES=bound)
    proxy, signer = create_image_app(config), Signer("k")
    folder = Path(config["INSTANCE_PATH"]) / "images"
    for n in range(12):  # 12 × ~6 KB: three times what the cache holds
        site.page(f"/p{n}.png", PNG + bytes([n]) * 5500, content_type="image/png")
        assert _get(proxy, "/img/" + signer.sign(ImageRef(site.url(f"/p{n}.png"), None))).status_code == 200
        on_disk = sum(p.stat().st_size for p in folder.iterdir())
        assert on_disk <= bound
    assert _get(proxy, "/img/" + signer.sign(ImageRef(site.url("/p11.png"), None))).status_code == 200
    assert len(site.hits("/p11.png")) == 1  # the newest is still cached
    assert _get(proxy, "/img/" + signer.sign(ImageRef(site.url("/p0.png"), None))).status_code == 200
    assert len(site.hits("/p0.png")) == 2  # the oldest was evicted and fetched again


def test_rewriting_keeps_what_is_not_an_http_image():
    signer = Signer("k")
    html = ('<p>前<img src="data:image/png;base64,AAAA" alt="x">中<img src="b.jpg" referrerpolicy="no-referrer" '
            'srcset="b.jpg 1x, https://cdn.example.org/b@2x.jpg 2x">后</p><picture><source srcset="c.webp"></picture>')
    out = proxy_images(html, "https://news.example.org/a/1.html", "https://news.example.org/a/1.html", signer,
                       "https://feeds.example.org/img/")
    assert 'src="data:image/png;base64,AAAA"' in out and "前" in out and "中" in out and "后" in out
    tokens = re.findall(r"https://feeds\.example\.org/img/([\w.-]+)", out)
    assert [signer.verify(t).url for t in tokens] == [
        "https://news.example.org/a/b.jpg", "https://news.example.org/a/b.jpg", "https://cdn.example.org/b@2x.jpg",
        "https://news.example.org/a/c.webp"]
    assert "referrerpolicy" not in out and " 2x" in out
    assert proxy_images("<p>no images</p>", "https://x.org/", None, signer, "/img/") == "<p>no images</p>"


def test_every_process_of_a_store_shares_the_generated_key(refreshed, site, tmp_path):
    token = _proxied_srcs(refreshed)[0].rsplit("/", 1)[1]
    other_web = create_app(image_proxy_settings(tmp_path, site))
    assert _proxied_srcs(other_web)[0].rsplit("/", 1)[1] == token
    close(other_web)
    with_key = create_image_app(image_proxy_settings(tmp_path, site, SECRET_KEY="configured"))
    assert _get(with_key, f"/img/{token}").status_code == 403  # another key: not ours
