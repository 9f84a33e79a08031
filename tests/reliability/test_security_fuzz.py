"""Fuzzing the parsers and the extractor with hypothesis: random bytes and
mutated real pages (byte flips, truncation, deletions, inserted tags).
Whatever comes in, parse_article, parse_listing, parse_feed, extract_page
and extract_listing either return their result or raise ParseError (the
one error they document; RecipeMismatch is one), and what they return
holds no character a feed cannot carry and no live markup.

Bounded by max_examples and small inputs, so the file runs in well under
a minute."""

from __future__ import annotations

import time
from dataclasses import fields, is_dataclass

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsvc.core.errors import ParseError
from feedsvc.extract import extract_listing, extract_page
from feedsvc.parsers import parse_article, parse_feed, parse_listing
from feedsvc.parsers.dom import load_document
from feedsvc.sources.recipes import load_recipes
from feedsvc.snapshot import RECIPES_DIR, SITE_DIR
from tests.support.hostilesite import NOT_TEXT
from tests.support.checks import examples
from tests.support.paths import EXTRACT_PAGES

RECIPE = load_recipes(RECIPES_DIR, {"snapshot": "http://127.0.0.1:9"})[0]
URL = "https://news.example.org/a/b/page.shtml"
HTML_SEEDS = [path.read_bytes() for path in sorted(SITE_DIR.rglob("*.shtml"))] + [
    path.read_bytes() for path in sorted(EXTRACT_PAGES.glob("*.html"))]
