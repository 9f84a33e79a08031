"""Prometheus metrics for one app, in a registry of its own (no module
globals, so two apps in one process, as in tests, never share counts).

The refresher reports every refresh to `Metrics.observe_refresh` (a
refresh listener); the feed views call `observe_feed_request`; cache
counters are read from the feed cache when scraped."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import generate_latest

from feedsvc.models import RefreshReport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Refreshes range from a 304 in milliseconds to a slow portal's minutes.
REFRESH_BUCKETS_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class _CacheCollector:
    """Reads hits and misses from the feed cache at scrape time, so the hit
    path pays nothing for being counted."""

    def __init__(self, read_stats: Callable[[], tuple[int, int]]):
        self._read = read_stats

    def collect(self):
        hits, misses = self._read()
        yield CounterMetricFamily("feedsvc_feed_cache_hits", "Feed cache hits", value=hits)
        yield CounterMetricFamily("feedsvc_feed_cache_misses", "Feed cache misses (renders)", value=misses)


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
        self.scheduler_lag = Gauge("feedsvc_scheduler_lag_seconds",
                                   "How late the most overdue source was at the last scheduler tick",
                                   registry=self.registry)

    def watch_cache(self, read_stats: Callable[[], tuple[int, int]]) -> None:
        self.registry.register(_CacheCollector(read_stats))

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
        self.feed_requests.labels(fmt, str(status)).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
