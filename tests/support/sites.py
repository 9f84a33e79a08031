"""Loopback sites: the one way tests serve pages on 127.0.0.1.

`LoopbackServer` is a real threaded HTTP server on a port the system
picks; a subclass answers in `answer(handler)`. `PagesSite` serves a fixed
{path: (content type, body)} map (optionally with ETags and a request
log), `CountingSite` generates article pages and counts and delays every
request, `LoggingListener` logs what reached another loopback address.
`Site` routes a pytest-httpserver per path for tests that set pages one by
one. The page and recipe builders below write the markup those recipes
read. The raw-socket fault server, which must speak broken HTTP, is
`faultserver.py`."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from werkzeug import Request, Response


class LoopbackServer:
    """A threaded HTTP server on `host` (a loopback address), port 0.
    Serving starts on `start()` or entering the context; `close()` stops it."""

    methods = ("GET",)

    def __init__(self, host: str = "127.0.0.1"):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

        for method in self.methods:
            setattr(Handler, f"do_{method}", lambda handler: server.answer(handler))
        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    @staticmethod
    def send(handler: BaseHTTPRequestHandler, body: bytes, content_type: str, status: int = 200,
             headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def start(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:  # shutdown() waits for a loop that never ran otherwise
            self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


class PagesSite(LoopbackServer):
    """Serves `pages` ({path: (content type, body)}); anything else is an
    empty 404. With `etags`, each page has an ETag and a request sending it
    back gets 304. Every request is logged as (path, If-None-Match), with
    its User-Agent in `agents`."""

    def __init__(self, pages: dict[str, tuple[str, bytes]], etags: bool = False, host: str = "127.0.0.1"):
        super().__init__(host)
        self.pages = pages
        self.etags = etags
        self.log: list[tuple[str, str | None]] = []
        self.agents: list[str | None] = []
        self.lock = threading.Lock()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        with self.lock:
            self.log.append((path, handler.headers.get("If-None-Match")))
            self.agents.append(handler.headers.get("User-Agent"))
        content_type, body = self.pages.get(path, ("text/plain", b""))
        if not self.etags:
            self.send(handler, body, content_type, 200 if body else 404)
            return
        if path not in self.pages:
            handler.send_error(404)
            return
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
        if handler.headers.get("If-None-Match") == etag:
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.end_headers()
            return
        self.send(handler, body, content_type, headers={"ETag": etag})


class CountingSite(LoopbackServer):
    """Serves /s<N>.html: an article page of source N with a related list
    of two entries, in the demo recipe's markup. `delays[path]` seconds are
    waited before answering; `titles[path]` overrides a page's title."""

    def __init__(self, sources: int):
        super().__init__()
        self.sources = sources
        self.hits: dict[str, list[float]] = defaultdict(list)
        self.delays: dict[str, float] = {}
        self.titles: dict[str, str] = {}
        self.lock = threading.Lock()

    def page(self, n: int) -> str:
        title = self.titles.get(f"/s{n}.html", f"来源{n}的文章")
        related = "".join(
            f'<li class="related-item"><h3><a href="https://example.org/s{n}/r{k}.html">来源{n}的相关{k}</a></h3>'
            f'<p class="summary">摘要{n}-{k}</p><div class="related-meta"><span class="outlet">媒体{n % 3}</span> '
            f'<span class="date">2019-10-2{k}</span></div></li>' for k in (1, 2))
        return (f'<html><head><meta charset="utf-8"><link rel="canonical" href="https://example.org/s{n}.html">'
                f'</head><body><h1 class="article-title">{title}</h1><div class="article-info">'
                f'<span class="source">来源:媒体{n % 3}</span><span class="time">2019-10-23 0{n % 10}:00:00</span></div>'
                f'<div class="article-main"><p>正文{n}的第一段,足够长的一段文字用来做摘要。</p></div>'
                f'<ul class="related-list">{related}</ul></body></html>')

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        with self.lock:
            self.hits[path].append(time.monotonic())
        time.sleep(self.delays.get(path, 0))
        try:
            n = int(path.removeprefix("/s").removesuffix(".html"))
            body = self.page(n).encode()
        except ValueError:
            handler.send_error(404)
            return
        self.send(handler, body, "text/html; charset=utf-8")

    def write_recipes(self, folder, interval_minutes: float) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(self.sources):
            (folder / f"s{n}.toml").write_text(article_recipe(f"s{n}", f"{self.base_url}/s{n}.html", interval_minutes),
                                               encoding="utf-8")


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class LoggingListener(LoopbackServer):
    """A server on another loopback address that logs every request it
    gets: the proof that a guarded fetch never reached it."""

    methods = ("GET", "POST")

    def __init__(self, host: str = "127.0.0.2"):
        super().__init__(host)
        self.requests: list[str] = []

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests.append(handler.path)
        image = handler.path.endswith(".png")
        self.send(handler, PNG if image else b"window.leaked = true;", "image/png" if image else "text/javascript")


