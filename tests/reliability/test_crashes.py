"""Crashes and a store that cannot be written. A scheduler process killed
with SIGKILL mid-refresh, again and again, on SQLite and PostgreSQL: the
store stays sound (integrity check, no orphan rows, no half-written item
or refresh) and the next scheduler refreshes every source. A read-only
store and a full disk: refresh fails with a clear error (no traceback)
and the web process keeps serving the last feeds."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support.checks import parse_strict

from tests.support import faultserver as fs
from tests.support.processes import feedsvc_env, start_feedsvc, stop, upgrade_store, web_process

pytestmark = pytest.mark.slow

SOURCES = 6
ENTRIES = 300  # per feed page: every refresh of a source stores exactly this many new items
KILLS = 4
WATCHER = "feedsvc-test-watch"  # application_name of the test's own PostgreSQL session


def _write_recipes(folder: Path, server: fs.FaultServer, sources: int, interval_minutes: float = 0.05) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(sources):
        (folder / f"s{n}.toml").write_text(
            f'id = "s{n}"\nname = "Source {n}"\nkind = "feed"\nstart_urls = ["{server.url(f"/s{n}.xml")}"]\n'
            f"refresh_interval_minutes = {interval_minutes}\n", encoding="utf-8")


def soundness(database_url: str) -> dict:
    """What a crash must never leave: a corrupt file, dangling or
    incomplete rows, a refresh stored in part. Returns the item count per
    source."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalars().all() == ["ok"]
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            orphans = conn.execute(text(
                "SELECT count(*) FROM items i LEFT JOIN sources s ON s.id = i.source_id WHERE s.id IS NULL")).scalar()
            assert orphans == 0
            incomplete = conn.execute(text(
                "SELECT count(*) FROM items WHERE title IS NULL OR title = '' OR guid IS NULL OR url IS NULL "
                "OR first_seen_at IS NULL OR updated_at IS NULL OR sort_at IS NULL OR detail IS NULL "
                "OR search_text IS NULL")).scalar()
            assert incomplete == 0
            per_source = dict(conn.execute(text("SELECT source_id, count(*) FROM items GROUP BY source_id")).all())
            # One transaction per refresh: a source holds whole pages of items or none.
            assert all(count % ENTRIES == 0 for count in per_source.values()), per_source
            duplicates = conn.execute(text("SELECT count(*) FROM (SELECT url FROM items GROUP BY url "
                                           "HAVING count(*) > 1) d")).scalar()
            assert duplicates == 0
            return per_source
    finally:
        engine.dispose()


