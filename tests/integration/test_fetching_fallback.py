"""Selector recipes the extractor completes, lines shared by several
fields, recipe edits that take effect at once, and full text for feeds —
each against a loopback site and a real SQLite store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from feedsvc.app import create_app
from feedsvc.fetch.ssrf import LOOPBACK_NETWORKS
from tests.support.sites import Site, etag_page, sent_validators
from tests.support.stores import refresher, instance_folder
from tests.support.portal import STORIES, article_html


@pytest.fixture
def site(httpserver):
    return Site(httpserver)


def _by_url(r) -> dict:
    return {item.url: item for item in r.store.query_items(limit=500)}


def _app(tmp_path: Path, recipe_text: str):
    """The web app over the refresher's store, running the same recipe."""
    folder = tmp_path / "recipes"
    folder.mkdir(exist_ok=True)
    (folder / "r0.toml").write_text(recipe_text, encoding="utf-8")
    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}", "RECIPES_PATH": str(folder),
                       "RECIPES_RELOAD_SECONDS": 0, "FETCH_ALLOWED_NETWORKS": LOOPBACK_NETWORKS,
                       "FETCH_HOST_DELAY_SECONDS": 0, "INSTANCE_PATH": instance_folder(tmp_path / "instance")})


# -- field fallback ------------------------------------------------------------

def _selector_recipe(url: str, article_extra: str = "") -> str:
    # author and outlet are left out; the time selector matches nothing.
    return f"""
id = "sel"
name = "Selectors"
kind = "article_page"
start_urls = ["{url}"]
[article]
title = "h1"
body = ".content"
published = ".no-such-time"
{article_extra}
"""


def test_fields_left_out_or_matching_nothing_come_from_the_extractor(site, tmp_path):
    story = STORIES[0]
    site.page("/a.html", article_html(story))
    text = _selector_recipe(site.url("/a.html"))
    r = refresher(tmp_path, text)
    assert r.refresh_source("sel").status == "ok"
    item = _by_url(r)[site.url("/a.html")]
    assert (item.title, item.author, item.outlet) == (story.title, story.author, story.outlet)
    assert item.published == datetime.fromisoformat(story.iso)
    assert "热点排行" not in item.body_html  # the body is still the selector's
    fields = r.store.source_state("sel").read_stats["fields"]
    assert fields["article.title"] == fields["article.body"] == {"selector": 1}
    assert fields["article.author"] == fields["article.published"] == fields["article.outlet"] == {"extractor": 1}
    client = _app(tmp_path, text).test_client()
    status = client.get("/api/sources").get_json()["sources"][0]
    assert status["fields"]["article.published"] == {"extractor": 1}
    assert status["fields"]["article.body"] == {"selector": 1}
    index = client.get("/").get_data(as_text=True)
    assert "article.author: extractor" in index and "article.title: selector" in index


def test_a_required_field_is_never_filled_by_the_extractor(site, tmp_path):
    site.page("/a.html", article_html(STORIES[0]))
    r = refresher(tmp_path, _selector_recipe(site.url("/a.html"), 'required = ["published"]'))
    report = r.refresh_source("sel")
    assert report.status == "error" and report.error_kind == "recipe_mismatch" and ".no-such-time" in report.error


# -- one line, several fields ------------------------------------------------------

SHARED_LINE_RECIPE = """
id = "news"
name = "News"
kind = "listing_page"
start_urls = ["{url}"]
[listing]
item = "li.item"
title = "a"
date = "span.date"
outlet = "span.src"
[article]
title = "h1"
outlet = ".info"
author = ".info"
published = ".info"
body = ".body"
"""


def _line_article(title: str, line: str) -> str:
    return (f'<html><head><meta charset="utf-8"></head><body><h1>{title}</h1><div class="info">{line}</div>'
            f'<div class="body"><p>正文第一段，足够长的一段文字用来做摘要，说明这件事情的来龙去脉。</p></div></body></html>')


