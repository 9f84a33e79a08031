"""A bounded load test: wrk with 64 connections on feed URLs for 15 s
against the Procfile's web process (granian), while a scheduler process
refreshes every source every 3 s, so the store changes and feeds are
rendered again all through. Zero errors allowed: no socket error, no
status outside 2xx/3xx, no timeout, no incomplete feed body."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support import faultserver as fs
from tests.support.processes import feedsvc_env, peak_rss_mb, stop, web_process

pytestmark = pytest.mark.slow

CONNECTIONS = 64
DURATION_SECONDS = 15
SOURCES = 8
PATHS = ["/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json", "/feeds/source/s0.atom", "/feeds/source/s3.rss",
         "/feeds/outlet/s1.atom", "/feeds/all.atom?limit=100", "/feeds/source/s5.json?q=%E6%9D%A1%E7%9B%AE"]

# Rotates over PATHS; counts bodies that are not a whole feed; prints one
# JSON line with wrk's own error counts and latency percentiles.
WRK_SCRIPT = """
local paths = {%(paths)s}
local threads = {}
local n = 0
function setup(thread) table.insert(threads, thread) end
function init(args) incomplete = 0; responses = 0 end
function request()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
function response(status, headers, body)
  responses = responses + 1
  if not (body:find("</feed>%%s*$") or body:find("</rss>%%s*$") or body:find("}%%s*$")) then
    incomplete = incomplete + 1
  end
end
function done(summary, latency, requests)
  local bad, seen = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("incomplete")
    seen = seen + thread:get("responses")
  end
  local e = summary.errors
  io.write(string.format('wrk_result {"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect": %%d, ' ..
    '"read": %%d, "write": %%d, "status": %%d, "timeout": %%d, "incomplete": %%d, "responses": %%d, ' ..
    '"p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout, bad, seen,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def _wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("wrk is not installed (apt-get install wrk)")
        pytest.skip("wrk is not installed (apt-get install wrk)")
    return found


def _items(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM items")).scalar()
    engine.dispose()
    return count


def test_feeds_under_load_while_refreshing(tmp_path):
    wrk = _wrk()
    database_url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    script = tmp_path / "feeds.lua"
    script.write_text(WRK_SCRIPT % {"paths": ", ".join(json.dumps(p) for p in PATHS)}, encoding="utf-8")
    with fs.FaultServer() as server:
        for n in range(SOURCES):
            server.routes[f"/s{n}.xml"] = fs.fresh_feed(f"s{n}", 20)
            (tmp_path / "feeds").mkdir(exist_ok=True)
            (tmp_path / "feeds" / f"s{n}.toml").write_text(
                f'id = "s{n}"\nname = "Source {n}"\nkind = "feed"\nstart_urls = ["{server.url(f"/s{n}.xml")}"]\n'
                "refresh_interval_minutes = 0.05\n", encoding="utf-8")
        env = feedsvc_env(tmp_path, database_url, tmp_path / "feeds", SCHEDULER_TICK_SECONDS=0.5)
        with web_process(env) as web:
            worker = subprocess.Popen([sys.executable, "-m", "feedsvc", "scheduler"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      start_new_session=True)
            try:
                deadline = time.monotonic() + 30
                while _items(database_url) < SOURCES * 20:  # every source refreshed once
                    assert time.monotonic() < deadline and worker.poll() is None, stop(worker)
                    time.sleep(0.2)
                for path in PATHS:
                    assert httpx.get(web.base_url + path, timeout=10).status_code == 200, path
                before = _items(database_url)
                done = subprocess.run([wrk, "-t2", f"-c{CONNECTIONS}", f"-d{DURATION_SECONDS}s", "--timeout", "5s",
                                       "-s", str(script), web.base_url], capture_output=True, text=True,
                                      timeout=DURATION_SECONDS + 30)
                after = _items(database_url)
                web_rss = peak_rss_mb(web.proc.pid)
            finally:
                worker_log = stop(worker)
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("wrk_result "))
    result = json.loads(line.removeprefix("wrk_result "))
    rate = result["requests"] / (result["duration_us"] / 1e6)
    print(f"\nload: {CONNECTIONS} connections, {result['duration_us'] / 1e6:.1f} s, {result['requests']} requests, "
          f"{rate:.0f} req/s, p50 {result['p50_us'] / 1000:.1f} ms, p90 {result['p90_us'] / 1000:.1f} ms, "
          f"p99 {result['p99_us'] / 1000:.1f} ms, max {result['max_us'] / 1000:.0f} ms, "
          f"{result['bytes'] / 1e6:.0f} MB; items {before} -> {after} during the run; web peak RSS {web_rss:.0f} MB")
    errors = {k: result[k] for k in ("connect", "read", "write", "status", "timeout", "incomplete")}
    assert errors == dict.fromkeys(errors, 0), (errors, done.stdout)
    assert result["responses"] == result["requests"] > 0
    assert after > before, "the scheduler kept refreshing during the run"
    assert "Traceback" not in worker_log + web.log, worker_log[-3000:] + web.log[-3000:]
