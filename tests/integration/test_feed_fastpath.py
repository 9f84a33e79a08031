"""The WSGI fast path answers repeated feed requests exactly as Flask would:
same status, headers (but Date's value) and body, for every variant a
client can ask for, and it stops at the first store change the cache sees."""

from __future__ import annotations

import gzip
import time

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from tests.support.checks import parse_strict
from feedsvc.app import create_app
from feedsvc.snapshot import RECIPES_DIR, SITE_DIR, SnapshotServer
from feedsvc.web.fastpath import FeedFastPath
from feedsvc.web.state import FEED_CACHE
from tests.support.stores import instance_folder

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PATHS = ["/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json", f"/feeds/outlet/luwang.atom",
         "/feeds/source/iqilu-shandong.rss?limit=5&utm_source=x", "/feeds.opml"]
VARIANTS = [{}, {"Accept-Encoding": "gzip, br"}, {"Accept": BROWSER_ACCEPT},
            {"Accept": BROWSER_ACCEPT, "Accept-Encoding": "gzip"}]


def make_app(tmp_path, snapshot, interval: float):
    app = create_app({"INSTANCE_PATH": instance_folder(tmp_path / "instance"), "RECIPES_PATH": str(RECIPES_DIR),
                      "RECIPE_VARIABLES": {"snapshot": snapshot.base_url}, "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
                      "FETCH_HOST_DELAY_SECONDS": 0, "CACHE_CHECK_INTERVAL_SECONDS": interval})
    assert app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])[0].status == "ok"
    return app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app for the module's read-only cases: each measures what its
    own requests change."""
    with SnapshotServer(SITE_DIR) as snapshot:
        app = make_app(tmp_path_factory.mktemp("fastpath"), snapshot, 60)  # no version reads: only the fast path varies
    yield app
    app.extensions["feedsvc"].refresher.close()
    app.extensions["feedsvc"].store.engine.dispose()


def fast_path(app) -> FeedFastPath:
    assert isinstance(app.wsgi_app, FeedFastPath)
    return app.wsgi_app


def flask_only(app) -> Client:
    """A client of the same app with the fast path taken away."""
    return Client(fast_path(app).app, Response)


def request(client, method: str, path: str, headers: dict):
    return client.open(path, method=method, headers=headers)


def assert_same(fast, slow) -> None:
    assert fast.status == slow.status
    assert fast.data == slow.data
    fast_headers = [(k, v) for k, v in fast.headers.items() if k != "Date"]
    slow_headers = [(k, v) for k, v in slow.headers.items() if k != "Date"]
    assert fast_headers == slow_headers
    assert ("Date" in fast.headers) == ("Date" in slow.headers)
    if "Date" in fast.headers:
        assert abs(fast.date.timestamp() - slow.date.timestamp()) <= 2


def served_fast(app, client, method: str, path: str, headers: dict):
    """The response of the second identical request, checked to come from
    the fast path (the first one teaches it)."""
    request(client, method, path, headers)
    before = fast_path(app).served
    response = request(client, method, path, headers)
    assert fast_path(app).served == before + 1, (method, path, headers)
    return response


@pytest.mark.parametrize("path", PATHS)
def test_same_answers_as_flask_for_every_variant(app, path):
    client, slow = app.test_client(), flask_only(app)
    for method in ("GET", "HEAD"):
        for headers in VARIANTS:
            fast = served_fast(app, client, method, path, headers)
            assert fast.status_code == 200
            assert_same(fast, request(slow, method, path, headers))
            if method == "HEAD":
                assert fast.data == b"" and int(fast.headers["Content-Length"]) > 0
            # Revalidation: by tag, weak tag, date; and a stale tag gets the feed.
            tag, date = fast.headers["ETag"], fast.headers["Last-Modified"]
            for conditional, status in (({"If-None-Match": tag}, 304), ({"If-None-Match": f"W/{tag}"}, 304),
                                        ({"If-None-Match": f'"x", {tag}'}, 304),
                                        ({"If-Modified-Since": date}, 304),
                                        ({"If-None-Match": '"stale"', "If-Modified-Since": date}, 200)):
                asked = {**headers, **conditional}
                again = served_fast(app, client, method, path, asked)
                assert again.status_code == status, (asked, again.status)
                assert_same(again, request(slow, method, path, asked))


def test_variants_are_the_right_bytes(app):
    client = app.test_client()
    plain = served_fast(app, client, "GET", "/feeds/all.atom", {})
    zipped = served_fast(app, client, "GET", "/feeds/all.atom", {"Accept-Encoding": "gzip"})
    page = served_fast(app, client, "GET", "/feeds/all.atom", {"Accept": BROWSER_ACCEPT})
    assert len(parse_strict(plain.data).entries) == 11
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.data) == plain.data
    assert page.content_type == "text/html; charset=utf-8" and page.data.count(b'<article class="entry">') == 11
    assert len({plain.headers["ETag"], zipped.headers["ETag"], page.headers["ETag"]}) == 3
    for response in (plain, zipped, page):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Cache-Control"] == "public, max-age=450"


def test_fast_answers_are_counted(app):
    client = app.test_client()
    metrics = app.extensions["feedsvc"].metrics
    cache = app.extensions[FEED_CACHE]

    def requests_counted(status: str) -> float:
        return metrics.registry.get_sample_value("feedsvc_feed_requests_total",
                                                 {"format": "rss", "status": status}) or 0

    tag = client.get("/feeds/all.rss").headers["ETag"]
    client.get("/feeds/all.rss", headers={"If-None-Match": tag})
    hits, ok, not_modified, served = cache.stats.hits, requests_counted("200"), requests_counted("304"), \
        fast_path(app).served
    for _ in range(5):
        client.get("/feeds/all.rss")
        client.get("/feeds/all.rss", headers={"If-None-Match": tag})
    assert fast_path(app).served == served + 10
    assert cache.stats.hits == hits + 10
    assert (requests_counted("200"), requests_counted("304")) == (ok + 5, not_modified + 5)


def test_unusual_requests_go_to_flask(app):
    client = app.test_client()
    served = fast_path(app).served
    for _ in range(2):
        assert client.get("/feeds/all.atom?since=7d").status_code == 200  # relative window: not kept
        assert client.get("/feeds/all.atom", headers={"Range": "bytes=0-10"}).status_code == 200
        assert client.get("/feeds/all.atom", headers={"If-Match": '"nope"'}).status_code == 412
        assert client.get("/feeds/nope.atom").status_code == 404
        assert client.get("/feeds/all.atom?limit=0").status_code == 400
        assert client.post("/feeds/all.atom").status_code == 405
    assert fast_path(app).served == served


def test_a_store_change_ends_fast_answers_within_the_check_interval(tmp_path, snapshot, site_dir):
    app = make_app(tmp_path, snapshot, 0.2)
    client = app.test_client()
    old = served_fast(app, client, "GET", "/feeds/all.atom", {})
    old_zipped = served_fast(app, client, "GET", "/feeds/all.atom", {"Accept-Encoding": "gzip"})
    index = site_dir / "shandong/yaowen/index.shtml"
    html = index.read_text(encoding="utf-8")
    cut = html.index('<li class="news-item">')
    index.write_text(html[:cut] + '<li class="news-item"><h3><a href="/x.shtml">新</a></h3></li>' + html[cut:],
                     encoding="utf-8")
    # Written by another app: another process's store handle.
    worker = create_app({**app.config, "CACHE_CHECK_INTERVAL_SECONDS": 60})
    assert worker.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])[0].new == 1
    changed_at = time.monotonic()
    while True:
        response = client.get("/feeds/all.atom")
        if response.data != old.data:
            break
        assert time.monotonic() - changed_at < 0.2 + 0.5, "fast path still serves the old feed"
        time.sleep(0.02)
    assert len(parse_strict(response.data).entries) == 12
    assert response.headers["ETag"] != old.headers["ETag"]
    assert client.get("/feeds/all.atom", headers={"If-None-Match": old.headers["ETag"]}).status_code == 200
    zipped = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(zipped.data) == response.data and zipped.data != old_zipped.data
    renewed = served_fast(app, client, "GET", "/feeds/all.atom", {})
    assert renewed.data == response.data
    for done in (app, worker):
        done.extensions["feedsvc"].refresher.close()
        done.extensions["feedsvc"].store.engine.dispose()
