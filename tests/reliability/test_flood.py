"""A flood of distinct feed requests at the Procfile's web process: 20,000
requests with a random `exclude=`, a random `Host:`, `limit=500`, each
from a client address of its own (behind a trusted proxy, so the per-client
render limit lets every one be rendered and the byte budget alone has to
hold). Each web worker stays within the feed cache budget + 50 MB of
resident memory over its size before the flood, keeps its cache under the
budget, and has no render lock left afterwards."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import faultserver as fs
from tests.support.processes import feedsvc_env, web_process

pytestmark = pytest.mark.slow

REQUESTS = 20_000
CONNECTIONS = 64
SOURCES = 2
BUDGET_MB = 64
HEADROOM_MB = 50

WRK_SCRIPT = """
local per_thread = %(per_thread)d
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) answered = 0; bad = 0; math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16)) end
function request()
  local n = math.random(1, 1000000000)
  local ip = string.format("10.%%d.%%d.%%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  return wrk.format("GET", "/feeds/all.atom?limit=500&exclude=w" .. n,
                    {["Host"] = "h" .. n .. ".example", ["X-Forwarded-For"] = ip})
end
function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then bad = bad + 1 end
  if answered == per_thread then
    -- wrk runs for its whole duration: the test stops it (SIGINT) once every thread is done.
    local marker = io.open("%(marker)s", "a")
    marker:write("done\\n")
    marker:close()
  end
end
function done(summary, latency, requests)
  local total, failed = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("answered")
    failed = failed + thread:get("bad")
  end
  io.write(string.format('flood_result {"answered": %%d, "not_200": %%d, "errors": %%d, "p50_us": %%d, "p99_us": %%d}\\n',
    total, failed, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _workers(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").glob("*")
            for c in (task / "children").read_text().split()]


def _memory_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(field)


def _gauges(base_url: str) -> dict[str, float]:
    text = httpx.get(base_url + "/metrics", timeout=10, headers={"Connection": "close"}).text
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(feedsvc_feed_cache_\w+) (\S+)$", text, re.M)}


def test_a_flood_of_distinct_requests_stays_within_the_budget(tmp_path):
    wrk = shutil.which("wrk")
    if wrk is None:
        if os.environ.get("CI"):
            pytest.fail("wrk is not installed (apt-get install wrk)")
        pytest.skip("wrk is not installed (apt-get install wrk)")
    script = tmp_path / "flood.lua"
    marker = tmp_path / "threads_done"
    script.write_text(WRK_SCRIPT % {"per_thread": REQUESTS // 2, "marker": marker}, encoding="utf-8")
    with fs.FaultServer() as server:
        (tmp_path / "feeds").mkdir()
        for n in range(SOURCES):
            server.routes[f"/s{n}.xml"] = fs.fresh_feed(f"s{n}", 20)
            (tmp_path / "feeds" / f"s{n}.toml").write_text(
                f'id = "s{n}"\nname = "Source {n}"\nkind = "feed"\nstart_urls = ["{server.url(f"/s{n}.xml")}"]\n',
                encoding="utf-8")
        env = feedsvc_env(tmp_path, f"sqlite:///{tmp_path / 'store.sqlite3'}", tmp_path / "feeds",
                          BASE_URL="https://feeds.example.org", TRUSTED_PROXIES="127.0.0.1",
                          FEED_CACHE_MAX_BYTES=BUDGET_MB * 1024 * 1024)
        subprocess.run([sys.executable, "-m", "feedsvc", "refresh"], env=env, check=True, capture_output=True)
    with web_process(env) as web:
        for n in range(40):  # every worker warm: imports done, one of everything rendered
            httpx.get(f"{web.base_url}/feeds/all.atom?limit=500&exclude=warm{n}", headers={"Connection": "close"},
                      timeout=10)
        workers = _workers(web.proc.pid)
        before = {pid: _memory_mb(pid, "VmRSS") for pid in workers}
        flood = subprocess.Popen([wrk, "-t2", f"-c{CONNECTIONS}", "-d600s", "--timeout", "10s", "-s", str(script),
                                  web.base_url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 600
        while not (marker.exists() and marker.read_text().count("done") == 2) and flood.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        flood.send_signal(signal.SIGINT)
        output = flood.communicate(timeout=60)[0]
        peak = {pid: _memory_mb(pid, "VmHWM") for pid in workers}
        gauges = [_gauges(web.base_url) for _ in range(12)]  # fresh connections reach both workers
    line = next(x for x in output.splitlines() if x.startswith("flood_result "))
    result = json.loads(line.removeprefix("flood_result "))
    growth = {pid: peak[pid] - before[pid] for pid in workers}
    print(f"\nflood: {result['answered']} requests, p50 {result['p50_us'] / 1000:.1f} ms, "
          f"p99 {result['p99_us'] / 1000:.1f} ms; worker RSS before {[round(v) for v in before.values()]} MB, "
          f"peak {[round(v) for v in peak.values()]} MB; cache bytes "
          f"{sorted({round(g['feedsvc_feed_cache_bytes'] / 2**20, 1) for g in gauges})} MiB, entries "
          f"{sorted({int(g['feedsvc_feed_cache_entries']) for g in gauges})}")
    assert result["answered"] >= REQUESTS and result["not_200"] == 0 and result["errors"] == 0, result
    assert all(g <= BUDGET_MB + HEADROOM_MB for g in growth.values()), growth
    assert all(g["feedsvc_feed_cache_bytes"] <= BUDGET_MB * 2**20 for g in gauges), gauges
    assert all(g["feedsvc_feed_cache_key_locks"] == 0 for g in gauges), gauges
    assert "Traceback" not in web.log, web.log[-3000:]
