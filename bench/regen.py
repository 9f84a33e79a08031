"""Group 2 (regenerate): the time to answer a feed request right after a
store change, when the cached feed is stale and must be queried and
rendered again.

The change before each measured run is what a refresh does: one new item
(newest, so it is in every feed) and one edited item among the newest
(its title changes, so its revision moves), stored with Store.upsert_items
in one transaction. Measured three ways:

- cold: Store.query_items(ItemQuery(limit=N)) and render_<fmt>(meta, items),
  timed apart: every entry rendered, nothing reused. What the first request
  for a feed in a fresh web process costs.
- warm: Store.query_feed and render_feed with a fragment cache that has
  seen the feed before the change, as the web process does: the two changed
  entries are rendered, the others reused.
- HTTP: the Flask test client on /feeds/all.<fmt>?limit=N with the cache
  told to check the store on every request: version read, outlet directory,
  query, render, ETag; once more with Accept-Encoding: gzip for 500 Atom
  items (the compressed body is made on the first request that takes it).
  The API caps `limit` at 500, so 5,000 is measured only directly.

Then the store is grown tenfold and the 500-item Atom feed measured again:
the target is that the time grows with the items asked, not with the store."""

from __future__ import annotations

import itertools
import shutil
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bench import common, profiling

FORMATS = ("atom", "rss", "json")
LIMITS = (50, 500, 5000)


class Changes:
    """Store changes as a refresh makes them: a new newest item and an
    edited one among the newest."""

    def __init__(self, store):
        self.store = store
        self._new = itertools.count(10_000_000)
        self._edits = itertools.count()

    def apply(self) -> None:
        from feedsvc.core.models import Timestamp

        i = next(self._new)
        newest = replace(common.seed_record(i), published=Timestamp(
            common.BASE_TIME + timedelta(minutes=i - 10_000_000 + 1), "second"))
        n = next(self._edits)
        record = common.seed_record(n % 40)
        edited = replace(record, title=f"{record.title} · 更正 {n}")
        result = self.store.upsert_items([newest, edited])
        assert (result.new, result.updated) == (1, 1), result


def _meta(fmt: str, limit: int):
    from feedsvc.render import ATOM_TYPE, JSON_TYPE, RSS_TYPE, FeedMeta

    types = {"atom": ATOM_TYPE, "rss": RSS_TYPE, "json": JSON_TYPE}
    base = "http://localhost/feeds/all"
    zones = {common.SOURCE_ID: common.bench_recipe().zone}
    return FeedMeta(feed_id="tag:feedsvc,2026:/feeds/all", title="全部 · feedsvc", self_url=f"{base}.{fmt}?limit={limit}",
                    alternate_url="http://localhost/", author="feedsvc", language="zh-CN", zones=zones,
                    formats=[(t, f"{base}.{f}?limit={limit}") for f, t in types.items()],
                    next_url=f"{base}.{fmt}?limit={limit}&before=x",
                    stylesheet_url="http://localhost/static/feed.xsl")


def _summary(query_ms: list, render_ms: list, runs: int, size: int) -> dict:
    q, r = statistics.median(query_ms), statistics.median(render_ms)
    totals = [a + b for a, b in zip(query_ms, render_ms)]
    return {"query_ms": round(q, 2), "render_ms": round(r, 2), "total_ms": round(statistics.median(totals), 2),
            "total_min_ms": round(min(totals), 2), "bytes": size, "runs": runs}


def _cold(store, changes: Changes, fmt: str, limit: int, runs: int) -> dict:
    from feedsvc.core.models import ItemQuery
    from feedsvc.render import render_atom, render_json, render_rss

    render = {"atom": render_atom, "rss": render_rss, "json": render_json}[fmt]
    meta = _meta(fmt, limit)
    query_ms, render_ms = [], []
    for run in range(runs + 1):
        changes.apply()
        a = time.perf_counter()
        found = store.query_items(ItemQuery(limit=limit))
        b = time.perf_counter()
        body = render(meta, found)
        c = time.perf_counter()
        if run:  # the first run warms the connection pool and imports
            query_ms.append((b - a) * 1000)
            render_ms.append((c - b) * 1000)
    assert len(found) == limit, (len(found), limit)
    return _summary(query_ms, render_ms, runs, len(body))


