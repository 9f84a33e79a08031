"""Feed filters on the seed's 11 items."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.support.checks import parse_strict
from feedsvc.app import create_app
from feedsvc.core.outlets import OutletDirectory, slugify
from feedsvc.snapshot import RECIPES_DIR
from feedsvc.store.outlet_stats import OutletStat
from tests.support.stores import instance_folder


@pytest.fixture(scope="module")
def refreshed_app(seeded_app):
    """Every case here only reads: one crawl for the module."""
    return seeded_app


def titles(client, path: str, **params) -> list[str]:
    # Name and alias URLs of an outlet feed move to its slug URL.
    response = client.get(path, query_string=params, follow_redirects=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [e.title for e in parse_strict(response.data).entries]


@pytest.mark.parametrize(("params", "expected"), [
    ({"q": "乡村振兴"}, 2),
    ({"exclude": "乡村振兴"}, 9),
    ({"exclude": ["乡村振兴", "烟台"]}, 7),
    ({"since": "2019-10-23"}, 5),
    ({"until": "2019-10-22"}, 6),
    ({"since": "2019-10-22", "until": "2019-10-22"}, 6),
    ({"since": "2019-10-23T08:00:00+08:00"}, 2),
    ({"since": "2019-10-23T08:00:00"}, 2),  # no zone: Asia/Shanghai
    ({"author": "刘一颖"}, 1),
    ({"author": "刘一"}, 0),  # exact name, not a substring
    ({"outlet": ["胶东在线", "鲁网"]}, 5),
    ({"outlet": "jiaodong-zaixian"}, 2),
    ({"source": "iqilu-shandong"}, 11),
    ({"q": "乡村振兴", "outlet": "鲁网"}, 1),
    ({"q": "ＣＭＥＦ"}, 1),  # full-width folds to CMEF, and the match ignores case
    ({"q": "cmef"}, 1),
    ({"since": "100000d"}, 11),
    ({"since": "1h"}, 0),
])
def test_filter_counts(refreshed_app, params, expected):
    assert len(titles(refreshed_app.test_client(), "/feeds/all.atom", **params)) == expected


def test_filters_combine_with_the_path(refreshed_app):
    client = refreshed_app.test_client()
    assert len(titles(client, f"/feeds/outlet/{quote('鲁网')}.atom", since="2019-10-23")) == 2
    assert len(titles(client, f"/feeds/outlet/{quote('鲁网')}.atom", outlet="胶东在线")) == 5
    assert len(titles(client, "/feeds/source/iqilu-shandong.rss", q="烟台")) == 2


def test_slugs(refreshed_app):
    client = refreshed_app.test_client()
    by_name = titles(client, f"/feeds/outlet/{quote('中国山东网')}.atom")
    by_slug = titles(client, "/feeds/outlet/zhongguo-shandong-wang.atom")
    assert by_name == by_slug and len(by_slug) == 3
    assert {slugify(n) for n in ("胶东在线", "鲁网", "大众日报", "新华网")} == {
        "jiaodong-zaixian", "luwang", "dazhong-ribao", "xinhua-wang"}


def test_slug_collisions_are_stable():
    stats = [OutletStat("卢网", 1, None, 9), OutletStat("鲁网", 1, None, 3), OutletStat("BBC", 2, None, 5)]
    directory = OutletDirectory(stats)
    assert directory.resolve("鲁网").slug == "luwang"  # appeared first
    assert directory.resolve("卢网").slug == "luwang-2"
    assert directory.resolve("luwang-2").name == "卢网" and directory.resolve("bbc").name == "BBC"


def test_convert(refreshed_app):
    client = refreshed_app.test_client()
    converted = titles(client, f"/feeds/outlet/{quote('大众日报')}.atom", convert="s2t")
    assert "國際友城合作發展大會結碩果,山東將舉辦“友城+”等系列活動" in converted
    back = titles(client, f"/feeds/outlet/{quote('大众日报')}.atom", convert="t2s")
    assert "国际友城合作发展大会结硕果,山东将举办“友城+”等系列活动" in back


def test_outlet_aliases(tmp_path, snapshot, site_dir):
    page = site_dir / "shandong/yaowen/2019/1023/4371235.shtml"
    html = page.read_text(encoding="utf-8")
    # One related entry names its outlet 大众网, as portals often do.
    html = html.replace('<span class="outlet">大众日报</span>', '<span class="outlet">大众网</span>', 1)
    page.write_text(html, encoding="utf-8")
    app = create_app({"INSTANCE_PATH": instance_folder(tmp_path / "i"), "RECIPES_PATH": str(RECIPES_DIR),
                      "RECIPE_VARIABLES": {"snapshot": snapshot.base_url}, "CACHE_CHECK_INTERVAL_SECONDS": 0,
                      "OUTLET_ALIASES": {"大众网": "大众日报"}, "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
                      "FETCH_HOST_DELAY_SECONDS": 0})
    app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    client = app.test_client()
    feed = parse_strict(client.get(f"/feeds/outlet/{quote('大众日报')}.atom", follow_redirects=True).data)
    assert len(feed.entries) == 2 and {e.tags[0].term for e in feed.entries} == {"大众日报"}
    alias = client.get(f"/feeds/outlet/{quote('大众网')}.atom")
    assert alias.status_code == 301 and alias.headers["Location"] == "http://localhost/feeds/outlet/dazhong-ribao.atom"
    assert titles(client, f"/feeds/outlet/{quote('大众网')}.atom") == [e.title for e in feed.entries]
    assert len(titles(client, "/feeds/all.atom", outlet="大众网")) == 2
    opml = client.get("/feeds.opml").get_data(as_text=True)
    assert "大众网" not in opml


@pytest.mark.parametrize(("params", "param"), [
    ({"limit": "0"}, "limit"), ({"limit": "abc"}, "limit"), ({"limit": "501"}, "limit"),
    ({"since": "yesterday-ish"}, "since"), ({"until": "2019-13-45"}, "until"),
    ({"convert": "x2y"}, "convert"), ({"outlet": "不存在"}, "outlet"), ({"source": "nope"}, "source"),
    ({"before": "!!!"}, "before"), ({"q": "x" * 500}, "q"), ({"limit": ["1", "2"]}, "limit"),
])
def test_bad_values_name_the_parameter(refreshed_app, params, param):
    response = refreshed_app.test_client().get("/feeds/all.json", query_string=params)
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith(f"{param}:")


def test_unknown_parameters_are_ignored(refreshed_app):
    assert len(titles(refreshed_app.test_client(), "/feeds/all.atom", utm_source="reader", _="123")) == 11


def test_paging_walks_back_through_every_item(refreshed_app):
    client = refreshed_app.test_client()
    everything = [e.id for e in parse_strict(client.get("/feeds/all.atom").data).entries]
    for fmt in ("atom", "rss"):
        seen, path = [], f"/feeds/all.{fmt}?limit=4"
        while path:
            feed = parse_strict(client.get(path).data)
            seen += [e.id for e in feed.entries]
            nexts = [link.href for link in feed.feed.get("links", []) if link.rel == "next"]
            path = nexts[0].removeprefix("http://localhost") if nexts else None
            assert len(seen) <= 11
        assert seen == everything, fmt
    data = client.get("/feeds/all.json?limit=6").get_json()
    rest = client.get(data["next_url"].removeprefix("http://localhost")).get_json()
    assert [i["id"] for i in data["items"] + rest["items"]] == everything and "next_url" not in rest
