"""Every feed URL in every format, checked by real validators."""

from __future__ import annotations

import json
from urllib.parse import unquote

import jsonschema
from lxml import etree

from tests.support.checks import parse_strict, validate_atom, validate_atoms
from feedsvc.core.outlets import slugify
from tests.support.paths import SPEC
from tests.support.stores import sqlite_only

JSON_SCHEMA = json.loads((SPEC / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
OUTLETS = {"胶东在线": 2, "鲁网": 3, "中国山东网": 3, "新华网": 1, "大众日报": 2}
ATOM = "{http://www.w3.org/2005/Atom}"
SEED_URL = "https://news.iqilu.com/shandong/yaowen/2019/1023/4371235.shtml"


# Feeds are written and served alike from either store, so this module runs
# on SQLite; what the store gives them is tested on both (test_feeds.py,
# test_api.py, test_store.py).
module_database_url, database_url = sqlite_only()


def feed_paths(fmt: str) -> list[str]:
    return [f"/feeds/all.{fmt}", f"/feeds/source/iqilu-shandong.{fmt}",
            *(f"/feeds/outlet/{slugify(o)}.{fmt}" for o in OUTLETS)]


def own_path(path: str) -> str:
    """The path a feed gives as its own: an outlet's by its slug, however
    it was asked for."""
    if not path.startswith("/feeds/outlet/"):
        return path
    name, _, fmt = unquote(path.removeprefix("/feeds/outlet/")).rpartition(".")
    return f"/feeds/outlet/{slugify(name)}.{fmt}"


def test_atom_everywhere(seeded_app, tmp_path):
    client = seeded_app.test_client()
    bodies = []
    for path in feed_paths("atom"):
        response = client.get(path)
        assert response.content_type == "application/atom+xml; charset=utf-8"
        parse_strict(response.data)
        bodies.append(response.data)
        root = etree.fromstring(response.data)
        links = {(l.get("rel"), l.get("type")): l.get("href") for l in root.findall(f"{ATOM}link")}
        assert links[("self", "application/atom+xml")].endswith(own_path(path))
        assert ("alternate", "text/html") in links
        assert ("alternate", "application/rss+xml") in links and ("alternate", "application/feed+json") in links
        newest = max(e.findtext(f"{ATOM}updated") for e in root.findall(f"{ATOM}entry"))
        assert root.findtext(f"{ATOM}updated") == newest.replace("+08:00", "+00:00") or \
            parse_strict(response.data).feed.updated_parsed == max(
                e.updated_parsed for e in parse_strict(response.data).entries)
    validate_atoms(bodies, tmp_path)  # one jing run for them all


def test_rss_required_elements(seeded_app):
    client = seeded_app.test_client()
    for path in feed_paths("rss"):
        response = client.get(path)
        assert response.content_type == "application/rss+xml; charset=utf-8"
        feed = parse_strict(response.data)
        assert feed.version == "rss20"
        channel = etree.fromstring(response.data).find("channel")
        for required in ("title", "link", "description"):
            assert channel.findtext(required), required
        self_link = channel.find("{http://www.w3.org/2005/Atom}link[@rel='self']")
        assert self_link is not None and self_link.get("href").endswith(own_path(path))
        for item in channel.findall("item"):
            assert item.findtext("title") or item.findtext("description")
            assert item.findtext("guid")


def test_json_feed(seeded_app):
    client = seeded_app.test_client()
    for path in feed_paths("json"):
        response = client.get(path)
        assert response.content_type == "application/feed+json; charset=utf-8"
        data = response.get_json()
        jsonschema.validate(data, JSON_SCHEMA)
        assert data["feed_url"].endswith(own_path(path))
        # feedparser 6.0 does not read JSON Feed: a strict JSON parse and the
        # schema stand in for it.
        assert json.loads(response.data.decode("utf-8", errors="strict")) == data
    items = client.get("/feeds/all.json").get_json()["items"]
    assert len(items) == 11
    seed = next(i for i in items if i["url"] == SEED_URL)
    assert seed["date_published"] == "2019-10-23T07:55:10+08:00"
    assert seed["authors"] == [{"name": "刘一颖"}] and seed["tags"] == ["大众日报"]
    assert seed["_feedsvc"]["published_precision"] == "second" and seed["_feedsvc"]["editors"] == ["杨凡", "怀初侠"]
    day_items = [i for i in items if i["_feedsvc"]["published_precision"] == "day"]
    assert len(day_items) == 6 and all(i["date_published"].endswith("T00:00:00+08:00") for i in day_items)


def test_per_source_feed(seeded_app):
    client = seeded_app.test_client()
    _, feed = None, parse_strict(client.get("/feeds/source/iqilu-shandong.atom").data)
    assert len(feed.entries) == 11 and feed.feed.author == "齐鲁网 · 山东要闻"
    response = client.get("/feeds/source/nope.atom")
    assert response.status_code == 404 and "iqilu-shandong" in response.get_data(as_text=True)


def _opml_groups(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200 and response.content_type.startswith("text/x-opml")
    root = etree.fromstring(response.data)
    assert root.tag == "opml" and root.get("version") == "2.0" and root.findtext("head/title")
    return {g.get("text"): g.findall("outline") for g in root.find("body").findall("outline")}


def test_opml_lists_the_outlet_feeds_and_a_second_one_the_others(seeded_app):
    """The outlet feeds hold every item once: /feeds.opml lists only them
    (readers import every outline whatever its group); everything and the
    source feeds are in /feeds-more.opml."""
    client = seeded_app.test_client()
    groups = _opml_groups(client, "/feeds.opml")
    assert list(groups) == ["Outlets"]
    assert {o.get("text") for o in groups["Outlets"]} == set(OUTLETS)
    assert {o.get("xmlUrl") for o in groups["Outlets"]} == {
        f"http://localhost/feeds/outlet/{slugify(o)}.atom" for o in OUTLETS}  # canonical URLs
    assert {o.get("text"): o.get("description") for o in groups["Outlets"]}["新华网"] == "1 item"
    assert {o.get("text"): o.get("description") for o in groups["Outlets"]}["鲁网"] == "3 items"
    more = _opml_groups(client, "/feeds-more.opml")
    assert [o.get("xmlUrl").rsplit("/", 1)[1] for o in more["Sources"]] == ["iqilu-shandong.atom"]
    assert [o.get("xmlUrl") for o in more["All items"]] == ["http://localhost/feeds/all.atom"]
    total = 0
    for outline in groups["Outlets"]:
        path = outline.get("xmlUrl").removeprefix("http://localhost")
        total += len(parse_strict(client.get(path).data).entries)
    assert total == 11  # every item once
    for outline in more["Sources"] + more["All items"]:
        assert outline.get("type") == "rss"
        path = outline.get("xmlUrl").removeprefix("http://localhost")
        assert len(parse_strict(client.get(path).data).entries) >= 1


def test_lead_image_becomes_enclosure_thumbnail_and_json_image(tmp_path, site_dir, demo_app):
    page = site_dir / "shandong/yaowen/2019/1023/4371235.shtml"
    html = page.read_text(encoding="utf-8")
    html = html.replace('<div class="article-main">',
                        '<div class="article-main"><p><img src="/img/2019/lead.jpg" alt=""></p>', 1)
    page.write_text(html, encoding="utf-8")
    demo_app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    client = demo_app.test_client()
    image = "https://news.iqilu.com/img/2019/lead.jpg"  # resolved against the canonical URL
    atom = parse_strict(client.get("/feeds/outlet/dazhong-ribao.atom").data)
    seed = next(e for e in atom.entries if e.link == SEED_URL)
    assert [e.href for e in seed.enclosures] == [image] and seed.enclosures[0].type == "image/jpeg"
    assert seed.media_thumbnail[0]["url"] == image
    validate_atom(client.get("/feeds/all.atom").data, tmp_path)
    rss = parse_strict(client.get("/feeds/outlet/dazhong-ribao.rss").data)
    assert next(e for e in rss.entries if e.link == SEED_URL).enclosures[0].href == image
    items = client.get("/feeds/all.json").get_json()["items"]
    assert next(i for i in items if i["url"] == SEED_URL)["image"] == image


def test_index_has_autodiscovery_for_every_format(seeded_app):
    html = etree.HTML(seeded_app.test_client().get("/").data)
    types = {l.get("type") for l in html.iter("link") if l.get("rel") == "alternate"}
    assert types >= {"application/atom+xml", "application/rss+xml", "application/feed+json"}
