"""Sites that attack the outlet list and the status page: an outlet named
like another's slug or like a path, names with bidi and zero-width
characters, a source that names a new outlet in every item, IPv6
addresses that embed private IPv4 ones, and /api/sources read by anyone.
Every source is a feed served from a loopback HTTP site and read by the
app's own refresher into a real store; answers come through the Flask
test client."""

from __future__ import annotations

import os
import re
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
import pytest
from sqlalchemy import func, select, text
from werkzeug import Response

from tests.support.checks import parse_strict

from feedsvc.store import migrate
from feedsvc.app import create_app
from feedsvc.store.engine import make_engine
from feedsvc.store.schema import source_outlets
from tests.support.stores import sqlite_store

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SLUG_PATH = re.compile(r"^/feeds/outlet/[a-z0-9]+(?:-[a-z0-9]+)*\.(?:atom|rss|json)$")


class FeedSite:
    """A loopback site whose one RSS feed a test rewrites between refreshes."""

    def __init__(self, httpserver):
        self.body = b""
        httpserver.expect_request("/feed.xml").respond_with_handler(
            lambda _request: Response(self.body, content_type="application/rss+xml; charset=utf-8"))
        self.url = httpserver.url_for("/feed.xml")

    def serve(self, entries, age_minutes=None) -> None:
        """entries: (key, title, outlet, author) tuples, newest first, a
        minute apart unless `age_minutes(n)` says how old the n-th is."""
        age = age_minutes or (lambda n: n)
        items = "".join(
            f"<item><title>{escape(title)}</title><link>https://news.example.cn/{key}.html</link>"
            f"<guid>https://news.example.cn/{key}.html</guid>"
            + (f"<author>{escape(author)}</author>" if author else "")
            + (f'<source url="https://news.example.cn/">{escape(outlet)}</source>' if outlet else "")
            + f"<pubDate>{format_datetime(NOW - timedelta(minutes=age(n)))}</pubDate></item>"
            for n, (key, title, outlet, author) in enumerate(entries))
        self.body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>测试</title>'
                     f"<link>https://news.example.cn/</link><description>d</description>{items}"
                     "</channel></rss>").encode("utf-8")


def write_recipe(folder, url: str, extra: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "news.toml").write_text(
        f'id = "news"\nname = "News"\nkind = "feed"\nstart_urls = ["{url}"]\nobey_robots_txt = false\n{extra}',
        encoding="utf-8")


def make_app(tmp_path, database_url: str, **settings):
    return create_app({
        "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database_url, "DB_AUTO_UPGRADE": True,
        "RECIPES_PATH": str(tmp_path / "feeds"), "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
        "FETCH_HOST_DELAY_SECONDS": 0, "CACHE_CHECK_INTERVAL_SECONDS": 0, **settings})


def refresh(app):
    [report] = app.extensions["feedsvc"].refresher.refresh_many(["news"], force=True)
    assert report.status == "ok", report
    return report


def close(app) -> None:
    app.extensions["feedsvc"].refresher.close()
    app.extensions["feedsvc"].store.engine.dispose()


def outlets_of(client, path: str, moved: bool = False) -> set[str]:
    """The outlets the outlet feed at `path` shows. `moved`: `path` is a
    name or alias URL, which answers 301 to the outlet's slug URL."""
    response = client.get(path)
    if moved:
        assert response.status_code == 301 and SLUG_PATH.match(urlsplit(response.location).path), path
        response = client.get(urlsplit(response.location).path)
    assert response.status_code == 200, (path, response.data[:200])
    return {tag.term for entry in parse_strict(response.data).entries for tag in entry.get("tags", [])}


# -- 1. one namespace ----------------------------------------------------------

HOSTILE_NAMES = ["jiaodong-zaixian", "outlet", "..", "../..", "%2e%2e", "Jiaodong Zaixian", "all"]


