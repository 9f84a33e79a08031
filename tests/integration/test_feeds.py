"""The whole path over real HTTP: snapshot site → fetch → parse → store →
feeds, checked with feedparser (strict) and the RFC 4287 schema."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from lxml import etree

from tests.support.checks import parse_strict, validate_atoms
from feedsvc.core.outlets import slugify
from tests.support.paths import PAGES
from tests.support.stores import instance_folder

OUTLET_COUNTS = {"胶东在线": 2, "鲁网": 3, "中国山东网": 3, "新华网": 1, "大众日报": 2}
SEED_URL = "https://news.iqilu.com/shandong/yaowen/2019/1023/4371235.shtml"
SEED_CASE = json.loads((PAGES / "seed-article.json").read_text(encoding="utf-8"))
ATOM_NS = "{http://www.w3.org/2005/Atom}"


def outlet_path(outlet: str, fmt: str = "atom") -> str:
    return f"/feeds/outlet/{slugify(outlet)}.{fmt}"


def get_feed(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response, parse_strict(response.data)


def test_outlet_feeds_hold_exactly_the_seed_items(seeded_app, tmp_path):
    client = seeded_app.test_client()
    response, feed = get_feed(client, "/feeds/all.atom")
    assert response.content_type == "application/atom+xml; charset=utf-8"
    assert len(feed.entries) == 11
    bodies = [response.data]
    seen = set()
    for outlet, count in OUTLET_COUNTS.items():
        response, feed = get_feed(client, outlet_path(outlet))
        bodies.append(response.data)
        assert len(feed.entries) == count, outlet
        for entry in feed.entries:
            [category] = [t for t in entry.tags if t.scheme == "tag:feedsvc,2026:outlet"]
            assert category.term == outlet
            seen.add(entry.id)
    assert len(seen) == 11
    validate_atoms(bodies, tmp_path)  # one jing run for them all


def test_every_atom_entry_has_an_author(seeded_app):
    """RFC 4287 §4.1.1: an entry without its own author takes the feed's;
    the schema cannot check that, so check it here, for every feed."""
    client = seeded_app.test_client()
    for path in ["/feeds/all.atom", *(outlet_path(o) for o in OUTLET_COUNTS)]:
        root = etree.fromstring(client.get(path).data)
        feed_authors = [a.findtext(f"{ATOM_NS}name") for a in root.findall(f"{ATOM_NS}author")]
        for entry in root.findall(f"{ATOM_NS}entry"):
            names = [a.findtext(f"{ATOM_NS}name") for a in entry.findall(f"{ATOM_NS}author")] or feed_authors
            assert names and all(names), (path, entry.findtext(f"{ATOM_NS}title"))
        assert "大众日报" not in feed_authors and "胶东在线" not in feed_authors  # never the outlet
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"


def test_seed_article_entry(seeded_app):
    _, feed = get_feed(seeded_app.test_client(), outlet_path("大众日报"))
    entries = {e.link: e for e in feed.entries}
    seed = entries[SEED_URL]
    expect = SEED_CASE["expect"]
    assert seed.title == expect["title"]
    assert seed.author == "刘一颖"
    assert seed.published == "2019-10-23T07:55:10+08:00"
    assert seed.updated.endswith("+08:00")
    assert seed.summary == expect["summary"]
    assert "作为近些年来" in seed.content[0].value
    listing_item = entries["https://news.iqilu.com/shandong/shandonggedi/20191022/4370702.shtml"]
    assert listing_item.published == "2019-10-22T00:00:00+08:00"  # day precision, shown at 00:00 local
    assert "详细" not in listing_item.summary and "author" not in listing_item


def test_same_day_items_keep_page_order(seeded_app):
    _, feed = get_feed(seeded_app.test_client(), "/feeds/all.atom?limit=500")
    day_only = [e.title for e in feed.entries if e.published == "2019-10-22T00:00:00+08:00"]
    seed_order = [i["title"] for i in SEED_CASE["expect"]["related"]]
    assert day_only == [t for t in seed_order if t in day_only] and len(day_only) == 4


def test_rss(seeded_app):
    response, feed = get_feed(seeded_app.test_client(), outlet_path("大众日报", "rss"))
    assert response.content_type == "application/rss+xml; charset=utf-8"
    assert feed.version == "rss20" and len(feed.entries) == 2
    seed = next(e for e in feed.entries if e.link == SEED_URL)
    assert seed.author == "刘一颖" and seed.published.endswith("+0800")
    assert seed.id.startswith("urn:uuid:")


def test_second_refresh_changes_nothing(refreshed_app):
    client = refreshed_app.test_client()
    before = {e.id: e.updated for e in get_feed(client, "/feeds/all.atom")[1].entries}
    [report] = refreshed_app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    assert (report.status, report.new, report.updated) == ("ok", 0, 0)
    after = {e.id: e.updated for e in get_feed(client, "/feeds/all.atom")[1].entries}
    assert after == before


def test_listing_gains_one_item(refreshed_app, site_dir):
    index = site_dir / "shandong/yaowen/index.shtml"
    page = site_dir / "shandong/shandonggedi/20191022/4370790.shtml"
    new_page = site_dir / "shandong/shandonggedi/20191024/4372000.shtml"
    new_page.parent.mkdir(parents=True)
    new_page.write_text(page.read_text(encoding="utf-8")
                        .replace("20191022/4370790", "20191024/4372000")
                        .replace("第82届中国国际医疗器械博览会开幕 新华医疗惊艳亮相", "新的一条新闻")
                        .replace("2019-10-22 10:05:48", "2019-10-24 08:00:00"), encoding="utf-8")
    html = index.read_text(encoding="utf-8")
    first = html.index('<li class="news-item">')
    added = ('<li class="news-item"><h3><a href="/shandong/shandonggedi/20191024/4372000.shtml">新的一条新闻</a></h3>'
             '<span class="pub-date">2019-10-24</span></li>\n')
    index.write_text(html[:first] + added + html[first:], encoding="utf-8")
    client = refreshed_app.test_client()
    before = {e.id for e in get_feed(client, "/feeds/all.atom")[1].entries}
    [report] = refreshed_app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    assert (report.new, report.updated) == (1, 0)
    entries = get_feed(client, "/feeds/all.atom")[1].entries
    assert len(entries) == 12 and entries[0].title == "新的一条新闻"
    assert {e.id for e in entries} - before == {entries[0].id}


def test_failing_source_keeps_its_items(refreshed_app, site_dir):
    client = refreshed_app.test_client()
    before = get_feed(client, "/feeds/all.atom")[1].entries
    (site_dir / "shandong/yaowen/index.shtml").unlink()  # the channel page now answers 404
    [report] = refreshed_app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    assert report.status == "error" and report.error_kind == "http_status" and "404" in report.error
    after = get_feed(client, "/feeds/all.atom")[1].entries
    assert [(e.id, e.updated) for e in after] == [(e.id, e.updated) for e in before]
    state = refreshed_app.extensions["feedsvc"].store.source_state("iqilu-shandong")
    assert state.consecutive_failures == 1 and "404" in state.last_error
    assert state.next_run_at > state.last_attempt_at


def test_server_error_source_keeps_items(tmp_path, httpserver, site_dir):
    """A source whose server answers 500 after a good refresh."""
    from feedsvc.app import create_app
    from feedsvc.snapshot import RECIPES_DIR

    failing = {"on": False}

    def serve(request):
        from werkzeug import Response

        if failing["on"]:
            return Response("boom", status=500)
        path = site_dir / request.path.lstrip("/")
        return Response(path.read_bytes(), content_type="text/html") if path.is_file() else Response(status=404)

    httpserver.expect_request("").respond_with_handler(serve)
    app = create_app({"INSTANCE_PATH": instance_folder(tmp_path / "i"), "RECIPES_PATH": str(RECIPES_DIR),
                      "RECIPE_VARIABLES": {"snapshot": httpserver.url_for("").rstrip("/")},
                      "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8,::1", "FETCH_HOST_DELAY_SECONDS": 0})
    refresher = app.extensions["feedsvc"].refresher
    assert refresher.refresh_many(["iqilu-shandong"])[0].new == 11
    failing["on"] = True
    report = refresher.refresh_many(["iqilu-shandong"])[0]
    assert report.status == "error" and "500" in report.error
    _, feed = get_feed(app.test_client(), "/feeds/all.atom")
    assert len(feed.entries) == 11
    refresher.close()


def test_unknown_outlet_is_404_with_the_known_ones(seeded_app):
    response = seeded_app.test_client().get(f"/feeds/outlet/{quote('不存在的报')}.atom")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "不存在的报" in text and all(outlet in text for outlet in OUTLET_COUNTS)


@pytest.mark.parametrize("limit", ["0", "501", "abc", "-1", "1.5", "", "1e2"])
def test_bad_limit_is_400(seeded_app, limit):
    for path in ("/feeds/all.atom", outlet_path("鲁网")):
        response = seeded_app.test_client().get(path, query_string={"limit": limit})
        assert response.status_code == 400 and "limit" in response.get_data(as_text=True)


def test_limit(seeded_app):
    client = seeded_app.test_client()
    assert len(get_feed(client, "/feeds/all.atom?limit=2")[1].entries) == 2
    assert len(get_feed(client, "/feeds/all.rss?limit=500")[1].entries) == 11
    assert client.get("/feeds/all.txt").status_code == 404


def test_conditional_get(seeded_app):
    client = seeded_app.test_client()
    first = client.get("/feeds/all.atom")
    assert first.headers["ETag"]
    again = client.get("/feeds/all.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data


def test_index_page_lists_outlets(seeded_app):
    response = seeded_app.test_client().get("/")
    html = etree.HTML(response.data)
    links = {a.get("href") for a in html.iter("a")}
    from feedsvc.core.outlets import slugify

    assert all(f"/feeds/outlet/{slugify(o)}.atom" in links for o in OUTLET_COUNTS)
    text = "".join(html.itertext())
    assert all(o in text for o in OUTLET_COUNTS) and "http://localhost/feeds/all.atom" in \
        {i.get("value") for i in html.iter("input")}
    assert seeded_app.test_client().get("/healthz").get_json() == {
        "status": "ok", "items": 11, "sources": 1, "failing_sources": []}
