"""HTTP semantics of feeds: validators, 304s, gzip, HEAD, CORS, caching
headers, and the regeneration cache."""

from __future__ import annotations

import gzip
import threading
import time

import lxml.html
import pytest

from tests.support.checks import parse_strict
from feedsvc.app import create_app
from feedsvc.render import ATOM_TYPE, JSON_TYPE, RSS_TYPE
from feedsvc.snapshot import RECIPES_DIR
from feedsvc.web.state import FEED_CACHE
from tests.support.stores import instance_folder, sqlite_only

PATHS = ["/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json", "/feeds/source/iqilu-shandong.atom",
         "/feeds.opml"]


# Feeds are written and served alike from either store, so this module runs
# on SQLite; what the store gives them is tested on both (test_feeds.py,
# test_api.py, test_store.py).
module_database_url, database_url = sqlite_only()


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
    config = {"INSTANCE_PATH": instance_folder(tmp_path / "i"), "RECIPES_PATH": str(RECIPES_DIR),
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


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_browsers_get_a_page_readers_the_feed(seeded_app, fmt):
    """No XSLT needed: a browser (HTML first in Accept) gets an HTML page of
    the same items; every feed reader gets the feed; Vary and the tags keep
    caches and 304s apart."""
    client = seeded_app.test_client()
    page = client.get(f"/feeds/all.{fmt}", headers={"Accept": BROWSER_ACCEPT})
    assert page.content_type == "text/html; charset=utf-8" and "Accept" in page.headers["Vary"]
    html = lxml.html.fromstring(page.data)
    assert len(html.cssselect("article.entry")) == 11 and b"xml-stylesheet" not in page.data
    subscribe = {a.get("href") for a in html.cssselect("a.subscribe")}
    assert subscribe == {f"http://localhost/feeds/all.{f}" for f in ("atom", "rss", "json")}
    # Day-only items show as dates, times in the feed's zone, not ISO stamps.
    shown = [t.text for t in html.cssselect("article.entry time")]
    assert "2019-10-23" in shown and not any("T" in text for text in shown)
    for accept in READER_ACCEPTS:
        headers = {"Accept": accept} if accept else {}
        feed = client.get(f"/feeds/all.{fmt}", headers=headers)
        assert feed.content_type.startswith({"atom": ATOM_TYPE, "rss": RSS_TYPE, "json": JSON_TYPE}[fmt]), accept
        assert "Accept" in feed.headers["Vary"] and feed.headers["ETag"] != page.headers["ETag"]
        again = client.get(f"/feeds/all.{fmt}", headers={**headers, "If-None-Match": feed.headers["ETag"]})
        assert again.status_code == 304
    again = client.get(f"/feeds/all.{fmt}", headers={"Accept": BROWSER_ACCEPT, "If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304
    # A reader's tag never gets a browser a 304 for the page, nor the other way round.
    assert client.get(f"/feeds/all.{fmt}", headers={"Accept": BROWSER_ACCEPT, "If-None-Match": feed.headers["ETag"]}
                      ).status_code == 200


def test_cors_preflight_and_exposed_validators(seeded_app):
    """A web reader's conditional fetch from another origin: the preflight
    allows If-None-Match and If-Modified-Since; ETag, Last-Modified and
    Link are readable; every answer (304 and errors too) says so."""
    client = seeded_app.test_client()
    for path in ("/feeds/all.atom", "/feeds/outlet/luwang.json", "/feeds.opml", "/api/items"):
        preflight = client.options(path, headers={"Origin": "https://reader.example", "Access-Control-Request-Method":
                                                  "GET", "Access-Control-Request-Headers": "if-none-match"})
        assert preflight.status_code in (200, 204), path
        assert preflight.headers["Access-Control-Allow-Origin"] == "*"
        allowed = {h.strip().lower() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"if-none-match", "if-modified-since"} <= allowed
        assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
        assert int(preflight.headers["Access-Control-Max-Age"]) > 0
    first = client.get("/feeds/all.atom", headers={"Origin": "https://reader.example"})
    exposed = {h.strip() for h in first.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "Last-Modified", "Link"} <= exposed
    again = client.get("/feeds/all.atom", headers={"Origin": "https://reader.example",
                                                   "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in again.headers["Access-Control-Expose-Headers"]
    assert client.get("/feeds/outlet/nope.atom").headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in client.get("/").headers  # the index is no API


def test_paging_links_are_stable_under_new_items(refreshed_app):
    """RFC 5005 section 3: first, next and previous links. A page URL shows
    the same items after new ones arrive, and previous leads back."""
    from feedsvc.core.models import ItemRecord

    client = refreshed_app.test_client()

    def page(url: str):
        feed = parse_strict(client.get(url.removeprefix("http://localhost")).data)
        return [e.id for e in feed.entries], {l.rel: l.href for l in feed.feed.links if l.rel != "alternate"}

    first_ids, first_links = page("/feeds/all.atom?limit=4")
    assert "previous" not in first_links and first_links["first"] == "http://localhost/feeds/all.atom?limit=4"
    second_ids, second_links = page(first_links["next"])
    third_ids, third_links = page(second_links["next"])
    assert second_links["first"] == first_links["first"] and second_links["previous"] == first_links["first"]
    assert page(third_links["previous"])[0] == second_ids  # previous of the third page is the second
    assert len(set(first_ids + second_ids + third_ids)) == 11
    store = refreshed_app.extensions["feedsvc"].store
    store.sync_sources([])
    store.upsert_items([ItemRecord(url=f"https://news.example/new/{n}", source_id="iqilu-shandong", title=f"新{n}",
                                   detail=1, outlet="鲁网") for n in range(3)])
    assert page(first_links["next"])[0] == second_ids  # the same page, however many arrived
    assert page(third_links["previous"])[0] == second_ids
