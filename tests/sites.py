"""Small loopback sites for process-level tests: pages generated on the
fly, every request counted and timed, optional delays."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def article_recipe(source_id: str, url: str, interval_minutes: float = 60) -> str:
    """A recipe for one page in the demo recipe's markup (CountingSite's pages)."""
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


class CountingSite:
    """Serves /s<N>.html: an article page of source N with a related list
    of two entries, in the demo recipe's markup. `delays[path]` seconds are
    waited before answering; `titles[path]` overrides a page's title."""

    def __init__(self, sources: int):
        self.sources = sources
        self.hits: dict[str, list[float]] = defaultdict(list)
        self.delays: dict[str, float] = {}
        self.titles: dict[str, str] = {}
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site._answer(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

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

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
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
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def write_recipes(self, folder, interval_minutes: float) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(self.sources):
            (folder / f"s{n}.toml").write_text(article_recipe(f"s{n}", f"{self.base_url}/s{n}.html", interval_minutes),
                                               encoding="utf-8")

    def __enter__(self) -> CountingSite:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