def test_an_outlet_cannot_take_another_outlets_url(tmp_path, httpserver, database_url):
    site = FeedSite(httpserver)
    write_recipe(tmp_path / "feeds", site.url)
    app = make_app(tmp_path, database_url)
    client = app.test_client()
    site.serve([("a1", "胶东在线的新闻", "胶东在线", None)])
    refresh(app)
    # Later, the site files items under names that are 胶东在线's slug, a route word and paths.
    site.serve([(f"h{n}", f"冒名的新闻{n}", name, None) for n, name in enumerate(HOSTILE_NAMES)]
               + [("a1", "胶东在线的新闻", "胶东在线", None)])
    refresh(app)

    assert outlets_of(client, "/feeds/outlet/jiaodong-zaixian.atom") == {"胶东在线"}  # its URL stays its own
    slugs = {o["name"]: o["slug"] for o in client.get("/api/outlets").get_json()["outlets"]}
    assert slugs["胶东在线"] == "jiaodong-zaixian"
    assert slugs["jiaodong-zaixian"] == "jiaodong-zaixian-2" and slugs["Jiaodong Zaixian"] == "jiaodong-zaixian-3"
    assert slugs["outlet"] == "outlet-2" and slugs[".."] == "outlet-3" and slugs["../.."] == "outlet-4"
    assert slugs["all"] == "all-2"
    assert len(set(slugs.values())) == len(slugs)
    for name, slug in slugs.items():  # each slug serves its owner, and so does the name where no slug is spelt so
        assert outlets_of(client, f"/feeds/outlet/{slug}.atom") == {name}, name
        assert {i["outlet"] for i in client.get("/api/items", query_string={"outlet": slug}).get_json()["items"]} \
            == {name}
    assert {i["outlet"] for i in client.get("/api/items", query_string={"outlet": ".."}).get_json()["items"]} \
        == {".."}
    assert outlets_of(client, "/feeds/outlet/outlet.atom", moved=True) == {"outlet"}

    # Every link feedsvc writes is a slug URL that serves the outlet it names.
    opml = lxml.etree.fromstring(client.get("/feeds.opml").data)
    outlines = {o.get("text"): o.get("xmlUrl") for o in opml.iterfind(".//outline[@xmlUrl]")
                if "/feeds/outlet/" in o.get("xmlUrl")}
    assert set(outlines) == set(slugs)
    for name, url in outlines.items():
        assert SLUG_PATH.match(urlsplit(url).path), url
        assert outlets_of(client, urlsplit(url).path) == {name}
    index = lxml.html.fromstring(client.get("/").data)
    hrefs = [a for a in index.xpath("//a/@href | //link/@href") if "/feeds/outlet/" in a]
    assert hrefs and all(SLUG_PATH.match(h) for h in hrefs), hrefs
    self_link = parse_strict(client.get("/feeds/outlet/outlet.atom", follow_redirects=True).data).feed.links
    assert {urlsplit(l.href).path for l in self_link if l.rel == "self"} == {"/feeds/outlet/outlet-2.atom"}
    close(app)


# What the outlet directory served before slugs were kept (recorded from
# the code of revision 0005): names in the order they first appeared, the
# slug column as that code wrote it (each name's romanization), and the
# slug each served link used.
OLD_STORE = [("胶东在线", "jiaodong-zaixian", "jiaodong-zaixian"),
             ("jiaodong-zaixian", "jiaodong-zaixian", "jiaodong-zaixian-2"),
             ("..", "outlet", "outlet"),
             ("outlet", "outlet", "outlet-2"),
             ("大众日报", "dazhong-ribao", "dazhong-ribao"),
             ("Jiaodong Zaixian", "jiaodong-zaixian", "jiaodong-zaixian-3"),
             ("../..", "outlet", "outlet-3"),
             ("%2e%2e", "2e-2e", "2e-2e")]


def test_slugs_in_use_survive_the_upgrade(tmp_path, blank_database_url):
    engine = make_engine(blank_database_url)
    migrate.upgrade(engine, "0005_bigram_index")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sources (id, name, kind, consecutive_failures) VALUES ('news', 'N', 'feed', 0)"))
        for n, (name, stored_slug, _served) in enumerate(OLD_STORE, start=1):
            at = NOW - timedelta(hours=n)
            item_id = conn.execute(text(
                "INSERT INTO items (guid, url, source_id, title, outlet, editors, detail, first_seen_at, "
                "updated_at, sort_at) VALUES (:guid, :url, 'news', :title, :outlet, '[]', 1, :at, :at, :at) "
                "RETURNING id"),
                {"guid": f"urn:uuid:{n}", "url": f"https://p/{n}", "title": f"旧{n}", "outlet": name,
                 "at": at}).scalar_one()
            conn.execute(text("INSERT INTO outlet_stats (name, slug, item_count, latest, first_id) "
                              "VALUES (:name, :slug, 1, :at, :id)"), {"name": name, "slug": stored_slug, "at": at,
                                                                      "id": item_id})
    migrate.upgrade(engine)
    with engine.connect() as conn:
        slugs = dict(conn.execute(text("SELECT name, slug FROM outlet_stats")).all())
        pairs = conn.execute(select(func.count()).select_from(source_outlets)).scalar()
    engine.dispose()
    assert slugs == {name: served for name, _stored, served in OLD_STORE}
    assert pairs == len(OLD_STORE)

    (tmp_path / "feeds").mkdir()
    write_recipe(tmp_path / "feeds", "http://127.0.0.1:9/feed.xml")
    app = make_app(tmp_path, blank_database_url)
    client = app.test_client()
    for name, _stored, served in OLD_STORE:
        assert outlets_of(client, f"/feeds/outlet/{served}.atom") == {name}, served
    # A new outlet after the upgrade takes the next free suffix.
    from feedsvc.core.models import ItemRecord

    app.extensions["feedsvc"].store.upsert_items([ItemRecord(url="https://p/new", source_id="news", title="新",
                                                             detail=1, outlet="JIAODONG ZAIXIAN")])
    assert {o["name"]: o["slug"] for o in client.get("/api/outlets").get_json()["outlets"]}[
        "JIAODONG ZAIXIAN"] == "jiaodong-zaixian-4"
    close(app)


