"""Group 3 (ingest), in this one process on one core:

- article pages: the bundled snapshot's article pages parsed with the demo
  recipe's selectors (feedsvc.parsers.parse_article, related list included)
  and stored with Store.upsert_items into a fresh SQLite store, 30 pages to a
  transaction as a refresh with max_follow = 30 does. Each pass gives every
  article a new URL, so each page stores one new item (and re-sees its
  related entries), as reading new articles does.
- feed entries: a generated 1,000-entry RSS 2.0 feed (the most entries
  feedsvc reads of one feed) read with feedsvc.parsers.parse_feed and
  stored in one upsert, as one refresh does.

Rates are given per wall second and per CPU second of this process (the
machine is shared; the CPU figure is the steadier one)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import replace
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from bench import common, profiling

BATCH_PAGES = 30


def _records(article, source_id: str):
    """What Refresher hands the store for one article page (see
    feedsvc.ingest.refresh._article_records)."""
    from feedsvc.core.models import DETAIL_ARTICLE, DETAIL_LISTING, ItemRecord

    own = ItemRecord(url=article.url, source_id=source_id, title=article.title, detail=DETAIL_ARTICLE,
                     summary=article.summary, body_html=article.body_html, author=article.author,
                     outlet=article.outlet, editors=article.editors, published=article.published,
                     image=article.image)
    related = [ItemRecord(url=e.link, source_id=source_id, title=e.title, detail=DETAIL_LISTING, summary=e.summary,
                          outlet=e.outlet, published=e.published) for e in article.related if e.link != article.url]
    return [own, *reversed(related)]


class _Clock:
    def __init__(self):
        self.wall = self.cpu = 0.0

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu


def _rates(count: int, parse: _Clock, store: _Clock) -> dict:
    wall, cpu = parse.wall + store.wall, parse.cpu + store.cpu
    return {"count": count, "per_second": round(count / wall, 1), "per_cpu_second": round(count / cpu, 1),
            "parse_only_per_second": round(count / parse.wall, 1),
            "store_only_per_second": round(count / store.wall, 1),
            "parse_share": round(parse.wall / wall, 3)}


def articles(folder: Path, pages_wanted: int = 900, profile: dict | None = None) -> dict:
    from feedsvc.sources.recipes import load_recipes
    from feedsvc.snapshot import RECIPES_DIR, SITE_DIR
    from feedsvc.parsers import parse_article

    base = "http://127.0.0.1:8000"
    recipe = load_recipes(RECIPES_DIR, {"snapshot": base})[0]
    index = Path(recipe.start_urls[0].removeprefix(base + "/"))
    pages = [(p, p.read_bytes()) for p in sorted(SITE_DIR.rglob("*.shtml")) if p.relative_to(SITE_DIR) != index]
    store = common.open_store(f"sqlite:///{folder / 'articles.sqlite3'}")
    store.sync_sources([recipe])

    def parse(path: Path, data: bytes, n: int):
        url = f"{base}/{path.relative_to(SITE_DIR).as_posix()}"
        article = parse_article(data, url, recipe.article, recipe.related, zone=recipe.zone, charset=None,
                                encoding=recipe.encoding, language=recipe.language)
        return replace(article, url=f"{article.url}?pass={n}")

    for path, data in pages:  # warm up: imports, selector compilation
        parse(path, data, -1)
    parse_clock, store_clock = _Clock(), _Clock()
    done = new = 0
    pid = os.getpid()
    context = profiling.sampling(pid, 4, profile, "articles") if profile is not None else None
    if context:
        context.__enter__()
    try:
        n = 0
        while done < pages_wanted:
            batch = []
            with parse_clock:
                for _ in range(BATCH_PAGES):
                    path, data = pages[done % len(pages)]
                    batch.extend(_records(parse(path, data, n), recipe.id))
                    done += 1
                    if done % len(pages) == 0:
                        n += 1
            with store_clock:
                new += store.upsert_items(batch).new
    finally:
        if context:
            context.__exit__(None, None, None)
    out = _rates(done, parse_clock, store_clock)
    out["distinct_pages"] = len(pages)
    out["new_items"] = new
    out["pages_per_transaction"] = BATCH_PAGES
    store.engine.dispose()
    return out


def make_feed(entries: int) -> bytes:
    """An RSS 2.0 feed of seed-shaped entries: title, link, guid, a ~300
    character description, author, category and pubDate (no full bodies: a
    5,000-entry feed with them would pass FEEDSVC_FETCH_MAX_BYTES)."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
             'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>基准新闻</title>'
             '<link>https://news.example.cn/</link><description>bench</description>']
    for i in range(entries):
        s = common.shape(i)
        url = f"https://feed.example.cn/bench/{i}.html"
        parts.append(
            f"<item><title>{escape(s.title)}</title><link>{url}</link><guid>{url}</guid>"
            f"<description>{escape(s.summary)}</description><dc:creator>{escape(s.author)}</dc:creator>"
            f"<category>{escape(common.outlet_of(i))}</category>"
            f"<source url=\"https://news.example.cn/{i % 8}.xml\">{escape(common.outlet_of(i))}</source>"
            f"<pubDate>{format_datetime(common.published_of(i))}</pubDate></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def feed(folder: Path, entries: int = 1000, profile: dict | None = None) -> dict:
    from feedsvc.parsers import parse_feed
    from feedsvc.parsers.feed import MAX_ENTRIES

    # feedsvc reads at most MAX_ENTRIES entries of one feed: ask for no more.
    entries = min(entries, MAX_ENTRIES)
    content = make_feed(entries)
    store = common.open_store(f"sqlite:///{folder / 'feed.sqlite3'}")
    parse_clock, store_clock = _Clock(), _Clock()
    context = profiling.sampling(os.getpid(), 9, profile, "feed") if profile is not None else None
    if context:
        context.__enter__()
    try:
        with parse_clock:
            parsed = parse_feed(content, "https://news.example.cn/feed.xml",
                                headers={"content-type": "application/rss+xml"})
            records = [r for a in parsed.articles for r in _records(a, common.SOURCE_ID)]
        with store_clock:
            result = store.upsert_items(records)
    finally:
        if context:
            context.__exit__(None, None, None)
    assert result.new == entries, (result.new, entries)
    out = _rates(entries, parse_clock, store_clock)
    out["feed_bytes"] = len(content)
    out["entries"] = entries
    store.engine.dispose()
    return out


def run(pages: int = 900, entries: int = 1000, profile: bool = False) -> dict:
    from feedsvc.core.outlets import slugify

    slugify("鲁网")  # warm up: the pinyin tables load on first use (~1 s), not per item
    folder = Path(tempfile.mkdtemp(prefix="feedsvc-bench-ingest-"))
    try:
        a = articles(folder, pages)
        print(f"  article pages: {a['per_second']:.0f}/s ({a['per_cpu_second']:.0f} per CPU second; parse only "
              f"{a['parse_only_per_second']:.0f}/s, store only {a['store_only_per_second']:.0f}/s) over {a['count']} "
              f"pages", flush=True)
        f = feed(folder, entries)
        entries = f["entries"]
        print(f"  feed entries: {f['per_second']:.0f}/s ({f['per_cpu_second']:.0f} per CPU second; parse only "
              f"{f['parse_only_per_second']:.0f}/s, store only {f['store_only_per_second']:.0f}/s), "
              f"{entries} entries, {f['feed_bytes'] / 1e6:.1f} MB", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out = {"article_pages": a, "feed_entries": f}
    if profile:  # a second pass under py-spy, apart from the measured one
        prof: dict = {}
        again = Path(tempfile.mkdtemp(prefix="feedsvc-bench-ingest-"))
        try:
            articles(again, pages, prof)
            feed(again, entries, prof)
        finally:
            shutil.rmtree(again, ignore_errors=True)
        out["profile"] = prof
        for key, summary in prof.items():
            profiling.print_summary(f"ingest {key}", summary)
    return out
