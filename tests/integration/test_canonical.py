"""Canonical URLs and deduplication on them; sanitized bodies with
absolute links."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from tests.support.sites import Site, article_page, listing_page

from tests.support.stores import refresher
from feedsvc.parsers import parse_article
from feedsvc.sources.recipes import ArticleSelectors
from feedsvc.core.urls import absolute_http, canonicalize


@pytest.mark.parametrize("url, expected", [
    ("HTTP://News.Example.COM/A/b.html#comments", "http://news.example.com/A/b.html"),
    ("https://example.com:443/x?id=3&utm_source=feed&utm_medium=rss", "https://example.com/x?id=3"),
    ("http://example.com:80", "http://example.com/"),
    ("http://example.com:8080/x?spm=a.b.c&from=timeline&page=2", "http://example.com:8080/x?page=2"),
    ("http://example.com/x?b=2&a=1", "http://example.com/x?b=2&a=1"),  # order kept: ids never change
    ("https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=ab&scene=21", "https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=ab"),
])
def test_canonicalize(url, expected):
    assert canonicalize(url) == expected


def test_relative_links_resolve_and_other_schemes_drop():
    base = "http://example.com/news/list.html"
    assert absolute_http("../a/1.html?utm_campaign=x", base) == "http://example.com/a/1.html"
    assert absolute_http("//CDN.example.com/i.png", base) == "http://cdn.example.com/i.png"
    for href in ("javascript:alert(1)", "mailto:a@b.c", "", None, "data:text/html,hi"):
        assert absolute_http(href, base) is None


@pytest.fixture
def site(httpserver):
    return Site(httpserver)


def test_one_item_across_sources_and_spellings(site, tmp_path):
    site.page("/a", article_page("同一篇文章"))
    site.page("/mirror/a", article_page("同一篇文章").replace(
        "<head>", f'<head><link rel="canonical" href="{site.url("/a")}?utm_source=mirror">'))
    messy = site.url("/a").replace("http://localhost", "HTTP://LOCALHOST") + "?spm=1.2&from=home#comments"
    site.page("/list", listing_page((messy, "同一篇文章（列表）", "2019-10-23")))
    r = refresher(tmp_path, f"""
id = "direct"
name = "Direct"
kind = "article_page"
start_urls = ["{site.url('/a')}"]
[article]
title = "h1"
""", f"""
id = "mirror"
name = "Mirror"
kind = "article_page"
start_urls = ["{site.url('/mirror/a')}"]
[article]
title = "h1"
""", f"""
id = "listing"
name = "Listing"
kind = "listing_page"
follow_links = false
start_urls = ["{site.url('/list')}"]
[listing]
item = "li.item"
title = "a"
""")
    assert r.refresh_source("direct").new == 1
    [first] = r.store.query_items()
    assert [(rep.new, rep.status) for rep in r.refresh_many(["mirror", "listing"])] == [(0, "ok"), (0, "ok")]
    [item] = r.store.query_items()
    assert (item.guid, item.url, item.source_id) == (first.guid, site.url("/a"), "direct")


def test_body_is_sanitized_and_links_made_absolute():
    page = """<html><head><meta charset="utf-8"><style>p{color:red}</style></head><body><h1>标题</h1>
    <div class="body"><script>alert(1)</script><p onclick="steal()" style="color:red">正文
    <a href="/news/2.html" onmouseover="x()">下一篇</a> <a href="javascript:alert(2)">坏链接</a></p>
    <img src="../img/1.jpg" onerror="x()"><iframe src="http://evil.example/"></iframe><style>.x{}</style></div>
    </body></html>"""
    article = parse_article(page.encode(), "http://example.com/news/1.html", ArticleSelectors(title="h1", body=".body"),
                            zone=ZoneInfo("Asia/Shanghai"))
    html = article.body_html
    for banned in ("<script", "alert(", "onclick", "onmouseover", "onerror", "style", "javascript:", "<iframe",
                   "evil.example"):
        assert banned not in html, banned
    assert 'href="http://example.com/news/2.html"' in html and 'src="http://example.com/img/1.jpg"' in html
    assert article.image == "http://example.com/img/1.jpg"