def _warm(store, changes: Changes, fmt: str, limit: int, runs: int) -> dict:
    """Store.query_feed + render_feed, keyed as feedsvc.web.feeds does."""
    from feedsvc.core.models import ItemQuery
    from feedsvc.render import FragmentCache, render_feed

    meta = _meta(fmt, limit)
    cache = FragmentCache(max_bytes=1 << 30)
    query_ms, render_ms, rendered = [], [], []

    def key(ref):
        return fmt, ref.seq, ref.revision, None, ref.outlet

    for run in range(runs + 1):
        changes.apply()
        before = cache.stats.rendered
        reused: dict[int, bytes] = {}

        def lacking(ref) -> bool:
            fragment = cache.get(key(ref))
            if fragment is not None:
                reused[ref.seq] = fragment
            return fragment is None

        a = time.perf_counter()
        entries = store.query_feed(ItemQuery(limit=limit), lacking)
        b = time.perf_counter()
        body = render_feed(fmt, meta, entries, reused, cache, key)
        c = time.perf_counter()
        if run:  # the first run renders everything: that is the cold figure
            query_ms.append((b - a) * 1000)
            render_ms.append((c - b) * 1000)
            rendered.append(cache.stats.rendered - before)
    assert len(entries) == limit
    out = _summary(query_ms, render_ms, runs, len(body))
    out["entries_rendered_per_run"] = max(rendered)
    return out


def _http(client, changes: Changes, fmt: str, limit: int, runs: int, headers=None) -> dict:
    url = f"/feeds/all.{fmt}?limit={limit}"

    def once():
        changes.apply()
        started = time.perf_counter()
        response = client.get(url, headers=headers or {})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        return elapsed * 1000

    once()
    times = [once() for _ in range(runs)]
    return {"median_ms": round(statistics.median(times), 2), "min_ms": round(min(times), 2), "runs": runs}


def _measure(store, changes, client, fmt: str, limit: int, runs: int) -> dict:
    entry = {"cold": _cold(store, changes, fmt, limit, runs if limit < 5000 else 3),
             "warm": _warm(store, changes, fmt, limit, runs if limit < 5000 else 3)}
    if limit <= 500:
        entry["http"] = _http(client, changes, fmt, limit, runs)
    if (fmt, limit) == ("atom", 500):
        entry["http_gzip"] = _http(client, changes, fmt, limit, runs, {"Accept-Encoding": "gzip"})
    return entry


def _print(label: str, entry: dict) -> None:
    c, w = entry["cold"], entry["warm"]
    line = (f"  {label}: cold {c['query_ms']:.2f} + {c['render_ms']:.2f} = {c['total_ms']:.2f} ms; "
            f"warm {w['query_ms']:.2f} + {w['render_ms']:.2f} = {w['total_ms']:.2f} ms")
    if "http" in entry:
        line += f"; HTTP {entry['http']['median_ms']:.2f} ms"
    if "http_gzip" in entry:
        line += f" (gzip {entry['http_gzip']['median_ms']:.2f} ms)"
    print(line, flush=True)


def run(small: int = 5000, large: int = 50000, runs: int = 7, profile: bool = False) -> dict:
    from feedsvc.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="feedsvc-bench-regen-"))
    out: dict = {"store_items": [small, large], "runs": runs,
                 "change": "1 new item + 1 edited item among the newest, one upsert, before each run"}
    try:
        url = f"sqlite:///{folder / 'regen.sqlite3'}"
        store = common.open_store(url)
        common.bulk_fill(store, small)
        app = create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": url,
                          "RECIPES_PATH": str(common.write_recipes(folder / "recipes")),
                          "CACHE_CHECK_INTERVAL_SECONDS": 0, "LOG_LEVEL": "WARNING"})
        client = app.test_client()
        changes = Changes(store)
        rows = out["at_small"] = {}
        for fmt in FORMATS:
            for limit in LIMITS:
                rows[f"{fmt}_{limit}"] = entry = _measure(store, changes, client, fmt, limit, runs)
                _print(f"{fmt:<4} {limit:>5} items", entry)
        out["outlets_query_ms_small"] = common.median_ms(store.outlets, runs)["median_ms"]

        if profile:
            prof: dict = {}
            import os

            with profiling.sampling(os.getpid(), 4, prof, "http_atom_500"):
                deadline = time.monotonic() + 4.5
                while time.monotonic() < deadline:
                    changes.apply()
                    client.get("/feeds/all.atom?limit=500")
            out["profile"] = prof
            profiling.print_summary("regenerate atom 500 after a change (HTTP)", prof["http_atom_500"])

        common.bulk_fill(store, large - small, start=small)
        grown = out["at_large"] = {f"atom_{n}": _measure(store, changes, client, "atom", n, runs) for n in (50, 500)}
        out["outlets_query_ms_large"] = common.median_ms(store.outlets, runs)["median_ms"]
        _print(f"atom   500 items, {large:,} stored", grown["atom_500"])
        print(f"  store.outlets() {out['outlets_query_ms_small']:.2f} → {out['outlets_query_ms_large']:.2f} ms",
              flush=True)
        store.engine.dispose()
        app.extensions["feedsvc"].store.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out
