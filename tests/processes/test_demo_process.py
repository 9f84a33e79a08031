"""`feedsvc serve --demo` as a new user runs it: a real process, stopped
and started again on the same instance folder."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.checks import parse_strict
from feedsvc.core.outlets import slugify
from tests.support.processes import free_port, running, wait_for

OUTLET_COUNTS = {"胶东在线": 2, "鲁网": 3, "中国山东网": 3, "新华网": 1, "大众日报": 2}

pytestmark = pytest.mark.slow


def _check_feeds(base: str) -> set[str]:
    feed = parse_strict(wait_for(f"{base}/feeds/all.atom").content)
    assert len(feed.entries) == 11
    for outlet, count in OUTLET_COUNTS.items():
        assert len(parse_strict(wait_for(f"{base}/feeds/outlet/{slugify(outlet)}.atom").content).entries) == count
    return {e.id for e in feed.entries}


def test_demo_serves_the_seed_feeds_across_restarts(tmp_path):
    env = {"FEEDSVC_INSTANCE_PATH": str(tmp_path / "instance")}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(["serve", "--demo", "--port", str(port)], env) as proc:
        wait_for(f"{base}/healthz", proc=proc)
        first_ids = _check_feeds(base)
    output = proc.stdout.read()
    assert f"{base}/feeds/outlet/jiaodong-zaixian.atom" in output  # the demo prints its canonical feed URLs
    assert (tmp_path / "instance" / "demo.sqlite3").exists()
    # The other verbs look at the demo's data with --demo.
    listed = subprocess.run([sys.executable, "-m", "feedsvc", "--demo", "outlets"], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert {line.split()[0] for line in listed.stdout.splitlines()[2:]} == set(OUTLET_COUNTS)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(["serve", "--demo", "--port", str(port)], env) as proc:
        wait_for(f"{base}/healthz", proc=proc)
        assert _check_feeds(base) == first_ids


def test_demo_refresh_endpoint_reports_json(tmp_path):
    import httpx

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(["serve", "--demo", "--port", str(port)], {"FEEDSVC_INSTANCE_PATH": str(tmp_path)}) as proc:
        wait_for(f"{base}/healthz", proc=proc)
        response = httpx.post(f"{base}/refresh", timeout=60)
        assert response.status_code == 200
        [report] = response.json()["results"]
        assert report["source"] == "iqilu-shandong" and report["status"] == "ok"
        assert (report["new"], report["updated"]) == (0, 0)  # the start-up refresh already stored all 11
        assert httpx.post(f"{base}/refresh/nope", timeout=10).status_code == 404
