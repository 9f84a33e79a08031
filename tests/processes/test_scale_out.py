"""Several worker and web processes over one PostgreSQL store: each source
fetched once per interval, no duplicates, the same feeds everywhere, and a
worker killed mid-refresh loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

from tests.support.checks import parse_strict

from tests.support.stores import reset_postgres
from tests.support.processes import free_port, stop, wait_for
from tests.support.sites import CountingSite
from tests.support.processes import procfile

pytestmark = pytest.mark.slow
INTERVAL_SECONDS = 3.0


def _env(tmp_path, database_url: str, recipes) -> dict:
    bin_dir = os.path.dirname(sys.executable)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONUNBUFFERED": "1",
            "FEEDSVC_DATABASE_URL": database_url, "FEEDSVC_RECIPES_PATH": str(recipes),
            "FEEDSVC_INSTANCE_PATH": str(tmp_path / "instance"), "FEEDSVC_SCHEDULER_TICK_SECONDS": "0.2",
            "FEEDSVC_REFRESH_JITTER_RATIO": "0", "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0",
            "FEEDSVC_LEASE_SECONDS": "3"}


def _start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _entries(base: str) -> list[tuple[str, str]]:
    feed = parse_strict(wait_for(f"{base}/feeds/all.atom?limit=500").content)
    return [(e.id, e.updated) for e in feed.entries]


@pytest.fixture
def store_url(pg_database):
    reset_postgres(pg_database)
    subprocess.run([sys.executable, "-m", "feedsvc", "db", "upgrade"], check=True, capture_output=True,
                   env={**os.environ, "FEEDSVC_DATABASE_URL": pg_database})
    return pg_database


def test_two_workers_two_webs_share_the_work(tmp_path, store_url):
    with CountingSite(20) as site:
        site.write_recipes(tmp_path / "feeds", INTERVAL_SECONDS / 60)
        env = _env(tmp_path, store_url, tmp_path / "feeds")
        ports = [free_port(), free_port()]
        procs = [_start(["bash", "-c", "exec " + procfile()["web"]], {**env, "PORT": str(p)}) for p in ports]
        try:
            for port, proc in zip(ports, procs):
                wait_for(f"http://127.0.0.1:{port}/healthz", proc=proc)
            started = time.monotonic()
            procs += [_start([sys.executable, "-m", "feedsvc", "scheduler"], env) for _ in range(2)]
            time.sleep(INTERVAL_SECONDS * 3.5)
            elapsed = time.monotonic() - started
            hits = {path: list(times) for path, times in site.hits.items() if path != "/robots.txt"}
            # Both web processes serve the same feed (within a second of the last change).
            bases = [f"http://127.0.0.1:{p}" for p in ports]
            deadline = time.monotonic() + 1.5
            while _entries(bases[0]) != _entries(bases[1]):
                a, b = _entries(bases[0]), _entries(bases[1])
                assert time.monotonic() < deadline, ("web processes disagree", len(a), len(b),
                                                     set(a) ^ set(b))
                time.sleep(0.1)
            assert len(_entries(bases[0])) == 60
        finally:
            logs = [stop(p) for p in procs]
    assert set(hits) == {f"/s{n}.html" for n in range(20)}, logs
    tracebacks = [log[log.index("Traceback") - 300:][:3000] for log in logs if "Traceback" in log]
    assert not tracebacks, "\n----\n".join(tracebacks)
    for path, times in hits.items():
        gaps = [b - a for a, b in zip(times, times[1:])]
        # Never twice within an interval (no double fetch), never a missed interval.
        # (A double fetch lands ~0 s apart; a fetch delayed by a loaded CPU makes the next gap shorter.)
        assert all(gap >= INTERVAL_SECONDS * 0.5 for gap in gaps), (path, gaps, [
            line for log in logs for line in log.splitlines() if f"source={path[1:-5]} " in line])
        assert len(times) >= int(elapsed / INTERVAL_SECONDS) - 1, (path, len(times), elapsed)
    engine = create_engine(store_url)
    with engine.connect() as conn:
        urls = conn.execute(text("SELECT url, count(*) FROM items GROUP BY url HAVING count(*) > 1")).all()
        assert urls == [] and conn.execute(text("SELECT count(*) FROM items")).scalar() == 60
    engine.dispose()


def test_a_killed_worker_leaves_a_lease_that_expires(tmp_path, store_url):
    with CountingSite(1) as site:
        site.write_recipes(tmp_path / "feeds", 60)
        site.delays["/s0.html"] = 30  # long enough to be killed mid-refresh
        env = _env(tmp_path, store_url, tmp_path / "feeds")
        first = _start([sys.executable, "-m", "feedsvc", "scheduler"], env)
        deadline = time.monotonic() + 20
        while not site.hits.get("/s0.html"):
            assert time.monotonic() < deadline and first.poll() is None, stop(first)
            time.sleep(0.05)
        stop(first, signal.SIGKILL)
        engine = create_engine(store_url)
        with engine.connect() as conn:
            holder, = conn.execute(text("SELECT lease_holder FROM sources WHERE id = 's0'")).one()
            assert holder and conn.execute(text("SELECT count(*) FROM items")).scalar() == 0
        site.delays.clear()
        second = _start([sys.executable, "-m", "feedsvc", "scheduler"], env)
        try:
            deadline = time.monotonic() + 20
            while True:
                with engine.connect() as conn:
                    done = conn.execute(text("SELECT last_success_at FROM sources WHERE id = 's0'")).scalar()
                if done:
                    break
                assert time.monotonic() < deadline and second.poll() is None, stop(second)
                time.sleep(0.2)
        finally:
            stop(second)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*), count(DISTINCT url) FROM items")).one() == (3, 3)
            assert conn.execute(text("SELECT lease_holder FROM sources WHERE id = 's0'")).scalar() is None
        engine.dispose()
        # The second worker waited for the dead one's lease to run out before fetching.
        first_hit, second_hit = site.hits["/s0.html"][0], site.hits["/s0.html"][1]
        assert second_hit - first_hit >= 2.5
