"""`kind = "feed"`: existing feeds fetched by feedsvc over loopback HTTP and
read with feedparser (JSON Feed by feedsvc), then stored like any item;
and every feed of the shared corpus, when it is present."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.support.checks import parse_strict
from tests.support.sites import Site
from tests.support.stores import refresher
from feedsvc.core.errors import ParseError
from feedsvc.parsers import parse_feed
from feedsvc.parsers.text import squash
from tests.support.paths import SHARED_CORPUS

CORPUS = SHARED_CORPUS
FEEDS = CORPUS / "feeds"
CONTENT_TYPES = {".atom": "application/atom+xml", ".rss": "application/rss+xml", ".xml": "application/xml",
                 ".html": "text/html", ".gz": "application/xml"}

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>频道</title><link>http://example.com/</link>
<item><title>第一条</title><link>http://example.com/1?utm_source=rss</link><description>&lt;p&gt;摘要&lt;/p&gt;</description>
<pubDate>Wed, 23 Oct 2019 07:55:10 +0800</pubDate><author>a@example.com (刘一颖)</author></item>
<item><title>转载</title><link>http://example.com/2</link><source url="http://other.example/rss">大众日报</source>
<description>&lt;p&gt;正文&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src="/i.png" onerror="x()"&gt;&lt;/p&gt;</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom 频道</title><id>urn:x</id><updated>2019-10-23T00:00:00Z</updated>
<entry><title>原子</title><id>urn:1</id><link href="http://example.com/atom/1"/><updated>2019-10-23T07:55:10+08:00</updated>
<content type="html">&lt;p&gt;内容&lt;a href="rel/2"&gt;链接&lt;/a&gt;&lt;/p&gt;</content></entry></feed>"""

JSON_FEED = json.dumps({
    "version": "https://jsonfeed.org/version/1.1", "title": "JSON 频道", "home_page_url": "http://example.com/",
    "items": [{"id": "1", "url": "http://example.com/json/1", "title": "杰森", "content_html": "<p>你好</p>",
               "date_published": "2019-10-23T07:55:10+08:00", "authors": [{"name": "记者甲"}]},
              {"id": "2", "content_text": "no link, no item"}],
}, ensure_ascii=False)


def feed_recipe(source_id: str, url: str, extra: str = "") -> str:
    return f'id = "{source_id}"\nname = "{source_id}"\nkind = "feed"\nstart_urls = ["{url}"]\n{extra}\n'


@pytest.fixture
def site(httpserver):
    return Site(httpserver)


def _by_url(r):
    return {i.url: i for i in r.store.query_items(limit=500)}


def test_rss_atom_and_json_feed(site, tmp_path):
    site.page("/rss", RSS, content_type="application/rss+xml")
    site.page("/atom", ATOM, content_type="application/atom+xml")
    site.page("/json", JSON_FEED, content_type="application/feed+json")
    r = refresher(tmp_path, feed_recipe("rss", site.url("/rss")), feed_recipe("atom", site.url("/atom")),
                  feed_recipe("json", site.url("/json")))
    assert [(x.status, x.new) for x in r.refresh_many(["rss", "atom", "json"])] == [("ok", 2), ("ok", 1), ("ok", 1)]
    items = _by_url(r)
    first = items["http://example.com/1"]  # canonical: tracking parameter dropped
    assert (first.title, first.outlet, first.summary) == ("第一条", "频道", "摘要")
    assert first.published.isoformat() == "2019-10-22T23:55:10+00:00"
    second = items["http://example.com/2"]
    assert second.outlet == "大众日报"  # the entry's own source element beats the feed title
    assert "script" not in second.body_html and "onerror" not in second.body_html
    assert f'src="{site.url("/i.png")}"' in second.body_html  # relative to the feed document
    atom = items["http://example.com/atom/1"]
    assert atom.outlet == "Atom 频道" and f'href="{site.url("/rel/2")}"' in atom.body_html
    json_item = items["http://example.com/json/1"]
    assert (json_item.title, json_item.author, json_item.outlet) == ("杰森", "记者甲", "JSON 频道")


def test_recipe_outlet_wins(site, tmp_path):
    site.page("/rss", RSS, content_type="application/rss+xml")
    r = refresher(tmp_path, feed_recipe("rss", site.url("/rss"), 'outlet = "齐鲁晚报"'))
    r.refresh_source("rss")
    assert {i.outlet for i in r.store.query_items()} == {"齐鲁晚报"}