def test_a_line_shared_by_outlet_author_and_time_gives_each_its_part(site, tmp_path):
    rows = "".join(f'<li class="item"><a href="/s/{n}.html">标题{n}</a><span class="date">2024-05-0{n}</span>'
                   f'<span class="src">齐鲁晚报</span></li>' for n in (1, 2))
    site.page("/list", f"<html><body><ul>{rows}</ul></body></html>")
    site.page("/s/1.html", _line_article("标题1", "来源:济南日报 作者:王小明 2024-05-01 10:00"))
    # An outlet part that cannot be an outlet: the listing's outlet stays.
    site.page("/s/2.html", _line_article("标题2", "来源：本报综合记者从有关部门获悉这项工作已经全面展开各地正在按照统一部署有序推进 "
                                                "作者：李红 2024-05-02 08:00"))
    r = refresher(tmp_path, SHARED_LINE_RECIPE.format(url=site.url("/list")))
    assert r.refresh_source("news").status == "ok"
    first, second = _by_url(r)[site.url("/s/1.html")], _by_url(r)[site.url("/s/2.html")]
    assert (first.outlet, first.author) == ("济南日报", "王小明")
    assert first.published == datetime.fromisoformat("2024-05-01T10:00:00+08:00") and first.precision == "second"
    assert (second.outlet, second.author) == ("齐鲁晚报", "李红")
    assert second.published == datetime.fromisoformat("2024-05-02T08:00:00+08:00")
    assert {o.name for o in r.store.outlets()} == {"济南日报", "齐鲁晚报"}


# -- recipe edits while the site answers 304 -----------------------------------------

EDIT_RECIPE = """
id = "news"
name = "News"
kind = "listing_page"
start_urls = ["{url}"]
follow_links = {follow}
[listing]
item = "li.item"
{listing}
[article]
title = "h1"
author = ".author"
body = ".body"
"""
V1 = 'title = "a"'
V2 = 'title = "span.headline"\nlink = "a"'


def _serve_unchanging_site(site: Site) -> None:
    rows = "".join(f'<li class="item"><a href="/a/{n}.html">短{n}<span class="headline">完整标题{n}</span></a></li>'
                   for n in (1, 2))
    etag_page(site, "/list", f"<html><body><ul>{rows}</ul></body></html>")
    for n in (1, 2):
        etag_page(site, f"/a/{n}.html", f'<html><body><h1>完整标题{n}</h1><span class="author">作者:记者{n}</span>'
                                        f'<div class="body"><p>正文{n}，足够长的一段文字用来做摘要和正文。</p></div></body></html>')


def _recipe(r, text: str):
    from feedsvc.sources.recipes import parse_recipe

    recipe = parse_recipe(text, "r0.toml")
    r.use_recipes([recipe])
    return recipe


def test_a_recipe_edit_takes_effect_while_the_site_answers_304(site, tmp_path):
    _serve_unchanging_site(site)
    url = site.url("/list")
    r = refresher(tmp_path, EDIT_RECIPE.format(url=url, follow="false", listing=V1))
    r.refresh_source("news")
    r.refresh_source("news")
    assert [(sent_validators(s), s.path) for s in site.hits("/list")] == [(False, "/list"), (True, "/list")]
    assert {i.title for i in _by_url(r).values()} == {"短1完整标题1", "短2完整标题2"}

    _recipe(r, EDIT_RECIPE.format(url=url, follow="false", listing=V2))  # a changed selector
    assert r.refresh_source("news").status == "ok"
    assert not sent_validators(site.hits("/list")[-1])
    assert {i.title for i in _by_url(r).values()} == {"完整标题1", "完整标题2"}

    _recipe(r, EDIT_RECIPE.format(url=url, follow="true", listing=V2))  # follow_links turned on
    assert r.refresh_source("news").status == "ok"
    assert not sent_validators(site.hits("/list")[-1])
    assert {i.author for i in _by_url(r).values()} == {"记者1", "记者2"}

    r.refresh_source("news")  # nothing changed since: conditional again
    assert sent_validators(site.hits("/list")[-1]) and all(sent_validators(s) for s in site.hits("/a/1.html")[1:])


