"""A scheduler killed with SIGKILL while it holds sources, with the default
lease settings (30 s lease, 10 s heartbeat): its leases are renewed while
it lives, a second scheduler refreshes its sources within a minute of the
kill, and meanwhile the second one's metrics show them late
(`feedsvc_scheduler_lag_seconds` > 0) and held by a lease nobody renews
(`feedsvc_source_leases_stale` > 0)."""

from __future__ import annotations

import signal
import time
from datetime import datetime, timezone

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support.sites import CountingSite

from tests.support.processes import feedsvc_env, free_port, start_feedsvc, stop, upgrade_store

pytestmark = pytest.mark.slow
SOURCES = 4
TAKEOVER_LIMIT_SECONDS = 60
INTERVAL_SECONDS = 6


def _leases(engine) -> dict[str, tuple[str | None, datetime | None]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, lease_holder, lease_expires_at FROM sources")).all()
    return {row.id: (row.lease_holder, row.lease_expires_at) for row in rows}


def _refreshed_since(engine, since: datetime) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM sources WHERE last_success_at >= :t"),
                            {"t": since.replace(tzinfo=None)}).scalar()


def _gauge(exposition: str, name: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in the metrics")


def test_a_killed_schedulers_sources_are_taken_over(tmp_path, database_url):
    with CountingSite(SOURCES) as site:
        site.write_recipes(tmp_path / "feeds", INTERVAL_SECONDS / 60)
        metrics_port = free_port()
        env = feedsvc_env(tmp_path, database_url, tmp_path / "feeds", SCHEDULER_TICK_SECONDS=0.5,
                          REFRESH_CONCURRENCY=SOURCES, FETCH_TIMEOUT_SECONDS=600)
        upgrade_store(env)
        engine = create_engine(database_url)
        first = start_feedsvc(["scheduler"], env)
        deadline = time.monotonic() + 30
        while _refreshed_since(engine, datetime(2000, 1, 1, tzinfo=timezone.utc)) < SOURCES:
            assert time.monotonic() < deadline and first.poll() is None, stop(first)
            time.sleep(0.05)
        # Their next runs: the first scheduler takes them and never finishes one.
        for n in range(SOURCES):
            site.delays[f"/s{n}.html"] = 300
        while any(len(site.hits[f"/s{n}.html"]) < 2 for n in range(SOURCES)):
            assert time.monotonic() < deadline + INTERVAL_SECONDS and first.poll() is None, stop(first)
            time.sleep(0.05)
        claimed = _leases(engine)
        time.sleep(11)  # past one heartbeat
        renewed = _leases(engine)
        assert all(renewed[s][1] > claimed[s][1] for s in claimed), (claimed, renewed)
        stop(first, signal.SIGKILL)
        killed, killed_at = time.monotonic(), datetime.now(timezone.utc)
        site.delays.clear()
        second = start_feedsvc(["scheduler"], {**env, "FEEDSVC_SCHEDULER_METRICS_PORT": str(metrics_port)})
        lags, stale = [], []
        try:
            while _refreshed_since(engine, killed_at) < SOURCES:
                assert time.monotonic() - killed < TAKEOVER_LIMIT_SECONDS and second.poll() is None, stop(second)
                try:
                    exposition = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
                    lags.append(_gauge(exposition, "feedsvc_scheduler_lag_seconds"))
                    stale.append(_gauge(exposition, "feedsvc_source_leases_stale"))
                except httpx.TransportError:
                    pass  # not listening yet
                time.sleep(0.5)
            taken_over = time.monotonic() - killed
        finally:
            log = stop(second)
        left = _leases(engine)
        engine.dispose()
    print(f"\ntakeover after kill -9 ({database_url.split(':')[0]}): {taken_over:.1f} s; "
          f"lag up to {max(lags):.1f} s; stale leases up to {max(stale):.0f}")
    assert "Traceback" not in log, log
    assert taken_over < TAKEOVER_LIMIT_SECONDS
    # While the dead scheduler's sources waited, the lag said so, and so did the stale-lease gauge.
    assert lags and max(lags) > 0, lags
    assert max(stale) == SOURCES, stale
    assert all(holder is None for holder, _ in left.values()), left
