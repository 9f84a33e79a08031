"""A loopback site whose every kind of source (RSS, Atom, JSON Feed, an
article page with a related list, a listing page) carries one entry with a
hostile date next to entries with ordinary ones. Each hostile entry's URL
contains "hostile", each neighbour's "fine"."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.sites import PagesSite

FINE_TIME = "2024-03-05T06:07:08+08:00"  # every neighbour's time
FINE_UTC = "2024-03-04T22:07:08+00:00"


def _rss() -> bytes:
    return ("""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>rss</title>
<link>https://example.org/</link><description>d</description>
<item><title>RSS year 9999</title><link>https://example.org/rss-hostile-9999.html</link>
<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate></item>
<item><title>RSS year 9999 at -1200</title><link>https://example.org/rss-hostile-minus12.html</link>
<pubDate>Fri, 31 Dec 9999 23:59:59 -1200</pubDate></item>
<item><title>RSS 1900</title><link>https://example.org/rss-hostile-1900.html</link>
<pubDate>Mon, 01 Jan 1900 12:00:00 +0800</pubDate></item>
<item><title>RSS fine</title><link>https://example.org/rss-fine.html</link>
<pubDate>Tue, 05 Mar 2024 06:07:08 +0800</pubDate></item>
</channel></rss>""").encode("utf-8")


def _atom() -> bytes:
    return ("""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>a</title>
<id>urn:a</id><updated>2024-03-05T06:07:08+08:00</updated>
<entry><title>Atom 10000</title><link href="https://example.org/atom-hostile.html"/><id>urn:1</id>
<updated>9999-12-31T23:59:59-12:00</updated></entry>
<entry><title>Atom fine</title><link href="https://example.org/atom-fine.html"/><id>urn:2</id>
<updated>""" + FINE_TIME + """</updated></entry></feed>""").encode("utf-8")


def _json_feed() -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "j", "items": [
        {"id": "1", "url": "https://example.org/json-hostile-10000.html", "title": "JSON 10000",
         "date_published": "9999-12-31T23:59:59-12:00"},
        {"id": "2", "url": "https://example.org/json-hostile-0001.html", "title": "JSON year 1",
         "date_published": "0001-01-01T00:00:00+14:00"},
        {"id": "3", "url": "https://example.org/json-fine.html", "title": "JSON fine", "date_published": FINE_TIME},
    ]}).encode("ascii")


def _article(name: str, when: str, related: list[tuple[str, str]]) -> bytes:
    items = "".join(f'<li class="rel"><h3><a href="{href}">{href}</a></h3><span class="d">{date}</span></li>'
                    for href, date in related)
    return (f'<html><head><meta charset="utf-8"><link rel="canonical" href="https://example.org/{name}.html">'
            f'</head><body><h1 class="t">Article {name}</h1><time class="p" datetime="{when}">{when}</time>'
            f'<div class="b"><p>Body of {name}, long enough to be read as its summary.</p></div>'
            f'<ul>{items}</ul></body></html>').encode("utf-8")


def _listing() -> bytes:
    entries = (("listing-hostile-0001.html", "0001-01-01T00:00:00"),  # year 1 in America/New_York
               ("listing-hostile-ago.html", "999999个月前"),  # past what a datetime holds
               ("listing-fine.html", "2024-03-04 17:07:08"))  # New York's wall clock for FINE_TIME
    items = "".join(f'<li class="e"><a href="/{href}">Listed {href}</a><span class="d">{date}</span></li>'
                    for href, date in entries)
    return f'<html><head><meta charset="utf-8"></head><body><ul>{items}</ul></body></html>'.encode("utf-8")


PAGES = {
    "/feed.rss": ("application/rss+xml", _rss()),
    "/feed.atom": ("application/atom+xml", _atom()),
    "/feed.json": ("application/feed+json", _json_feed()),
    # An article dated 9999, whose related list holds one entry dated 9999.
    "/article-hostile.html": ("text/html; charset=utf-8", _article("article-hostile", "9999-12-31T23:59:59Z", [
        ("https://example.org/related-hostile.html", "9999-12-31T23:59:59+08:00"),
        ("https://example.org/related-fine.html", FINE_TIME)])),
    "/article-fine.html": ("text/html; charset=utf-8", _article("article-fine", FINE_TIME, [])),
    "/listing.html": ("text/html; charset=utf-8", _listing()),
}

# The items each source stores: hostile ones with no time, fine ones at FINE_UTC.
HOSTILE = {
    "dates-rss": ["https://example.org/rss-hostile-9999.html", "https://example.org/rss-hostile-minus12.html",
                  "https://example.org/rss-hostile-1900.html"],
    "dates-atom": ["https://example.org/atom-hostile.html"],
    "dates-json": ["https://example.org/json-hostile-10000.html", "https://example.org/json-hostile-0001.html"],
    "dates-article": ["https://example.org/article-hostile.html", "https://example.org/related-hostile.html"],
    "dates-listing": [],  # filled with the site's address: listing links are the site's own
}
FINE = {
    "dates-rss": ["https://example.org/rss-fine.html"],
    "dates-atom": ["https://example.org/atom-fine.html"],
    "dates-json": ["https://example.org/json-fine.html"],
    "dates-article": ["https://example.org/related-fine.html", "https://example.org/article-fine.html"],
    "dates-listing": [],
}


class DateSite(PagesSite):
    def __init__(self):
        super().__init__(PAGES)
        self.start()
        self.hostile = {**HOSTILE, "dates-listing": [f"{self.base_url}/listing-hostile-0001.html",
                                                      f"{self.base_url}/listing-hostile-ago.html"]}
        self.fine = {**FINE, "dates-listing": [f"{self.base_url}/listing-fine.html"]}

    def write_recipes(self, folder: Path) -> list[str]:
        folder.mkdir(parents=True)
        for name, path in (("rss", "feed.rss"), ("atom", "feed.atom"), ("json", "feed.json")):
            (folder / f"dates-{name}.toml").write_text(
                f'id = "dates-{name}"\nname = "dates-{name}"\nkind = "feed"\n'
                f'start_urls = ["{self.base_url}/{path}"]\n', encoding="utf-8")
        (folder / "dates-article.toml").write_text(f"""
id = "dates-article"
name = "dates-article"
kind = "article_page"
start_urls = ["{self.base_url}/article-hostile.html", "{self.base_url}/article-fine.html"]
[article]
title = "h1.t"
published = "time.p"
body = "div.b"
[related]
item = "li.rel"
title = "h3 a"
date = "span.d"
""", encoding="utf-8")
        (folder / "dates-listing.toml").write_text(f"""
id = "dates-listing"
name = "dates-listing"
kind = "listing_page"
timezone = "America/New_York"
follow_links = false
start_urls = ["{self.base_url}/listing.html"]
[listing]
item = "li.e"
title = "a"
date = "span.d"
""", encoding="utf-8")
        return sorted(path.stem for path in folder.glob("*.toml"))
