"""SIGTERM while sources are being refreshed: the running refreshes
finish, nothing more is claimed, no lease is left behind and the process
exits cleanly (no traceback from work started during interpreter shutdown)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

from tests.support.processes import free_port, stop
from tests.support.sites import CountingSite

pytestmark = pytest.mark.slow
SOURCES = 6
DELAY_SECONDS = 1.5


def _env(tmp_path, site: CountingSite) -> tuple[dict, str]:
    site.write_recipes(tmp_path / "feeds", 60)
    for n in range(SOURCES):
        site.delays[f"/s{n}.html"] = DELAY_SECONDS
    url = f"sqlite:///{tmp_path / 'store.db'}"
    bin_dir = os.path.dirname(sys.executable)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONUNBUFFERED": "1",
            "FEEDSVC_DATABASE_URL": url, "FEEDSVC_RECIPES_PATH": str(tmp_path / "feeds"),
            "FEEDSVC_INSTANCE_PATH": str(tmp_path / "instance"), "FEEDSVC_SCHEDULER_TICK_SECONDS": "0.2",
            "FEEDSVC_REFRESH_CONCURRENCY": "2", "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
            "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0"}, url


def _stop_mid_refresh(args: list[str], env: dict, site: CountingSite) -> tuple[subprocess.Popen, str, float]:
    proc = subprocess.Popen([sys.executable, "-m", "feedsvc", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not any(path.startswith("/s") for path in site.hits):
        assert time.monotonic() < deadline and proc.poll() is None, stop(proc)
        time.sleep(0.02)
    signalled = time.monotonic()
    output = stop(proc, signal.SIGTERM)
    return proc, output, time.monotonic() - signalled


def _assert_clean(proc: subprocess.Popen, output: str, waited: float, url: str, site: CountingSite) -> None:
    assert "Traceback" not in output, output
    assert proc.returncode == 0, output
    # It waited for the page being fetched, and did not start on the rest.
    assert DELAY_SECONDS * 0.5 < waited < DELAY_SECONDS * 2 + 5, (waited, output)
    fetched = {path for path in site.hits if path.startswith("/s")}
    assert 1 <= len(fetched) <= 2, (fetched, output)
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, lease_holder, last_success_at FROM sources ORDER BY id")).all()
        items = conn.execute(text("SELECT count(*) FROM items")).scalar()
    engine.dispose()
    assert [row.id for row in rows if row.lease_holder] == [], rows
    assert {f"/{row.id}.html" for row in rows if row.last_success_at} == fetched, (rows, fetched)
    assert items == 3 * len(fetched)


def test_scheduler_stops_after_the_running_refresh(tmp_path):
    with CountingSite(SOURCES) as site:
        env, url = _env(tmp_path, site)
        proc, output, waited = _stop_mid_refresh(["scheduler"], env, site)
        _assert_clean(proc, output, waited, url, site)
    assert "scheduler: stopped" in output


def test_serve_stops_after_the_running_refresh(tmp_path):
    with CountingSite(SOURCES) as site:
        env, url = _env(tmp_path, site)
        proc, output, waited = _stop_mid_refresh(["serve", "--port", str(free_port())], env, site)
        _assert_clean(proc, output, waited, url, site)