def test_force_sends_no_validators(site, tmp_path):
    _serve_unchanging_site(site)
    text = EDIT_RECIPE.format(url=site.url("/list"), follow="true", listing=V1)
    r = refresher(tmp_path, text)
    r.refresh_source("news")
    r.refresh_source("news")
    assert sent_validators(site.hits("/list")[-1])  # 304: the articles are not asked again
    seen = len(site.seen)
    response = _app(tmp_path, text).test_client().post("/refresh/news?force=1")
    assert response.get_json()["results"][0]["status"] == "ok"
    forced = [s for s in site.seen[seen:] if s.path != "/robots.txt"]  # the app reads robots.txt afresh
    assert {s.path for s in forced} == {"/list", "/a/1.html", "/a/2.html"}
    assert not any(sent_validators(s) for s in forced)


# -- full text for feeds ------------------------------------------------------------

def _rss(site: Site, numbers) -> str:
    entries = "".join(f"<item><title>订阅条目{n}</title><link>{site.url(f'/p/{n}.html')}</link>"
                      f"<description>订阅源自己的摘要{n}</description><pubDate>Wed, 01 May 2024 0{n}:00:00 GMT</pubDate>"
                      f"</item>" for n in numbers)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>示例订阅</title>'
            f'<link>{site.url("/")}</link><description>订阅</description>{entries}</channel></rss>')


def test_full_text_reads_each_entrys_page_politely(site, tmp_path):
    feed_type = "application/rss+xml; charset=utf-8"
    etag_page(site, "/feed.xml", _rss(site, (1, 2, 3)), feed_type)
    for n, story in ((1, STORIES[0]), (2, STORIES[1]), (4, STORIES[3])):
        etag_page(site, f"/p/{n}.html", article_html(story))
    site.page("/p/3.html", "server error", status=500)
    text = f'id = "full"\nname = "Full"\nkind = "feed"\nfull_text = true\nstart_urls = ["{site.url("/feed.xml")}"]\n'
    r = refresher(tmp_path, text)
    first = r.refresh_source("full")
    assert first.status == "ok" and any("500" in w for w in first.warnings)
    items = _by_url(r)
    for n, story in ((1, STORIES[0]), (2, STORIES[1])):
        item = items[site.url(f"/p/{n}.html")]
        assert item.title == f"订阅条目{n}" and story.title in item.body_html and "订阅源自己的摘要" not in item.body_html
        assert (item.author, item.outlet) == (story.author, story.outlet)
    failed = items[site.url("/p/3.html")]
    assert failed.body_html == failed.summary == "订阅源自己的摘要3" and failed.outlet == "示例订阅"  # the feed's own
    assert r.store.source_state("full").read_stats | {"fields": None} == \
        {"fields": None, "pages_read": 2, "page_failures": 1}

    etag_page(site, "/feed.xml", _rss(site, (1, 2, 3, 4)), feed_type)  # one new entry
    second = r.refresh_source("full")
    assert second.status == "ok"
    for n in (1, 2):  # conditional GETs, answered 304: read in full once only
        hits = site.hits(f"/p/{n}.html")
        assert [sent_validators(h) for h in hits] == [False, True]
    assert len(site.hits("/p/3.html")) == 2 and len(site.hits("/p/4.html")) == 1
    items = _by_url(r)
    assert STORIES[0].title in items[site.url("/p/1.html")].body_html  # not replaced by the feed's text
    assert STORIES[3].title in items[site.url("/p/4.html")].body_html
    assert r.store.source_state("full").read_stats["page_failures"] == 1
    client = _app(tmp_path, text).test_client()
    assert client.get("/api/sources").get_json()["sources"][0]["linked_pages"] == {"read": 1, "failed": 1}


def test_an_auto_page_with_neither_article_nor_listing_is_a_mismatch(site, tmp_path):
    site.page("/empty", "<html><head><title>示例门户网</title></head><body><div class='nav'><a href='/'>首页</a></div>"
                        "<p>欢迎访问</p></body></html>")
    r = refresher(tmp_path, f'id = "a"\nname = "A"\nkind = "auto"\nstart_urls = ["{site.url("/empty")}"]\n')
    report = r.refresh_source("a")
    assert report.status == "error" and report.error_kind == "recipe_mismatch"
    assert "neither an article nor a listing" in report.error and r.store.count_items() == 0
