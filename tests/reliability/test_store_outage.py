"""A PostgreSQL outage under `feedsvc serve`, made on a database of the
test's own (never the shared server): `ALLOW_CONNECTIONS false` and every
session of it terminated. Cached feeds keep answering 200 from memory
(the outage logged once), anything else 503 with Retry-After, /healthz
503; once connections are allowed again everything answers 200 without a
restart. And start-up against a port nobody listens on: one line naming
the setting, a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support.stores import PG_ADMIN_URL
from tests.support.sites import CountingSite

from tests.support.processes import feedsvc_env, free_port, running, wait_for

pytestmark = pytest.mark.slow
CACHED = ["/feeds/all.atom", "/feeds/source/s0.rss", "/feeds/all.json?limit=2"]
UNCACHED = ["/feeds/all.atom?q=%E6%96%87%E7%AB%A0", "/feeds/source/s1.atom", "/"]


@pytest.fixture
def own_database():
    name = f"feedsvc_outage_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    try:
        yield name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", admin
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _outage(admin, name: str, down: bool) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if down else "true"}'))
        if down:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                         {"name": name})


def _statuses(client: httpx.Client, paths: list[str], **headers) -> dict[str, int]:
    return {path: client.get(path, headers=headers).status_code for path in paths}


def test_cached_feeds_outlive_a_database_outage(tmp_path, own_database):
    name, url, admin = own_database
    port = free_port()
    with CountingSite(3) as site:
        site.write_recipes(tmp_path / "feeds", 60)
        env = feedsvc_env(tmp_path, url, tmp_path / "feeds", SCHEDULER_TICK_SECONDS=1)
        subprocess.run([sys.executable, "-m", "feedsvc", "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "feedsvc", "refresh"], env=env, check=True, capture_output=True)
        with running(["serve", "--port", str(port)], env) as proc, \
                httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            wait_for(f"http://127.0.0.1:{port}/healthz", proc=proc)
            before = {path: client.get(path).content for path in CACHED}
            _statuses(client, CACHED)  # a second time: the fast path has them too
            gzipped = {path: client.get(path, headers={"Accept-Encoding": "gzip"}).content for path in CACHED}
            _outage(admin, name, down=True)
            time.sleep(1)  # past the cache's check interval: the outage is seen
            during = {path: client.get(path) for path in CACHED}
            # A variant the fast path never saw goes through Flask to the same cached feed.
            through_flask = _statuses(client, CACHED, Accept="application/atom+xml, */*")
            uncached = {path: client.get(path) for path in UNCACHED}
            health = client.get("/healthz")
            again = _statuses(client, CACHED, **{"Accept-Encoding": "gzip"})
            _outage(admin, name, down=False)
            time.sleep(1)
            after = _statuses(client, CACHED + UNCACHED + ["/healthz"])
            proc.terminate()
            log = proc.communicate(timeout=30)[0]
    assert {p: r.status_code for p, r in during.items()} == dict.fromkeys(CACHED, 200)
    assert {p: r.content for p, r in during.items()} == before
    assert through_flask == dict.fromkeys(CACHED, 200) and again == dict.fromkeys(CACHED, 200)
    assert all(gzipped.values())
    assert {p: r.status_code for p, r in uncached.items()} == dict.fromkeys(UNCACHED, 503)
    assert all(r.headers["Retry-After"] == "10" for r in uncached.values())
    assert health.status_code == 503 and health.headers["Retry-After"] == "10"
    assert after == dict.fromkeys(CACHED + UNCACHED + ["/healthz"], 200)
    assert log.count("store_unreachable") == 1 and log.count("store_reachable") == 1, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    print("\n" + "\n".join(line for line in log.splitlines() if "store_" in line))


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["scheduler"], ["refresh"]])
def test_start_up_against_a_closed_port_is_one_line(tmp_path, command):
    (tmp_path / "feeds").mkdir()
    url = f"postgresql+psycopg://feedsvc@127.0.0.1:{free_port()}/feedsvc"
    env = feedsvc_env(tmp_path, url, tmp_path / "feeds")
    done = subprocess.run([sys.executable, "-m", "feedsvc", *command], env=env, capture_output=True, text=True,
                          timeout=60)
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode != 0
    assert len(lines) == 1 and "FEEDSVC_DATABASE_URL" in lines[0], lines
    print(f"\n{' '.join(command[:1])}: {lines[0]}")
