"""Listing pages: following item links, noticing when a recipe stops
matching, and articles that are gone."""

from __future__ import annotations

import pytest

from tests.support.sites import Site, article_page, listing_page, listing_recipe

from tests.support.stores import refresher


@pytest.fixture
def site(httpserver):
    return Site(httpserver)


def _serve(site, count: int, date: str = "2019-10-23") -> list[tuple[str, str, str]]:
    entries = [(f"/a/{i}.html", f"新闻{i}", date) for i in range(count)]
    site.page("/list", listing_page(*entries))
    for i in range(count):
        site.page(f"/a/{i}.html", article_page(f"新闻{i}", author=f"记者{i}", time_text=f"2019-10-23 07:5{i}:00"))
    return entries


def _items(r):
    return {i.url.rsplit("/", 1)[-1]: i for i in r.store.query_items(limit=500)}


def test_followed_articles_enrich_listing_items(site, tmp_path):
    _serve(site, 2)
    r = refresher(tmp_path, listing_recipe(site.url("/list")))
    report = r.refresh_source("news")
    assert (report.status, report.new) == ("ok", 2)
    item = _items(r)["0.html"]
    assert item.author == "记者0" and "正文第一段" in item.body_html
    assert item.published.isoformat() == "2019-10-22T23:50:00+00:00"  # 07:50 Asia/Shanghai, not the listing's day


def test_at_most_max_follow_new_articles_per_run(site, tmp_path):
    _serve(site, 5)
    r = refresher(tmp_path, listing_recipe(site.url("/list"), extra="max_follow = 2"))
    r.refresh_source("news")
    read = {p for p in (f"/a/{i}.html" for i in range(5)) if site.hits(p)}
    assert read == {"/a/0.html", "/a/1.html"}
    assert sum(i.author is not None for i in _items(r).values()) == 2
    r.refresh_source("news")  # the next run reads the next two new ones
    assert {p for p in (f"/a/{i}.html" for i in range(5)) if site.hits(p)} >= {"/a/2.html", "/a/3.html"}
    assert sum(i.author is not None for i in _items(r).values()) == 4


def test_listing_without_entries_is_an_error_and_keeps_items(site, tmp_path):
    _serve(site, 2)
    r = refresher(tmp_path, listing_recipe(site.url("/list")))
    r.refresh_source("news")
    before = r.store.query_items()
    site.page("/list", "<html><body><div class='redesigned'>新版首页</div></body></html>")
    report = r.refresh_source("news", force=True)
    assert report.status == "error" and report.error_kind == "recipe_mismatch"
    assert report.error.startswith("recipe no longer matches:") and "li.item" in report.error
    assert r.store.query_items() == before


def test_entries_missing_a_required_field_are_an_error(site, tmp_path):
    site.page("/list", listing_page(("/a/0.html", "有日期", "2019-10-23"), ("/a/1.html", "没日期", "")))
    r = refresher(tmp_path, listing_recipe(site.url("/list"), listing_extra='required = ["date"]',
                                           extra="follow_links = false"))
    report = r.refresh_source("news")
    assert report.status == "error" and "recipe no longer matches: 1 of 2 entries have no date" in report.error
    assert "span.date" in report.error and r.store.query_items() == []


def test_articles_that_all_stop_matching_are_an_error(site, tmp_path):
    _serve(site, 2)
    for i in range(2):
        site.page(f"/a/{i}.html", "<html><body><h2>改版了</h2></body></html>")
    r = refresher(tmp_path, listing_recipe(site.url("/list")))
    report = r.refresh_source("news")
    assert report.status == "error" and "recipe no longer matches: no title matched selector 'h1'" in report.error


def test_one_odd_article_is_only_a_warning(site, tmp_path):
    _serve(site, 2)
    site.page("/a/1.html", "<html><body><h2>专题页</h2></body></html>")
    r = refresher(tmp_path, listing_recipe(site.url("/list")))
    report = r.refresh_source("news")
    assert report.status == "ok" and any("recipe no longer matches" in w for w in report.warnings)


@pytest.mark.parametrize("status", [404, 410])
def test_gone_article_leaves_the_feeds_but_stays_stored(site, tmp_path, status):
    _serve(site, 2)
    r = refresher(tmp_path, listing_recipe(site.url("/list")))
    r.refresh_source("news")
    ids = {url: item.guid for url, item in _items(r).items()}
    site.page("/a/1.html", "gone", status=status)
    report = r.refresh_source("news")
    assert report.status == "ok" and any(str(status) in w for w in report.warnings)
    assert set(_items(r)) == {"0.html"} and _items(r)["0.html"].guid == ids["0.html"]
    assert r.store.count_items() == 2  # flagged, not deleted
    assert r.store.article_urls([site.url("/a/1.html")]) == {site.url("/a/1.html"): True}


def test_never_read_article_answering_404_is_not_gone(site, tmp_path):
    _serve(site, 2)
    site.page("/a/1.html", "missing", status=404)
    r = refresher(tmp_path, listing_recipe(site.url("/list")))
    assert r.refresh_source("news").status == "ok"
    assert set(_items(r)) == {"0.html", "1.html"}  # the listing entry stays in the feeds
