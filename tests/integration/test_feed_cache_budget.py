"""The feed cache and the fast path under one byte budget: least recently
used out first, the fast path's answers charged to the entry they copy
and dropped with it; per-key locks only while a render is under way;
with FEEDSVC_BASE_URL the Host header makes no new entry; renders rate-
limited per client, cached feeds never."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from tests.support.checks import parse_strict
from feedsvc.app import create_app
from feedsvc.web.feedcache import FeedCache, RenderedFeed, VersionWatcher
from feedsvc.snapshot import RECIPES_DIR
from feedsvc.web.state import FEED_CACHE
from tests.support.stores import instance_folder

KB = 1024
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def feed(n: int, size: int = 100 * KB) -> RenderedFeed:
    return RenderedFeed(bytes([n % 256]) * size, "application/atom+xml", NOW, 60)


def test_bytes_stay_under_the_budget_least_recently_used_out_first():
    cache = FeedCache(VersionWatcher(lambda: 1, 0), max_bytes=1000 * KB)
    evicted = []
    cache.evicted.append(evicted.extend)
    for n in range(50):
        cache.get(("feed", n), lambda n=n: feed(n))
        cache.get(("feed", 0), lambda: pytest.fail("the most read feed was let go"))  # read after each insert
        assert cache.bytes <= cache.max_bytes
    assert 5 <= len(cache) <= 9
    assert ("feed", 0) not in evicted and ("feed", 1) in evicted
    assert cache.key_locks == 0


def test_a_gzip_body_and_charges_count_against_the_budget():
    cache = FeedCache(VersionWatcher(lambda: 1, 0), max_bytes=1000 * KB)
    value = cache.get("k", lambda: feed(1))
    before = cache.bytes
    value.gzip_body  # made on first use
    assert cache.charge("k", cache.peek("k"), 2 * KB)
    assert cache.bytes == before + len(value.gzip_body) + 2 * KB
    assert not cache.charge("k", (0, value), 1)  # not the entry it holds


def test_key_locks_are_released_on_every_path():
    cache = FeedCache(VersionWatcher(lambda: 1, 0), max_bytes=10 * 1000 * KB)

    def broken():
        raise RuntimeError("render failed")

    for n in range(100):
        with pytest.raises(RuntimeError):
            cache.get(("broken", n), broken)
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(10)
        return feed(1)

    threads = [threading.Thread(target=cache.get, args=("slow", slow)) for _ in range(4)]
    for thread in threads:
        thread.start()
    started.wait(10)
    assert cache.key_locks == 1  # one lock for the key being built, however many wait
    release.set()
    for thread in threads:
        thread.join(10)
    assert cache.key_locks == 0 and cache.stats.renders == 1


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from feedsvc.snapshot import SnapshotServer

    folder = tmp_path_factory.mktemp("budget")
    with SnapshotServer() as snapshot:
        config = {"INSTANCE_PATH": instance_folder(folder / "instance"), "RECIPES_PATH": str(RECIPES_DIR),
                  "RECIPE_VARIABLES": {"snapshot": snapshot.base_url}, "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
                  "FETCH_HOST_DELAY_SECONDS": 0, "CACHE_CHECK_INTERVAL_SECONDS": 60}
        app = create_app(config)
        assert app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])[0].status == "ok"
    yield config
    app.extensions["feedsvc"].refresher.close()
    app.extensions["feedsvc"].store.engine.dispose()


def test_with_a_base_url_the_host_header_makes_no_new_entry(served):
    app = create_app({**served, "BASE_URL": "https://feeds.example.org"})
    cache, client = app.extensions[FEED_CACHE], app.test_client()
    bodies = {client.get("/feeds/all.atom", headers={"Host": f"h{n}.attacker.example"}).data for n in range(30)}
    assert len(bodies) == 1
    assert 'href="https://feeds.example.org/feeds/all.atom"' in next(iter(bodies)).decode()
    assert len(app.wsgi_app) == 1  # one fast-path answer, whatever the Host
    assert cache.stats.renders == 2  # the feed and the outlet directory
    parse_strict(next(iter(bodies)))
    app.extensions["feedsvc"].store.engine.dispose()


def test_renders_are_limited_per_client_cached_feeds_never(served):
    app = create_app({**served, "FEED_RENDER_RATE_PER_MINUTE": 60, "FEED_RENDER_BURST": 5,
                      "TRUSTED_PROXIES": "127.0.0.1"})
    client = app.test_client()
    assert client.get("/feeds/all.atom").status_code == 200  # a render
    statuses = [client.get(f"/feeds/all.atom?q=x{n}").status_code for n in range(8)]
    assert statuses == [200] * 4 + [429] * 4
    limited = client.get("/feeds/all.atom?q=another")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    # The cached feed still answers, from the fast path and through Flask alike.
    assert [client.get("/feeds/all.atom").status_code for _ in range(5)] == [200] * 5
    assert client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip"}).status_code == 429  # not learnt yet
    assert client.get("/feeds/all.atom?q=x0").status_code == 200  # rendered before: a cache hit
    # Another client (behind the trusted proxy) has a bucket of its own.
    other = client.get("/feeds/all.atom?q=x7", headers={"X-Forwarded-For": "203.0.113.9"})
    assert other.status_code == 200
    app.extensions["feedsvc"].store.engine.dispose()


def test_feeds_rendered_before_render_again_free_after_the_store_changes(served):
    """Behind one proxy address every reader shares a bucket, and a busy
    store changes every few seconds: rendering again the variants already
    asked for must not use up that bucket, or readers get 429 for feeds
    they subscribed to (the 64-connection load test did, 52,619 times)."""
    app = create_app({**served, "FEED_RENDER_RATE_PER_MINUTE": 60, "FEED_RENDER_BURST": 3,
                      "CACHE_CHECK_INTERVAL_SECONDS": 0})
    client, store = app.test_client(), app.extensions["feedsvc"].store
    paths = ["/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json"]
    assert [client.get(p).status_code for p in paths] == [200] * 3  # the bucket is empty now
    for _ in range(3):
        store.touch()  # a refresh stored something: every cached feed is stale
        assert [client.get(p).status_code for p in paths] == [200] * 3
    assert client.get("/feeds/all.atom?q=new").status_code == 429  # a new variant still costs a token
    store.engine.dispose()
