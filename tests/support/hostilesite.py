"""A loopback site of hostile content: an article page (with a related
list) and RSS, Atom and JSON feeds full of script, event handlers,
javascript: links, CDATA terminators and characters XML cannot carry."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

from tests.support.sites import PagesSite

# What XML 1.0 cannot carry, plus C1 controls: none may reach any output.
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
CONTROLS = "\x00\x01\x08\x0b\x0c\x0e\x1b\x7f\x85\x9f\ufffe\uffff"
SCRIPT_TEXT = "<script>window.__pwned=1</script>"
TITLE = f'Evil {SCRIPT_TEXT} <img src=x onerror="window.__pwned=2"> ]]> end'
# Raw markup a body must not keep, each a different way in.
BODY = """<p>Lead paragraph of the hostile page, long enough to be its summary. ]]> and ]]&gt; stay text.</p>
<script>window.__pwned=3</script><p onclick="window.__pwned=4">Click
<a href="javascript:window.__pwned=5">js</a> <a href=" JaVaScRiPt:alert(1)">spaced</a>
<a href="java&#x0A;script:alert(1)">split</a> <a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">data</a>
<a href="vbscript:msgbox(1)">vb</a> <a href="https://example.org/ok" title="a]]>b">fine link</a></p>
<img src="https://example.org/i.png" onerror="window.__pwned=6" alt="]]>"><iframe src="https://evil.example/"></iframe>
<object data="x.swf"></object><embed src="x.swf"><style>body{display:none}</style>
<svg onload="window.__pwned=7"><script>alert(1)</script></svg><form action="https://evil.example/"><input name=x></form>
<![CDATA[ x ]]> <math><mi xlink:href="javascript:alert(1)">m</mi></math><base href="https://evil.example/">
<p>Controls:""" + "".join(f"{c}{n}" for n, c in enumerate(CONTROLS)) + "</p>"


def _article_page() -> bytes:
    related = "".join(
        f'<li class="rel"><h3><a href="{href}">{escape(title)}</a></h3><p class="s">{escape(title)}</p></li>'
        for href, title in (("javascript:window.__pwned=8", "Script link " + SCRIPT_TEXT),
                            ("https://example.org/rel1.html", "Related " + SCRIPT_TEXT + CONTROLS)))
    page = (f'<html><head><meta charset="utf-8"><link rel="canonical" href="https://example.org/hostile.html">'
            f'</head><body><h1 class="t">{escape(TITLE)}{CONTROLS}</h1>'
            f'<span class="src">来源:{escape(SCRIPT_TEXT)}{CONTROLS}</span>'
            f'<div class="b">{BODY}</div><ul>{related}</ul></body></html>')
    # Bytes no encoder writes: an encoded surrogate and a lone 0xff.
    return page.encode("utf-8").replace(b"Controls:", b"Controls:\xed\xa0\x80\xff")


def _rss(broken: bool) -> bytes:
    cdata = ('<p onmouseover="window.__pwned=9">RSS <script>alert(1)</script>'
             '<a href="javascript:alert(1)">j</a> <a href="https://example.org/r">ok</a></p> ]]]]><![CDATA[> tail')
    title = escape(TITLE) + ("\x0b\x01&#x1b;" if broken else "")  # not well-formed: read leniently
    name = "broken" if broken else "rss"
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(SCRIPT_TEXT)}</title>'
            f'<link>https://example.org/</link><description>d</description>'
            f'<item><title>{title}</title><link>https://example.org/{name}1.html</link>'
            f'<description><![CDATA[{cdata}]]></description><author>{escape(SCRIPT_TEXT)}</author></item>'
            f'<item><title>js item</title><link>javascript:alert(1)</link><description>x</description></item>'
            f'</channel></rss>').encode("utf-8")


def _atom() -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>a</title>'
            f'<id>urn:a</id><updated>2024-01-01T00:00:00Z</updated>'
            f'<entry><title type="html">{escape("<b onmouseover=x>Bold</b> " + SCRIPT_TEXT)}</title>'
            f'<link href="https://example.org/atom1.html"/><id>urn:1</id><updated>2024-01-01T00:00:00Z</updated>'
            f'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>xhtml</p><script>alert(1)</script>'
            f'<a href="javascript:alert(1)">j</a><img src="https://example.org/x.png" onerror="alert(1)"/></div>'
            f'</content></entry>'
            f'<entry><title>js</title><link href="javascript:alert(1)"/><id>urn:2</id>'
            f'<updated>2024-01-01T00:00:00Z</updated></entry></feed>').encode("utf-8")


def _json_feed() -> bytes:
    # json.dumps escapes the lone surrogate as \ud800: the one way one gets in.
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "j", "items": [
        {"id": "1", "url": "https://example.org/json1.html", "title": TITLE + CONTROLS + "\ud800",
         "summary": f"<p onclick=x>sum</p>{CONTROLS}\udc00", "authors": [{"name": SCRIPT_TEXT + "\x00"}],
         "content_html": f"<p>json {SCRIPT_TEXT}{CONTROLS}\ud800<a href='javascript:alert(1)'>j</a></p>"},
        {"id": "2", "url": "javascript:alert(1)", "title": "js item"},
    ]}).encode("ascii")


PAGES = {"/hostile.html": ("text/html; charset=utf-8", _article_page()),
         "/feed.rss": ("application/rss+xml", _rss(broken=False)),
         "/broken.rss": ("application/rss+xml", _rss(broken=True)),
         "/feed.atom": ("application/atom+xml", _atom()),
         "/feed.json": ("application/feed+json", _json_feed())}


class HostileSite(PagesSite):
    def __init__(self):
        super().__init__(PAGES)
        self.start()

    def write_recipes(self, folder: Path) -> list[str]:
        folder.mkdir(parents=True)
        (folder / "hostile-page.toml").write_text(f"""
id = "hostile-page"
name = "Hostile page"
kind = "article_page"
start_urls = ["{self.base_url}/hostile.html"]
[article]
title = "h1.t"
outlet = "span.src"
body = "div.b"
[related]
item = "li.rel"
title = "h3 a"
summary = "p.s"
""", encoding="utf-8")
        for name in ("feed.rss", "broken.rss", "feed.atom", "feed.json"):
            source = "hostile-" + name.replace(".", "-")
            (folder / f"{source}.toml").write_text(
                f'id = "{source}"\nname = "{source}"\nkind = "feed"\nstart_urls = ["{self.base_url}/{name}"]\n',
                encoding="utf-8")
        return sorted(path.stem for path in folder.glob("*.toml"))