FEED_SEEDS = [
    b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T &amp; t</title><link>http://e.org/</link>
<item><title>One</title><link>/a/1.html</link><description>&lt;p&gt;d &lt;b&gt;b&lt;/b&gt;&lt;/p&gt;</description>
<content:encoded><![CDATA[<p>body <img src="i.png"></p>]]></content:encoded><dc:creator>A</dc:creator>
<pubDate>Wed, 23 Oct 2019 07:55:10 +0800</pubDate><guid>http://e.org/a/1.html</guid></item></channel></rss>""",
    b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<id>urn:x</id><updated>2019-10-23T07:55:10+08:00</updated><entry><title type="html">&lt;b&gt;T&lt;/b&gt;</title>
<link rel="alternate" href="http://e.org/2"/><id>urn:2</id><updated>2019-10-23T07:55:10+08:00</updated>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></content>
<source><title>Outlet</title></source></entry></feed>""",
    b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
xmlns="http://purl.org/rss/1.0/"><channel rdf:about="http://e.org/"><title>R</title></channel>
<item rdf:about="http://e.org/3"><title>Three</title><link>http://e.org/3</link></item></rdf:RDF>""",
    '<?xml version="1.0" encoding="gbk"?><rss version="2.0"><channel><title>鲁网</title><item><title>山东</title>'
    '<link>http://e.org/4</link></item></channel></rss>'.encode("gbk"),
    b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "home_page_url": "http://e.org/",'
    b'"items": [{"id": "5", "url": "/5", "title": "Five", "content_text": "a\\n\\nb",'
    b'"date_published": "2019-10-23T07:55:10+08:00", "authors": [{"name": "N"}]}]}',
]
# Inserted at random places: markup that opens, closes and confuses.
INSERTS = [b"<script>alert(1)</script>", b"</div>", b"<div>", b"<![CDATA[", b"]]>", b"<!--", b"-->", b"<?xml ",
           b"&#0;", b"&#xD800;", b"&#xFFFE;", b"\x00", b"\x0b", b"\xff\xfe", b"\xed\xa0\x80", b"<meta charset=gbk>",
           b"<meta charset=utf-16>", b"<h1 class=\"article-title\">", b"<a href=\"javascript:alert(1)\">",
           b"<img src=x onerror=alert(1)>", b"<base href=\"javascript:x\">", b"<li class=\"related-item\"><h3><a>",
           b'<link rel="canonical" href="http://[::1">', b"<time datetime=\"9999-99-99\">", b"\"items\": [{",
           b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>", b"&e;", b"<item><link>", b"</channel>"]
CHARSETS = st.sampled_from([None, "utf-8", "gbk", "utf-16", "iso-8859-1", "no-such-charset", ""])
CONTENT_TYPES = st.sampled_from([None, "application/rss+xml", "application/json", "text/xml; charset=gbk",
                                 "text/xml; charset=utf-16", "text/html; charset=bogus", "application/feed+json"])


def fuzz(count: int) -> settings:
    return settings(max_examples=examples(count), deadline=None, suppress_health_check=list(HealthCheck))


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        # Hypothesis favours small numbers: a wide draw folded onto the page
        # spreads mutations over all of it, not just its first bytes.
        at = draw(st.integers(0, 2**20)) % (len(data) + 1)
        operation = draw(st.sampled_from(["flip", "truncate", "insert", "insert", "delete", "random"]))
        if operation == "flip" and data:
            data[min(at, len(data) - 1)] ^= draw(st.integers(1, 255))
        elif operation == "truncate":
            del data[max(at, len(data) // 2):]  # keep half: an empty page tests little
        elif operation == "insert":
            data[at:at] = draw(st.sampled_from(INSERTS))
        elif operation == "delete":
            del data[at:at + draw(st.integers(1, 200))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


def assert_clean(value, seen=None) -> None:
    """Every string in a result, however deep: feed-safe text, no live
    markup in a body."""
    if isinstance(value, str):
        assert not NOT_TEXT.search(value), repr(value)
    elif isinstance(value, (tuple, list)):
        for item in value:
            assert_clean(item)
    elif is_dataclass(value):
        for field in fields(value):
            item = getattr(value, field.name)
            assert_clean(item)
            if field.name == "body_html" and item:
                assert not live_markup(item), (live_markup(item), item)


LIVE_ELEMENTS = {"script", "style", "iframe", "object", "embed", "form", "base", "meta", "link"}
LIVE_SCHEMES = ("javascript:", "vbscript:", "data:text/html")


def live_markup(html: str) -> list[str]:
    """What in `html` a browser would run, read by a parser: text that
    merely mentions "javascript:" is harmless, an href starting with it is not."""
    found = []
    for element in lxml.html.fragment_fromstring(html, create_parent="div").iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag.lower() in LIVE_ELEMENTS:
            found.append(element.tag)
        for name, value in element.attrib.items():
            compact = "".join(value.split()).lower()
            if name.lower().startswith("on") or compact.startswith(LIVE_SCHEMES):
                found.append(f"{element.tag} {name}={value!r}")
    return found


def test_live_markup_is_told_from_text():
    assert live_markup('<p>write =a href="javascript:x"&gt; in text</p><a href="/ok">x</a>') == []
    assert live_markup('<a href=" JavaScript:alert(1)">x</a>') == ["a href=' JavaScript:alert(1)'"]
    assert live_markup('<img src=x onerror=alert(1)><script>1</script>') == ["img onerror='alert(1)'", "script"]


def run(parser, *args, **kwargs):
    """The parser's result, or None when it raised ParseError. Any other
    exception fails the test with the input that caused it."""
    try:
        result = parser(*args, **kwargs)
    except ParseError:
        return None
    assert_clean(result)
    return result


def html_parsers(data: bytes, charset: str | None) -> None:
    run(parse_article, data, URL, RECIPE.article, RECIPE.related, zone=RECIPE.zone, charset=charset)
    run(parse_listing, data, URL, RECIPE.listing, zone=RECIPE.zone, charset=charset)
    run(extract_listing, data, URL, charset=charset)


@fuzz(300)
@given(data=st.binary(max_size=3000), charset=CHARSETS, content_type=CONTENT_TYPES)
def test_random_bytes(data, charset, content_type):
    html_parsers(data, charset)
    run(extract_page, data, URL, charset=charset)
    run(parse_feed, data, URL, headers={"Content-Type": content_type} if content_type else None)


@fuzz(500)
@given(data=mutated(HTML_SEEDS), charset=CHARSETS)
def test_mutated_pages_through_the_recipe_parsers(data, charset):
    html_parsers(data, charset)


@fuzz(250)
@given(data=mutated(HTML_SEEDS), charset=CHARSETS)
def test_mutated_pages_through_the_extractor(data, charset):
    run(extract_page, data, URL, charset=charset)
    run(extract_page, data, None)  # a page from a file: no URL to resolve against


@fuzz(500)
@given(data=mutated(FEED_SEEDS), content_type=CONTENT_TYPES)
def test_mutated_feeds(data, content_type):
    run(parse_feed, data, URL, headers={"Content-Type": content_type} if content_type else None)
    run(parse_feed, data, URL, outlet="Outlet")


def test_unmutated_seeds_parse():
    """The seeds themselves are good input, so mutations start from pages
    the parsers really read."""
    assert all(run(parse_feed, seed, URL).articles for seed in FEED_SEEDS)
    index = (SITE_DIR / "shandong/yaowen/index.shtml").read_bytes()
    assert run(parse_listing, index, URL, RECIPE.listing, zone=RECIPE.zone).entries
    article = (SITE_DIR / "shandong/yaowen/2019/1023/4371235.shtml").read_bytes()
    assert run(parse_article, article, URL, RECIPE.article, RECIPE.related, zone=RECIPE.zone).title
    assert run(extract_page, article, URL).title


def test_control_characters_in_attribute_names_are_dropped():
    """lxml can neither set nor delete an attribute whose name holds a
    control character (found by the extractor fuzz): the name goes, the
    element's other attributes stay, cleaned."""
    root = load_document(b'<html><body><h1 a\x01b="x" id="t\x03" class="k">T</h1></body></html>', URL)
    h1 = root.find(".//h1")
    assert dict(h1.attrib) == {"id": "t", "class": "k"}
    h1.set("data-x", "y")  # the tree accepts changes again


def test_feed_entities_read_no_file_and_do_not_explode():
    """External entities (XXE) are not resolved, and nested ones (the
    billion laughs) neither hang nor eat memory."""
    xxe = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e SYSTEM "file:///etc/passwd">]><rss version="2.0">'
           b"<channel><title>&e;</title><item><title>x&e;</title><link>http://e.org/1</link>"
           b"<description>&e;</description></item></channel></rss>")
    result = run(parse_feed, xxe, URL)
    assert result is None or "root:" not in repr(result)
    laughs = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + b"ha" * 10 + b'">' + b"".join(
        b'<!ENTITY %c "%s">' % (ord("b") + n, (b"&%c;" % (ord("a") + n)) * 10) for n in range(8)) + (
        b']><rss version="2.0"><channel><title>&i;</title><item><title>&i;</title>'
        b"<link>http://e.org/1</link></item></channel></rss>")
    started = time.monotonic()
    result = run(parse_feed, laughs, URL)
    assert time.monotonic() - started < 5
    assert result is None or len(repr(result)) < 1_000_000


@pytest.mark.parametrize("data", [b"", b" ", b"\x00" * 100, b"\xef\xbb\xbf", b"<", b"<html>", b"{", b"null", b"[]",
                                  b'{"version": "https://jsonfeed.org/version/1.1", "items": "x"}',
                                  b'{"version": "https://jsonfeed.org/version/1.1", "items": [1, null, "x", []]}',
                                  b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"url": 5, "title": 6}]}',
                                  b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"url": "http://e.org/",'
                                  b' "title": "\\ud800", "authors": "x", "date_published": 7}]}',
                                  b"\xff\xfe<\x00r\x00s\x00s\x00>\x00",
                                  b'<html><body><h1 a\x01b="x\x02" id="t\x03">T</h1><p c\x0bd=1>body</p></body></html>',
                                  b'<?xml version="1.0" encoding="\x15tf-8"?><rss version="2.0"><channel><title>T</title>'
                                  b'<item><title>x</title><link>http://e.org/1</link></item></channel></rss>'])
def test_edge_inputs(data):
    html_parsers(data, None)
    run(extract_page, data, URL)
    run(parse_feed, data, URL)
    run(parse_feed, data, URL, headers={"Content-Type": "application/json"})
