"""Helpers for the fetching tests: a loopback site whose pages a test
sets per path (anything else answers 404, robots.txt included), and a
Refresher on a real SQLite store for recipes written inline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug import Request, Response

from feedsvc.fetch import FetchSettings
from feedsvc.recipes import parse_recipe
from feedsvc.refresh import Refresher
from feedsvc.ssrf import LOOPBACK_NETWORKS, parse_networks
from feedsvc.store import Store

LOOPBACK = parse_networks(LOOPBACK_NETWORKS)
Handler = Callable[[Request], Response]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    at: float


@dataclass
class Site:
    """Routes on a pytest-httpserver: `site.routes[path] = handler`."""

    server: object
    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.server.expect_request("").respond_with_handler(self._dispatch)

    def _dispatch(self, request: Request) -> Response:
        with self.lock:
            self.seen.append(Seen(request.path, dict(request.headers), time.monotonic()))
        handler = self.routes.get(request.path)
        return handler(request) if handler else Response("not here", status=404)

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def page(self, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8", status: int = 200,
             headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = lambda _request: Response(data, status=status, content_type=content_type,
                                                      headers=headers or {})

    def hits(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


def settings(**overrides) -> FetchSettings:
    values = {"timeout_seconds": 5, "connect_timeout_seconds": 2, "allowed_networks": LOOPBACK,
              "host_delay_seconds": 0}
    return FetchSettings(**{**values, **overrides})


def refresher(tmp_path: Path, *recipe_texts: str, **fetch_overrides) -> Refresher:
    recipes = [parse_recipe(text, f"r{i}.toml") for i, text in enumerate(recipe_texts)]
    store = Store.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    store.upgrade_schema()
    store.sync_sources(recipes)
    return Refresher(store, recipes, settings(**fetch_overrides), concurrency=2)


def listing_recipe(start_url: str, source_id: str = "news", extra: str = "", listing_extra: str = "",
                   article_extra: str = "") -> str:
    return f"""
id = "{source_id}"
name = "News"
kind = "listing_page"
start_urls = ["{start_url}"]
{extra}
[listing]
item = "li.item"
title = "a"
date = "span.date"
{listing_extra}
[article]
title = "h1"
author = ".author"
published = ".time"
body = ".body"
{article_extra}
"""


def listing_page(*entries: tuple[str, str, str]) -> str:
    """entries: (href, title, date)."""
    items = "".join(f'<li class="item"><a href="{href}">{title}</a><span class="date">{date}</span></li>'
                    for href, title, date in entries)
    return f"<html><head><title>list</title></head><body><ul>{items}</ul></body></html>"


def article_page(title: str, author: str = "刘一颖", time_text: str = "2019-10-23 07:55:10",
                 body: str = "<p>正文第一段，足够长的一段文字用来做摘要。</p>") -> str:
    return (f'<html><head><meta charset="utf-8"></head><body><h1>{title}</h1><span class="author">作者:{author}</span>'
            f'<span class="time">{time_text}</span><div class="body">{body}</div></body></html>')


def etag_page(site: Site, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8") -> None:
    """A page with an ETag, answering 304 to a request that sends it back."""
    import hashlib

    data = body.encode("utf-8") if isinstance(body, str) else body
    etag = '"%s"' % hashlib.sha256(data).hexdigest()[:16]

    def answer(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(data, content_type=content_type, headers={"ETag": etag})

    site.routes[path] = answer


def sent_validators(seen: Seen) -> bool:
    return "If-None-Match" in seen.headers or "If-Modified-Since" in seen.headers
