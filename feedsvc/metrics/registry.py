"""Prometheus metrics for one app, in a registry of its own (no module
globals, so two apps in one process, as in tests, never share counts).

The refresher reports every refresh to `Metrics.observe_refresh` (a
refresh listener); the feed views call `observe_feed_request`; the
scheduler sets the lag at each tick. Cache counters are read from the feed
cache, and per-source figures from the store, when scraped: the store's
figures are the same whichever process is asked, so a web process reports
sources that worker processes refresh."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import generate_latest

from feedsvc.core.models import RefreshReport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Refreshes range from a 304 in milliseconds to a slow portal's minutes.
REFRESH_BUCKETS_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
log = logging.getLogger(__name__)


class _CacheCollector:
    """Reads hits and misses from the feed cache at scrape time, so the hit
    path pays nothing for being counted."""

    def __init__(self, read_stats: Callable[[], tuple[int, int]], read_sizes: Callable[[], dict] | None):
        self._read = read_stats
        self._read_sizes = read_sizes

    def collect(self):
        hits, misses = self._read()
        yield CounterMetricFamily("feedsvc_feed_cache_hits", "Feed cache hits", value=hits)
        yield CounterMetricFamily("feedsvc_feed_cache_misses", "Feed cache misses (renders)", value=misses)
        if self._read_sizes is not None:
            sizes = self._read_sizes()
            for name, text in (("bytes", "Bytes the feed cache and the fast path keep, against one budget"),
                               ("entries", "Feeds in the feed cache"),
                               ("key_locks", "Renders under way or waited for"),
                               ("fast_answers", "Answers the fast path keeps")):
                yield GaugeMetricFamily(f"feedsvc_feed_cache_{name}", text, value=sizes[name])


class _SourceCollector:
    """Per-source state read from the store at scrape time, for the sources
    this process has recipes for."""

    def __init__(self, store, source_ids: Callable[[], Iterable[str]], lease_seconds: float,
                 heartbeat_seconds: float):
        self._store = store
        self._source_ids = source_ids
        self._lease_seconds = lease_seconds
        self._heartbeat_seconds = heartbeat_seconds

    def collect(self):
        up = GaugeMetricFamily("feedsvc_store_up", "1 if the store answered this scrape, else 0")
        try:
            states, counts = self._store.source_states(), self._store.source_item_counts()
        except Exception:  # noqa: BLE001 - a scrape must answer even when the store does not
            log.exception("metrics_store_read_failed")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        ids = set(self._source_ids())
        yield self._stale_leases(states)
        families = {
            "items": GaugeMetricFamily("feedsvc_source_items", "Items of the source in the feeds (not gone)",
                                       labels=["source"]),
            "success": GaugeMetricFamily("feedsvc_source_last_success_timestamp_seconds",
                                         "When the source was last refreshed without error (Unix time)",
                                         labels=["source"]),
            "failures": GaugeMetricFamily("feedsvc_source_consecutive_failures",
                                          "Failed refreshes of the source in a row", labels=["source"]),
            "next": GaugeMetricFamily("feedsvc_source_next_run_timestamp_seconds",
                                      "When the source is next due (Unix time)", labels=["source"]),
        }
        for state in states:
            if state.id not in ids:
                continue
            families["items"].add_metric([state.id], counts.get(state.id, 0))
            families["failures"].add_metric([state.id], state.consecutive_failures or 0)
            if state.last_success_at:
                families["success"].add_metric([state.id], state.last_success_at.timestamp())
            if state.next_run_at:
                families["next"].add_metric([state.id], state.next_run_at.timestamp())
        yield from families.values()

    def _stale_leases(self, states) -> GaugeMetricFamily:
        """Leases whose holder has missed two heartbeats: a lease was last
        renewed LEASE_SECONDS before it expires."""
        now = time.time()
        stale = sum(1 for s in states if s.lease_holder and s.lease_expires_at
                    and now - (s.lease_expires_at.timestamp() - self._lease_seconds) > 2 * self._heartbeat_seconds)
        return GaugeMetricFamily("feedsvc_source_leases_stale",
                                 "Sources held by a lease not renewed for more than two heartbeats", value=stale)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.refresh_duration = Histogram(
            "feedsvc_refresh_duration_seconds", "Time to refresh one source (fetch, parse, store)",
            ["source"], buckets=REFRESH_BUCKETS_SECONDS, registry=self.registry)
        self.refreshes = Counter("feedsvc_refreshes", "Refreshes by source and outcome",
                                 ["source", "status"], registry=self.registry)
        self.refresh_errors = Counter("feedsvc_refresh_errors", "Failed refreshes by source and error kind",
                                      ["source", "kind"], registry=self.registry)
        self.items_ingested = Counter("feedsvc_items_ingested", "Items stored, by source and change",
                                      ["source", "change"], registry=self.registry)
        self.feed_requests = Counter("feedsvc_feed_requests", "Feed requests by format and HTTP status",
                                     ["format", "status"], registry=self.registry)
        self._feed_children: dict = {}
        self.scheduler_lag = Gauge("feedsvc_scheduler_lag_seconds",
                                   "How late the most overdue source was at the last scheduler tick, "
                                   "whoever held its lease",
                                   registry=self.registry)
        self.recipe_reloads = Counter("feedsvc_recipe_reloads", "Times the recipes folder was read again",
                                      registry=self.registry)
        self.recipe_errors = Gauge("feedsvc_recipe_errors",
                                   "Recipe files refused at the last load (their previous version runs)",
                                   registry=self.registry)
        self.recipes_loaded = Gauge("feedsvc_recipes", "Sources this process runs", registry=self.registry)

    def watch_cache(self, read_stats: Callable[[], tuple[int, int]],
                    read_sizes: Callable[[], dict] | None = None) -> None:
        self.registry.register(_CacheCollector(read_stats, read_sizes))

    def watch_sources(self, store, source_ids: Callable[[], Iterable[str]], lease_seconds: float = 30,
                      heartbeat_seconds: float = 10) -> None:
        self.registry.register(_SourceCollector(store, source_ids, lease_seconds, heartbeat_seconds))

    def observe_refresh(self, report: RefreshReport) -> None:
        source = report.source_id
        self.refreshes.labels(source, report.status).inc()
        if report.status in ("ok", "error"):
            self.refresh_duration.labels(source).observe(report.duration_seconds)
        if report.status == "error":
            self.refresh_errors.labels(source, report.error_kind or "unknown").inc()
        if report.new:
            self.items_ingested.labels(source, "new").inc(report.new)
        if report.updated:
            self.items_ingested.labels(source, "updated").inc(report.updated)

    def observe_feed_request(self, fmt: str, status: int) -> None:
        # Called for every feed request, cached answers included: reuse the
        # labelled child rather than look it up under the metric's lock.
        child = self._feed_children.get((fmt, status))
        if child is None:
            child = self._feed_children[(fmt, status)] = self.feed_requests.labels(fmt, str(status))
        child.inc()

    def observe_scheduler_lag(self, seconds: float) -> None:
        self.scheduler_lag.set(seconds)

    def observe_recipes(self, sources: int, errors: int, reloaded: bool = False) -> None:
        self.recipes_loaded.set(sources)
        self.recipe_errors.set(errors)
        if reloaded:
            self.recipe_reloads.inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
