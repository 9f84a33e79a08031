"""HTTP semantics of feeds: validators, 304s, gzip, HEAD, CORS, caching
headers, and the regeneration cache."""

from __future__ import annotations

import gzip
import threading
import time

import pytest

from conftest import parse_strict
from feedsvc.app import create_app
from feedsvc.snapshot import RECIPES_DIR
from feedsvc.web.state import FEED_CACHE

PATHS = ["/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json", "/feeds/source/iqilu-shandong.atom",
         "/feeds.opml"]


@pytest.mark.parametrize("path", PATHS)
def test_validators_and_304(seeded_app, path):
    client = seeded_app.test_client()
    first = client.get(path)
    assert first.status_code == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith('W/')  # strong
    by_etag = client.get(path, headers={"If-None-Match": etag})
    assert by_etag.status_code == 304 and by_etag.data == b""
    by_date = client.get(path, headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304 and by_date.data == b""
    stale = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.data == first.data
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert by_etag.headers["Access-Control-Allow-Origin"] == "*"
    assert "Accept-Encoding" in first.headers["Vary"]


def test_last_modified_is_the_newest_item_change(seeded_app):
    response = seeded_app.test_client().get("/feeds/all.atom")
    feed = parse_strict(response.data)
    newest = max(e.updated_parsed for e in feed.entries)
    assert response.last_modified.timetuple()[:6] == newest[:6]


def test_cache_control_follows_the_refresh_interval(seeded_app):
    response = seeded_app.test_client().get("/feeds/all.atom")
    assert response.cache_control.public and response.cache_control.max_age == 30 * 60 // 4


def test_gzip(seeded_app):
    client = seeded_app.test_client()
    plain = client.get("/feeds/all.atom")
    zipped = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip",
                                                  "If-None-Match": zipped.headers["ETag"]}).status_code == 304


def test_head(seeded_app):
    client = seeded_app.test_client()
    get, head = client.get("/feeds/all.rss"), client.head("/feeds/all.rss")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == get.headers["ETag"]
    assert int(head.headers["Content-Length"]) == len(get.data)


def test_one_render_per_change_however_many_clients(refreshed_app, site_dir):
    cache = refreshed_app.extensions[FEED_CACHE]
    client = refreshed_app.test_client()
    client.get("/feeds/all.atom")
    renders = cache.stats.renders
    for _ in range(20):
        client.get("/feeds/all.atom")
    assert cache.stats.renders == renders  # hits do not render
    index = site_dir / "shandong/yaowen/index.shtml"
    html = index.read_text(encoding="utf-8")
    cut = html.index('<li class="news-item">')
    index.write_text(html[:cut] + '<li class="news-item"><h3><a href="/x.shtml">新</a></h3></li>' + html[cut:],
                     encoding="utf-8")
    assert refreshed_app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])[0].new == 1
    barrier = threading.Barrier(8)
    bodies = []

    def fetch():
        barrier.wait()
        bodies.append(refreshed_app.test_client().get("/feeds/all.atom").data)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One render for the feed, and one for the outlet directory it needs.
    assert cache.stats.renders - renders == 2
    assert len(set(bodies)) == 1 and len(parse_strict(bodies[0]).entries) == 12


def test_a_change_by_another_process_shows_within_a_second(tmp_path, snapshot, site_dir):
    config = {"INSTANCE_PATH": str(tmp_path / "i"), "RECIPES_PATH": str(RECIPES_DIR),
              "RECIPE_VARIABLES": {"snapshot": snapshot.base_url}, "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
              "FETCH_HOST_DELAY_SECONDS": 0}
    web = create_app(config)  # default check interval
    worker = create_app(config)  # another process's store handle
    worker.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    client = web.test_client()
    deadline = time.monotonic() + 1.0
    while len(parse_strict(client.get("/feeds/all.atom").data).entries) != 11:
        assert time.monotonic() < deadline, "change not visible within a second"
        time.sleep(0.05)
    reads = []
    store = web.extensions["feedsvc"].store
    original = store.version
    store.version = lambda: reads.append(1) or original()
    started = time.monotonic()
    for _ in range(200):
        client.get("/feeds/all.atom")
    elapsed = time.monotonic() - started
    # Hits read the version stamp at most once per check interval, not per request.
    assert len(reads) <= elapsed / web.config["CACHE_CHECK_INTERVAL_SECONDS"] + 2


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
READER_ACCEPTS = ["application/atom+xml, application/rss+xml;q=0.9, */*;q=0.1", "*/*", None,
                  "application/rss+xml, application/rdf+xml;q=0.8, application/atom+xml;q=0.6, */*;q=0.2"]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_browsers_get_the_styled_feed_readers_the_feed_type(seeded_app, fmt):
    client = seeded_app.test_client()
    page = client.get(f"/feeds/all.{fmt}", headers={"Accept": BROWSER_ACCEPT})
    assert page.content_type == "application/xml; charset=utf-8" and "Accept" in page.headers["Vary"]
    assert b'<?xml-stylesheet type="text/xsl" href="http://localhost/static/feed.xsl"?>' in page.data
    assert client.get("/static/feed.xsl").status_code == 200
    for accept in READER_ACCEPTS:
        headers = {"Accept": accept} if accept else {}
        feed = client.get(f"/feeds/all.{fmt}", headers=headers)
        assert feed.content_type == f"application/{fmt}+xml; charset=utf-8", accept
        assert feed.data == page.data and feed.headers["ETag"] != page.headers["ETag"]
    assert client.get("/feeds/all.json", headers={"Accept": BROWSER_ACCEPT}).content_type.startswith(
        "application/feed+json")