def test_feedparser_sees_the_response_headers(site, tmp_path):
    # No encoding in the document: only the HTTP header says GBK.
    body = RSS.replace('<?xml version="1.0" encoding="utf-8"?>', "").encode("gbk")
    site.page("/rss", body, content_type="application/rss+xml; charset=GBK")
    r = refresher(tmp_path, feed_recipe("rss", site.url("/rss")))
    assert r.refresh_source("rss").new == 2
    assert _by_url(r)["http://example.com/1"].title == "第一条"


def test_malformed_feed_is_read_with_a_warning(site, tmp_path):
    broken = RSS.replace("</channel></rss>", "<item><title>坏了 & 没关</title><link>http://example.com/3</link>")
    site.page("/rss", broken, content_type="application/rss+xml")
    r = refresher(tmp_path, feed_recipe("rss", site.url("/rss")))
    report = r.refresh_source("rss")
    assert report.status == "ok" and report.new >= 2
    assert report.warnings and "malformed" in report.warnings[0]


def test_unusable_feed_fails_only_its_source(site, tmp_path):
    site.page("/rss", RSS, content_type="application/rss+xml")
    site.page("/html", "<html><body><p>这不是订阅源</p></body></html>", content_type="text/html")
    r = refresher(tmp_path, feed_recipe("bad", site.url("/html")), feed_recipe("good", site.url("/rss")))
    bad, good = r.refresh_many(["bad", "good"])
    assert bad.status == "error" and bad.error_kind == "parse" and "not a usable feed" in bad.error
    assert good.status == "ok" and good.new == 2


# -- the shared corpus ------------------------------------------------------------------

corpus = pytest.mark.skipif(not FEEDS.is_dir(), reason="../shared/corpus is not present")


def _feed_files() -> list[Path]:
    if not FEEDS.is_dir():
        return []
    return sorted(p for p in FEEDS.iterdir() if p.is_file() and not p.name.endswith(".expected.json"))


def _serve(site, path: Path) -> str:
    headers = {"Content-Encoding": "gzip"} if path.suffix == ".gz" else {}  # stored compressed, served as such
    site.page(f"/{path.name}", path.read_bytes(), content_type=CONTENT_TYPES[path.suffix], headers=headers)
    return site.url(f"/{path.name}")


@corpus
def test_every_corpus_feed_goes_through_the_pipeline(site, tmp_path):
    files = _feed_files()
    recipes = [feed_recipe(f"f{i:03d}", _serve(site, path)) for i, path in enumerate(files)]
    r = refresher(tmp_path, *recipes)
    reports = r.refresh_many([f"f{i:03d}" for i in range(len(files))])
    failed = {files[int(x.source_id[1:])].name: x.error for x in reports if x.status != "ok"}
    assert all(x.status in ("ok", "error") for x in reports)
    # Failures are recorded parse errors of documents that are not feeds.
    assert {x.error_kind for x in reports if x.status == "error"} <= {"parse"}, failed
    assert len(failed) <= 6, failed
    assert r.store.count_items() > 500


def _plain(text: str | None) -> str:
    return squash(html.unescape(re.sub(r"<[^>]+>", "", html.unescape(text or ""))))


def _expectations() -> list[tuple[Path, Path]]:
    pairs = []
    for expected in sorted(FEEDS.glob("*.expected.json")) if FEEDS.is_dir() else []:
        stem = expected.name.removesuffix(".expected.json")
        pairs += [(f, expected) for f in _feed_files() if f.name.rsplit(".", 1)[0] == stem]
    return pairs


@corpus
@pytest.mark.parametrize("feed, expected", _expectations(), ids=lambda p: p.name)
def test_corpus_expectations(feed, expected):
    data = json.loads(expected.read_bytes().decode("utf-8", errors="replace"))
    items = data["items"] if "items" in data else data["feed"]["items"]
    parsed = parse_feed(feed.read_bytes(), f"http://127.0.0.1/{feed.name}",
                        headers={"content-type": CONTENT_TYPES[feed.suffix]})
    linked = [i for i in items if i.get("link")]
    assert len(parsed.articles) >= len(linked)
    titles = {_plain(a.title) for a in parsed.articles}
    # Upstream output with U+FFFD decoded the bytes wrongly; there is no title to compare.
    wanted = {_plain(i["title"]) for i in linked if i.get("title") and "\ufffd" not in i["title"]}
    assert wanted <= titles


@corpus
@pytest.mark.parametrize("name, title", [("feedparser__encoding_euc-kr.xml", "\ub144"),
                                         ("rssparser__encoding-gb2312.xml", None)])
