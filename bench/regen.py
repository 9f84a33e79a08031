"""Group 2 (regenerate): the time to answer a feed request right after a
store change, when the cached feed is stale and must be queried and
rendered again. Measured two ways:

- HTTP: the Flask test client on /feeds/all.<fmt>?limit=N, the store's
  version stamp bumped before each request (as any write does) and the
  cache told to check it on every request. This is the whole miss path:
  version read, outlet directory rebuild, query, render, ETag and gzip.
  The API caps `limit` at 500, so 5,000 is measured only directly.
- direct: Store.query_items(ItemQuery(limit=N)) and render_<fmt>(meta, items),
  timed apart.

Then the store is grown tenfold and the 500-item Atom feed measured again:
the target is that the time grows with the items asked, not with the store."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from bench import common, profiling

FORMATS = ("atom", "rss", "json")


def _bump(store) -> None:
    from sqlalchemy import update

    from feedsvc.schema import store_state

    with store.engine.connect().execution_options(writer=True) as conn, conn.begin():
        conn.execute(update(store_state).where(store_state.c.key == "version").values(value=store_state.c.value + 1))


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


def _direct(store, fmt: str, limit: int, runs: int) -> dict:
    from feedsvc.models import ItemQuery
    from feedsvc.render import render_atom, render_json, render_rss

    render = {"atom": render_atom, "rss": render_rss, "json": render_json}[fmt]
    meta = _meta(fmt, limit)
    query_ms, render_ms, sizes = [], [], []
    for _ in range(runs + 1):
        a = time.perf_counter()
        found = store.query_items(ItemQuery(limit=limit))
        b = time.perf_counter()
        body = render(meta, found)
        c = time.perf_counter()
        query_ms.append((b - a) * 1000)
        render_ms.append((c - b) * 1000)
        sizes.append(len(body))
    assert len(found) == limit, (len(found), limit)
    import statistics

    q, r = statistics.median(query_ms[1:]), statistics.median(render_ms[1:])
    totals = [a + b for a, b in zip(query_ms[1:], render_ms[1:])]
    return {"query_ms": round(q, 2), "render_ms": round(r, 2), "total_ms": round(q + r, 2),
            "total_min_ms": round(min(totals), 2), "bytes": sizes[-1], "runs": runs}


def _http(client, store, fmt: str, limit: int, runs: int) -> dict:
    url = f"/feeds/all.{fmt}?limit={limit}"

    def once():
        _bump(store)
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        return elapsed * 1000

    once()
    import statistics

    times = [once() for _ in range(runs)]
    return {"median_ms": round(statistics.median(times), 2), "min_ms": round(min(times), 2), "runs": runs}


def run(small: int = 5000, large: int = 50000, runs: int = 7, profile: bool = False) -> dict:
    from feedsvc.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="feedsvc-bench-regen-"))
    out: dict = {"store_items": [small, large], "runs": runs}
    try:
        url = f"sqlite:///{folder / 'regen.sqlite3'}"
        store = common.open_store(url)
        common.bulk_fill(store, small)
        app = create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": url,
                          "RECIPES_PATH": str(common.write_recipes(folder / "recipes")),
                          "CACHE_CHECK_INTERVAL_SECONDS": 0, "LOG_LEVEL": "WARNING"})
        client = app.test_client()
        rows = out["at_small"] = {}
        for fmt in FORMATS:
            for limit in (50, 500, 5000):
                key = f"{fmt}_{limit}"
                entry = rows[key] = {"direct": _direct(store, fmt, limit, runs if limit < 5000 else 3)}
                if limit <= 500:
                    entry["http"] = _http(client, store, fmt, limit, runs)
                http = entry.get("http", {}).get("median_ms")
                d = entry["direct"]
                print(f"  {fmt:<4} {limit:>5} items: query {d['query_ms']:8.2f} ms  render {d['render_ms']:8.2f} ms"
                      + (f"  HTTP after a change {http:8.2f} ms" if http else ""), flush=True)
        out["outlets_query_ms_small"] = common.median_ms(store.outlets, runs)["median_ms"]

        if profile:
            prof: dict = {}
            import os

            with profiling.sampling(os.getpid(), 4, prof, "http_atom_500"):
                deadline = time.monotonic() + 4.5
                while time.monotonic() < deadline:
                    _bump(store)
                    client.get("/feeds/all.atom?limit=500")
            out["profile"] = prof
            profiling.print_summary("regenerate atom 500 (HTTP)", prof["http_atom_500"])

        common.bulk_fill(store, large - small, start=small)
        grown = out["at_large"] = {"atom_500": {"direct": _direct(store, "atom", 500, runs),
                                                "http": _http(client, store, "atom", 500, runs)},
                                   "atom_50": {"direct": _direct(store, "atom", 50, runs),
                                               "http": _http(client, store, "atom", 50, runs)}}
        out["outlets_query_ms_large"] = common.median_ms(store.outlets, runs)["median_ms"]
        g = grown["atom_500"]
        print(f"  atom   500 items on {large} stored: query {g['direct']['query_ms']:.2f} ms  render "
              f"{g['direct']['render_ms']:.2f} ms  HTTP after a change {g['http']['median_ms']:.2f} ms; "
              f"store.outlets() {out['outlets_query_ms_small']:.1f} → {out['outlets_query_ms_large']:.1f} ms",
              flush=True)
        store.engine.dispose()
        app.extensions["feedsvc"].store.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out