def _no_sessions_left(database_url: str) -> None:
    """PostgreSQL ended the killed process's sessions (and rolled back
    what they had open) instead of keeping them idle in a transaction."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + 10
    try:
        while True:
            with engine.connect() as conn:
                left = conn.execute(text("SELECT state FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND pid <> pg_backend_pid() AND application_name <> :watcher"),
                                    {"watcher": WATCHER}).scalars().all()
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert left == [], left
    finally:
        engine.dispose()


class WriteWatch:
    """Tells whether some other process is inside a write transaction on
    the store right now: SQLite's write lock is taken (BEGIN IMMEDIATE
    fails at once), or a PostgreSQL session of this database has a
    transaction id (it has written)."""

    def __init__(self, database_url: str):
        self.sqlite = database_url.startswith("sqlite")
        if self.sqlite:
            self.conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        else:
            self.engine = create_engine(database_url, isolation_level="AUTOCOMMIT",
                                        connect_args={"application_name": WATCHER})
            self.conn = self.engine.connect()

    def writing(self) -> bool:
        if not self.sqlite:
            return bool(self.conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name <> :watcher AND backend_xid IS NOT NULL"), {"watcher": WATCHER}).scalar())
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # "database is locked": a writer holds it
            return True
        self.conn.execute("ROLLBACK")
        return False

    def close(self) -> None:
        self.conn.close()
        if not self.sqlite:
            self.engine.dispose()


def _kill_mid_write(worker: subprocess.Popen, watch: WriteWatch, rng: random.Random) -> bool:
    """SIGKILL the worker inside its 1st to 4th write transaction seen (a
    few ms in, at random), or else at a random time within 4 s; True if
    it was writing."""
    deadline, wanted, seen, was = time.monotonic() + rng.uniform(1.0, 4.0), rng.randint(1, 4), 0, False
    while time.monotonic() < deadline and worker.poll() is None:
        writing = watch.writing()
        seen += writing and not was
        was = writing
        if writing and seen == wanted:
            time.sleep(rng.uniform(0, 0.02))
            stop(worker, signal.SIGKILL)
            return True
        time.sleep(0.003)
    stop(worker, signal.SIGKILL)
    return False


def test_kill_9_mid_refresh_leaves_a_sound_store(tmp_path, database_url):
    rng = random.Random(os.environ.get("FEEDSVC_TEST_SEED", "kill-9"))
    with fs.FaultServer() as server:
        for n in range(SOURCES):
            # Staggered answers, so a kill finds some sources fetching and some storing.
            server.routes[f"/s{n}.xml"] = fs.fresh_feed(f"s{n}", ENTRIES, delay_seconds=0.15 * n)
        _write_recipes(tmp_path / "feeds", server, SOURCES)
        env = feedsvc_env(tmp_path, database_url, tmp_path / "feeds", LEASE_SECONDS=2, SCHEDULER_TICK_SECONDS=0.2,
                          REFRESH_CONCURRENCY=3)
        upgrade_store(env)
        killed_at, mid_write = [], 0
        watch = WriteWatch(database_url)
        for _ in range(KILLS):
            hits = sum(server.hits.values())
            worker = start_feedsvc(["scheduler"], env)
            deadline = time.monotonic() + 20
            while sum(server.hits.values()) == hits:  # refreshing has begun
                assert time.monotonic() < deadline and worker.poll() is None, stop(worker)
                time.sleep(0.02)
            mid_write += _kill_mid_write(worker, watch, rng)
            killed_at.append(soundness(database_url))
            if database_url.startswith("postgresql"):
                _no_sessions_left(database_url)
        watch.close()
        # A new worker: every source is refreshed once the dead one's leases run out.
        restarted = datetime.now(timezone.utc)
        worker = start_feedsvc(["scheduler"], env)
        engine = create_engine(database_url)
        try:
            deadline = time.monotonic() + 30
            while True:
                with engine.connect() as conn:
                    done = conn.execute(text("SELECT count(*) FROM sources WHERE last_success_at >= :t"),
                                        {"t": restarted.replace(tzinfo=None)}).scalar()
                if done == SOURCES:
                    break
                assert time.monotonic() < deadline and worker.poll() is None, (done, stop(worker))
                time.sleep(0.2)
        finally:
            log = stop(worker)
        with engine.connect() as conn:
            errors = conn.execute(text("SELECT id, last_error FROM sources WHERE last_error IS NOT NULL")).all()
            holders = conn.execute(text("SELECT count(*) FROM sources WHERE lease_holder IS NOT NULL")).scalar()
        engine.dispose()
    after = soundness(database_url)
    print(f"\nkill -9 on {database_url.split(':')[0]}: {mid_write} of {KILLS} kills inside a write transaction; "
          f"items after each kill {[sum(k.values()) for k in killed_at]}, after restart {sum(after.values())}")
    assert mid_write >= 1
    assert "Traceback" not in log, log
    assert errors == [] and holders == 0, (errors, holders)
    assert sum(after.values()) > sum(killed_at[-1].values())


# -- a store that cannot be written ---------------------------------------------------------


def _feed_entries(base_url: str) -> list[str]:
    response = httpx.get(f"{base_url}/feeds/all.atom?limit=500", timeout=10)
    assert response.status_code == 200
    return [entry.id for entry in parse_strict(response.content).entries]


def _refresh_json(env: dict) -> tuple[int, list[dict], str]:
    done = subprocess.run([sys.executable, "-m", "feedsvc", "refresh", "--json"], env=env, capture_output=True,
                          text=True, timeout=60)
    start = done.stdout.find("[")
    return done.returncode, json.loads(done.stdout[start:]) if start >= 0 else [], done.stdout + done.stderr


@pytest.fixture
def read_only_url(database_url):
    """(writable URL, the same store read-only). SQLite: a `mode=ro` URI
    filename, which SQLite enforces whoever the user is (file modes do
    not stop root). PostgreSQL: the database made read-only for every new
    session (`default_transaction_read_only`)."""
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        yield database_url, f"sqlite:///file:{path}?mode=ro&uri=true", lambda: None
        return
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    name = database_url.rsplit("/", 1)[1]

    def lock() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))

    try:
        yield database_url, database_url, lock
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        admin.dispose()


def test_a_read_only_store_fails_refresh_clearly(tmp_path, read_only_url):
    writable, read_only, lock = read_only_url
    with fs.FaultServer() as server:
        for n in range(2):
            server.routes[f"/s{n}.xml"] = fs.fresh_feed(f"s{n}", 3)
        _write_recipes(tmp_path / "feeds", server, 2)
        env = feedsvc_env(tmp_path, writable, tmp_path / "feeds")
        upgrade_store(env)
        code, reports, output = _refresh_json(env)
        assert code == 0 and [r["status"] for r in reports] == ["ok", "ok"], output
        with web_process(env) as web:
            before = _feed_entries(web.base_url)
            lock()
            ro_env = feedsvc_env(tmp_path, read_only, tmp_path / "feeds")
            code, reports, output = _refresh_json(ro_env)
            print(f"\nread-only {writable.split(':')[0]}: exit {code}, errors {[r['error'] for r in reports]}")
            assert code == 1 and "Traceback" not in output, output
            assert [(r["status"], r["error_kind"]) for r in reports] == [("error", "store")] * 2, reports
            assert all(r["error"].startswith("store error: ") and "SQL" not in r["error"] for r in reports), reports
            assert ("readonly database" if writable.startswith("sqlite") else "read-only transaction") in output
            # The running web process serves the last feeds, and a web process
            # started on the read-only store serves them too.
            assert _feed_entries(web.base_url) == before
            with web_process(ro_env) as fresh:
                assert _feed_entries(fresh.base_url) == before
                # A manual refresh there reports the store error; it is no server error.
                response = httpx.post(f"{fresh.base_url}/refresh/s0", timeout=30)
                assert response.status_code == 200, response.text
                [report] = response.json()["results"]
                assert (report["status"], report["error_kind"]) == ("error", "store"), report
    assert "Traceback" not in web.log + fresh.log


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MiB tmpfs: a full disk without filling the machine's."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs (CI runs as root): {done.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs to fill (needs root): {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_disk_fails_refresh_clearly(tmp_path, tiny_disk):
    database_url = f"sqlite:///{tiny_disk / 'store.sqlite3'}"
    with fs.FaultServer() as server:
        server.routes["/s0.xml"] = fs.fresh_feed("s0", 3)
        server.routes["/s1.xml"] = fs.fresh_feed("s1", 3)
        _write_recipes(tmp_path / "feeds", server, 2)
        env = feedsvc_env(tmp_path, database_url, tmp_path / "feeds")
        code, reports, output = _refresh_json(env)
        assert code == 0 and [r["status"] for r in reports] == ["ok", "ok"], output
        with web_process(env) as web:
            before = _feed_entries(web.base_url)
            # Next time, s1's page holds 2,000 items of 1 KB: more than the disk has left.
            server.routes["/s1.xml"] = fs.fresh_feed("s1", 2000, summary="长" * 330)
            code, reports, output = _refresh_json(env)
            by_source = {r["source"]: r for r in reports}
            print(f"\nfull disk: exit {code}, s1: {by_source['s1']['error']}")
            assert code == 1 and "Traceback" not in output, output
            assert by_source["s1"]["status"] == "error" and by_source["s1"]["error_kind"] == "store", reports
            assert "database or disk is full" in by_source["s1"]["error"], reports
            assert set(before) <= set(_feed_entries(web.base_url))  # s0 may still fit a few new ones
        per_source, recorded = soundness_sqlite(database_url)
    assert per_source.get("s1") == 3, per_source  # the failed refresh left nothing behind
    assert recorded["s1"] == ("store", "store error: database or disk is full"), recorded
    assert "Traceback" not in web.log


def soundness_sqlite(database_url: str) -> tuple[dict, dict]:
    """Integrity, items per source, and each source's recorded error."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalars().all() == ["ok"]
            per_source = dict(conn.execute(text("SELECT source_id, count(*) FROM items GROUP BY source_id")).all())
            recorded = {row[0]: (row[1], row[2]) for row in conn.execute(text(
                "SELECT id, last_error_kind, last_error FROM sources"))}
            return per_source, recorded
    finally:
        engine.dispose()