def test_legacy_encoded_corpus_feeds(name, title):
    parsed = parse_feed((FEEDS / name).read_bytes(), "http://127.0.0.1/f", headers={"content-type": "application/xml"})
    if title:
        assert parsed.title == title
    else:
        assert parsed.articles and all("\ufffd" not in a.title for a in parsed.articles)
        assert any(re.search(r"[\u4e00-\u9fff]", a.title) for a in parsed.articles)


@corpus
def test_big5_corpus_feed_is_usable():
    parsed = parse_feed((FEEDS / "feedparser__encoding_big5.xml").read_bytes(), "http://127.0.0.1/f",
                        headers={"content-type": "application/xml"})
    assert parsed.warning is None and parsed.articles == ()


def test_not_a_feed_is_a_parse_error():
    with pytest.raises(ParseError, match="not a usable feed"):
        parse_feed(b"<html><body>hello</body></html>", "http://127.0.0.1/x", headers={"content-type": "text/html"})


def test_rss_author_with_an_address_is_a_name_and_an_address(site, tmp_path):
    """`<author>a@example.com (刘一颖)</author>`: the name is 刘一颖, the address
    kept apart; feeds write it back as RSS author (with the address) or
    dc:creator (a name alone), and as Atom's name and email."""
    from feedsvc.core.models import StoredItem
    from feedsvc.render import FeedMeta, render_atom, render_rss

    site.page("/rss", RSS, content_type="application/rss+xml")
    r = refresher(tmp_path, feed_recipe("rss", site.url("/rss")))
    r.refresh_source("rss")
    first = _by_url(r)["http://example.com/1"]
    assert (first.author, first.author_email) == ("刘一颖", "a@example.com")
    meta = FeedMeta("tag:example.org,2026:/t", "t", "http://x/t", "http://x/", "x")
    rss = render_rss(meta, [first]).decode()
    assert "<author>a@example.com (刘一颖)</author>" in rss and "dc:creator" not in rss.split("<item>")[1]
    assert "<name>刘一颖</name><email>a@example.com</email>" in render_atom(meta, [first]).decode()
    named = StoredItem(**{**first.__dict__, "author_email": None})
    assert parse_strict(render_rss(meta, [named])).entries[0].author == "刘一颖"
    assert "<author>" not in render_rss(meta, [named]).decode()


def test_feedsvc_reads_its_own_feeds_outlets_back(site, tmp_path):
    """A feed feedsvc wrote, read by another feedsvc: each item keeps the
    outlet it was filed under, not the feed's title (`全部 · feedsvc`)."""
    from feedsvc.core.models import StoredItem
    from feedsvc.render import FeedMeta, render_atom, render_json, render_rss

    t = datetime(2019, 10, 23, 1, 0, tzinfo=timezone.utc)
    items = [StoredItem(guid=f"urn:uuid:{n}", url=f"http://example.com/own/{n}", source_id="s", title=f"条目{n}",
                        summary=None, body_html=None, author=None, outlet=outlet, editors=(), published=t,
                        precision="second", first_seen=t, updated=t, seq=n)
             for n, outlet in enumerate(["鲁网", "胶东在线"])]
    meta = FeedMeta("tag:example.org,2026:/feeds/all", "全部 · feedsvc", "http://x/all", "http://x/", "feedsvc")
    for fmt, body, content_type in (("atom", render_atom(meta, items), "application/atom+xml"),
                                    ("rss", render_rss(meta, items), "application/rss+xml"),
                                    ("json", render_json(meta, items), "application/feed+json")):
        site.page(f"/own.{fmt}", body, content_type=content_type)
    r = refresher(tmp_path, *(feed_recipe(f"own-{fmt}", site.url(f"/own.{fmt}")) for fmt in ("atom", "rss", "json")))
    for fmt in ("atom", "rss", "json"):
        r.refresh_source(f"own-{fmt}")
    assert {i.url: i.outlet for i in r.store.query_items()} == {
        "http://example.com/own/0": "鲁网", "http://example.com/own/1": "胶东在线"}


def test_overlapping_feed_sources_keep_their_own_outlets(site, tmp_path):
    site.page("/a", RSS, content_type="application/rss+xml")
    site.page("/b", RSS, content_type="application/rss+xml")
    r = refresher(tmp_path, feed_recipe("a", site.url("/a"), 'outlet = "甲报"'),
                  feed_recipe("b", site.url("/b"), 'outlet = "乙报"'))
    r.refresh_source("a")
    r.refresh_source("b")
    assert {(i.source_id, i.outlet) for i in r.store.query_items()} == {("a", "甲报")}