# -- routes on a pytest-httpserver ---------------------------------------------------------

Handler = Callable[[Request], Response]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    at: float


@dataclass
class Site:
    """Routes on a pytest-httpserver: `site.routes[path] = handler`;
    anything else answers 404, robots.txt included."""

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


def etag_page(site: Site, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8") -> None:
    """A page with an ETag, answering 304 to a request that sends it back."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    etag = '"%s"' % hashlib.sha256(data).hexdigest()[:16]

    def answer(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(data, content_type=content_type, headers={"ETag": etag})

    site.routes[path] = answer


def sent_validators(seen: Seen) -> bool:
    return "If-None-Match" in seen.headers or "If-Modified-Since" in seen.headers


# -- pages and the recipes that read them ---------------------------------------------------

def article_recipe(source_id: str, url: str, interval_minutes: float = 60) -> str:
    """A recipe for one page in the demo recipe's markup (CountingSite's
    pages and `ARTICLE`)."""
    return f"""
id = "{source_id}"
name = "Source {source_id}"
kind = "article_page"
start_urls = ["{url}"]
refresh_interval_minutes = {interval_minutes}
[article]
title = "h1.article-title"
outlet = ".article-info .source"
published = ".article-info .time"
body = ".article-main"
[related]
item = "li.related-item"
title = "h3 a"
summary = "p.summary"
outlet = ".related-meta .outlet"
date = ".related-meta .date"
"""


# An article with two related entries in the demo recipe's markup: three items.
ARTICLE = """<html><head><meta charset="utf-8"><link rel="canonical" href="https://example.org/a.html"></head>
<body><h1 class="article-title">一篇文章</h1>
<div class="article-info"><span class="source">来源:大众日报</span><span class="time">2019-10-23 07:55:10</span></div>
<div class="article-main"><p>正文的第一段,足够长的一段文字用来做摘要,说明这篇文章讲了什么。</p></div>
<ul class="related-list">
<li class="related-item"><h3><a href="https://example.org/r1.html">相关一</a></h3><p class="summary">摘要一</p></li>
<li class="related-item"><h3><a href="https://example.org/r2.html">相关二</a></h3><p class="summary">摘要二</p></li>
</ul></body></html>"""


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


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8


def image_site(httpserver) -> Site:
    """A listing and an article whose picture is served only to requests
    with the article's Referer (JPEG)."""
    site = Site(httpserver)
    article_url = site.url("/a/0.html")

    def hotlink_protected(request):
        # What Chinese portals do (图片防盗链): their own pages' Referer only.
        if not (request.headers.get("Referer") or "").startswith(article_url):
            return Response("hotlinking refused", status=403)
        return Response(JPEG, content_type="image/jpeg")

    site.routes["/pic.jpg"] = hotlink_protected
    site.page("/list", listing_page(("/a/0.html", "有图的新闻", "2019-10-23")))
    site.page("/a/0.html", article_page("有图的新闻", body='<p>正文第一段，足够长的一段文字用来做摘要。</p>'
                                                       '<p><img src="/pic.jpg" srcset="/pic.jpg 2x"></p>'))
    return site