# -- 2. names cleaned at ingest ------------------------------------------------

def test_names_lose_bidi_and_zero_width_characters(tmp_path, httpserver, database_url):
    site = FeedSite(httpserver)
    write_recipe(tmp_path / "feeds", site.url)
    app = make_app(tmp_path, database_url)
    site.serve([("s1", "正常\u202egnp.exe\u202c的标\u200b题", "胶东\u200b在线\u2066", "记者\u200d张三\ufeff"),
                ("s2", "ＡＩ\u00ad新闻", "胶东在线", None)])
    refresh(app)
    items = {i["url"].rsplit("/", 1)[1]: i for i in app.test_client().get("/api/items").get_json()["items"]}
    assert items["s1.html"]["title"] == "正常gnp.exe的标题"
    assert items["s1.html"]["outlet"] == "胶东在线" and items["s1.html"]["author"] == "记者张三"
    assert items["s2.html"]["title"] == "AI新闻"  # full-width letters as ASCII, the soft hyphen gone
    [outlet] = app.test_client().get("/api/outlets").get_json()["outlets"]
    assert (outlet["name"], outlet["count"], outlet["slug"]) == ("胶东在线", 2, "jiaodong-zaixian")
    body = app.test_client().get("/feeds/all.atom").data.decode()
    assert not re.search("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u00ad]", body)
    close(app)


# -- 3. caps that cap ----------------------------------------------------------

def churn(count: int, start: int) -> list[tuple]:
    """`count` items, each under an outlet no item had before."""
    return [(f"c{n}", f"第{n}条", f"新来源{n:05d}号", None) for n in range(start + count - 1, start - 1, -1)]


def test_a_source_naming_a_new_outlet_per_item_stays_bounded(tmp_path, httpserver, database_url):
    site = FeedSite(httpserver)
    write_recipe(tmp_path / "feeds", site.url, "retention_max_items = 10\n")
    app = make_app(tmp_path, database_url, OUTLETS_PER_SOURCE_MAX=25)
    store = app.extensions["feedsvc"].store
    client = app.test_client()
    warnings = []
    for round_ in range(10):  # 300 items, 300 outlet names
        site.serve(churn(30, round_ * 30), lambda n, first=round_ * 30: 1000 - first - (29 - n))  # later, newer
        warnings += refresh(app).warnings
        assert store.count_items() <= 10
    with store.engine.connect() as conn:
        named = set(conn.execute(select(source_outlets.c.outlet)).scalars())
    assert len(named) == 25  # the first round's first 25 names; none since
    assert any("not taken" in w and "FEEDSVC_OUTLETS_PER_SOURCE_MAX" in w for w in warnings)
    # The recipe names no outlet of its own: items past the bound go to the source's name.
    assert {i["outlet"] for i in client.get("/api/items").get_json()["items"]} == {"News"}
    # The named outlets' items are all pruned: only the source's own is left.
    assert [o["name"] for o in client.get("/api/outlets").get_json()["outlets"]] == ["News"]
    index = client.get("/")
    assert index.status_code == 200 and len(index.data) < 16_000, len(index.data)
    close(app)


def test_outlet_lists_are_paged_or_cut(tmp_path, httpserver, database_url):
    site = FeedSite(httpserver)
    write_recipe(tmp_path / "feeds", site.url)
    app = make_app(tmp_path, database_url, OUTLETS_PER_SOURCE_MAX=250)
    client = app.test_client()
    site.serve(churn(300, 0))
    report = refresh(app)
    assert report.new == 300 and any("50 new outlet name(s) not taken" in w for w in report.warnings)
    assert app.extensions["feedsvc"].store.count_items() == 300

    # The 250 names taken, and the source's own outlet (its name) for the items of the 50 refused.
    shown = 250 + 1
    index = client.get("/")
    page = lxml.html.fromstring(index.data)
    assert len(page.xpath("//link[@type='application/atom+xml' and contains(@href, '/feeds/outlet/')]")) == 100
    assert page.xpath("//a[@rel='next']/@href") == ["/?page=2"]
    assert len(index.data) < 80_000, len(index.data)
    last = lxml.html.fromstring(client.get("/?page=3").data)
    assert len(last.xpath("//link[contains(@href, '/feeds/outlet/')]")) == shown - 200
    assert not last.xpath("//a[@rel='next']")
    assert client.get("/?page=0").status_code == 400

    first = client.get("/api/outlets").get_json()
    assert (len(first["outlets"]), first["total"], first["pages"]) == (100, shown, 3)
    seen, url = [], "/api/outlets"
    while url:
        body = client.get(url).get_json()
        seen += [o["slug"] for o in body["outlets"]]
        url = body["next_url"] and urlsplit(body["next_url"]).path + "?" + urlsplit(body["next_url"]).query
    assert len(seen) == len(set(seen)) == shown
    missing = client.get("/feeds/outlet/nobody.atom")
    assert missing.status_code == 404 and len(missing.data) < 2_000 and f"and {shown - 20} more".encode() in missing.data
    bad = client.get("/api/items?outlet=nobody")
    assert bad.status_code == 400 and len(bad.data) < 2_000
    opml = client.get("/feeds.opml")
    assert len(lxml.etree.fromstring(opml.data).findall(".//outline[@xmlUrl]")) == shown  # the outlet feeds
    more = client.get("/feeds-more.opml")
    assert len(lxml.etree.fromstring(more.data).findall(".//outline[@xmlUrl]")) == 2  # everything, the source
    close(app)


# -- 4. IPv6 forms through the fetcher -----------------------------------------

@pytest.mark.parametrize("host", ["64:ff9b::7f00:1", "64:ff9b:1::7f00:1", "2002:7f00:1::1", "::7f00:1",
                                  "::ffff:0:7f00:1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "::ffff:7f00:1"])
def test_ipv6_forms_embedding_loopback_are_refused_by_the_fetcher(tmp_path, httpserver, host):
    httpserver.expect_request("/feed.xml").respond_with_data("<rss/>")
    write_recipe(tmp_path / "feeds", f"http://[{host}]:{httpserver.port}/feed.xml")
    app = make_app(tmp_path, sqlite_store(tmp_path / "store.sqlite3"), FETCH_ALLOWED_NETWORKS="")
    [report] = app.extensions["feedsvc"].refresher.refresh_many(["news"])
    assert (report.status, report.error_kind) == ("error", "address_refused"), report
    assert "reaching " in report.error and "a loopback address" in report.error
    assert httpserver.log == []
    close(app)


# -- 5. /api/sources, public and private ----------------------------------------

def test_api_sources_shows_private_details_only_with_the_token(tmp_path, httpserver):
    secret = "k3y-0f-the-m1rror"
    # Not a feed: the refresh fails and records a message naming the URL.
    httpserver.expect_request("/feed.xml").respond_with_data("plain words", content_type="text/plain")
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "news.toml").write_text(
        'id = "news"\nname = "News"\nkind = "feed"\nstart_urls = ["{mirror}/feed.xml?key={key}"]\n'
        "obey_robots_txt = false\n", encoding="utf-8")
    mirror = f"http://127.0.0.1:{httpserver.port}"
    app = make_app(tmp_path, sqlite_store(tmp_path / "store.sqlite3"), REFRESH_TOKEN="the-token",
                   RECIPE_VARIABLES={"mirror": mirror, "key": secret})
    rt = app.extensions["feedsvc"]
    rt.refresher.refresh_many(["news"])
    assert rt.store.try_lease("news", rt.refresher.holder, timedelta(minutes=5))
    client = app.test_client()
    private = (secret, mirror, socket.gethostname(), f":{os.getpid()}")

    anonymous = client.get("/api/sources")
    assert anonymous.status_code == 200 and "Authorization" in anonymous.headers["Vary"]
    [source] = anonymous.get_json()["sources"]
    assert set(source) == {"id", "name", "kind", "status", "refresh_interval_minutes", "timezone", "item_count",
                           "last_attempt_at", "last_success_at", "last_error_kind", "consecutive_failures",
                           "next_run_at", "fields", "linked_pages", "feeds"}
    assert source["status"] == "failing" and source["last_error_kind"] == "parse"
    for word in private:
        assert word not in anonymous.data.decode(), word
        assert word not in client.get("/feeds.opml").data.decode(), word

    detailed = client.get("/api/sources", headers={"Authorization": "Bearer the-token"})
    assert detailed.status_code == 200 and "no-store" in detailed.headers["Cache-Control"]
    [source] = detailed.get_json()["sources"]
    assert source["start_urls"] == [f"{mirror}/feed.xml?key={secret}"]
    assert source["lease_holder"] == rt.refresher.holder and source["last_error"]
    assert all(word in detailed.data.decode() for word in private)

    assert client.get("/api/sources", headers={"Authorization": "Bearer wrong"}).status_code == 403
    missing = client.get("/api/sources", headers={"Authorization": "Basic dTpw"})
    assert missing.status_code == 401 and "Bearer" in missing.headers["WWW-Authenticate"]
    close(app)
