"""Group flood: a reader of one cached feed while 64 connections ask for
distinct `q=` values of the same feed (every one a render), against the
Procfile's web process. The reader's p50/p99 (one connection, wrk) alone,
then under the flood; with the per-client render limit as configured by
default, and with it off (FEEDSVC_FEED_RENDER_RATE_PER_MINUTE=0) to show
what the limit buys.

    python -m bench.flood [--seconds 10]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as bench/flood.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common  # noqa: E402
from bench.serve import web_command  # noqa: E402

FLOOD_CONNECTIONS = 64
FLOOD_SCRIPT = """
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  return wrk.format("GET", "%(path)s?q=" .. math.random(1, 1000000000))
end
"""


def _flood(wrk: str, base: str, path: str, script: Path, seconds: int, out: dict) -> None:
    script.write_text(FLOOD_SCRIPT % {"path": path}, encoding="utf-8")
    done = subprocess.run([wrk, "-t2", f"-c{FLOOD_CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(script),
                           base], capture_output=True, text=True)
    out.update(common.parse_wrk(done.stdout))


def _reader(wrk: str, url: str, seconds: int) -> dict:
    return common.wrk(url, connections=1, threads=1, seconds=seconds, wrk_path=wrk)


def _case(label: str, env_extra: dict, folder: Path, tools: dict, seconds: int, workers: int) -> dict:
    instance, recipes = folder / "instance", folder / "recipes"
    command, _ = web_command(workers)
    port = common.free_port()
    env = common.venv_env({"PORT": str(port), "FEEDSVC_INSTANCE_PATH": str(instance),
                           "FEEDSVC_RECIPES_PATH": str(recipes), **env_extra})
    web = subprocess.Popen(["sh", "-c", f"exec {command}"], env=env, cwd=folder, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        common.wait_http(f"{base}/healthz", 60, web)
        from feedsvc.core.outlets import slugify

        path = f"/feeds/outlet/{slugify(common.FEED_OUTLET)}.atom"
        for _ in range(20):  # cached, and learnt by the fast path of every worker
            assert common.http_get(base + path)[0] == 200
        unloaded = _reader(tools["wrk"], base + path, seconds)
        flood: dict = {}
        flooding = threading.Thread(target=_flood, args=(tools["wrk"], base, "/feeds/all.atom",
                                                         folder / "flood.lua", seconds + 2, flood))
        flooding.start()
        time.sleep(1)  # the flood is on
        loaded = _reader(tools["wrk"], base + path, seconds)
        flooding.join()
    finally:
        common.stop_group(web)
    row = {"unloaded": unloaded, "flooded": loaded, "flood": flood}
    print(f"  {label:<22} reader alone p50 {unloaded.get('p50_ms', 0):6.2f} ms  p99 {unloaded.get('p99_ms', 0):7.2f} ms"
          f" | flooded p50 {loaded.get('p50_ms', 0):7.2f} ms  p99 {loaded.get('p99_ms', 0):8.2f} ms"
          f" | flood {flood.get('rps', 0):7.1f} req/s, {flood.get('non_2xx_3xx', 0)} not 2xx/3xx (429)",
          flush=True)
    return row


def run(seconds: int = 10, items: int = 400) -> dict:
    import os

    tools = common.ensure_tools("wrk")
    workers = os.cpu_count() or 1
    folder = Path(tempfile.mkdtemp(prefix="feedsvc-bench-flood-"))
    out: dict = {"seconds": seconds, "flood_connections": FLOOD_CONNECTIONS, "reader_connections": 1,
                 "store_items": items, "workers": workers}
    try:
        common.write_recipes(folder / "recipes")
        store = common.open_store(f"sqlite:///{folder / 'instance' / 'feedsvc.sqlite3'}")
        store.upsert_items([common.seed_record(i) for i in range(items)])
        store.engine.dispose()
        out["render_limited"] = _case("render limit (default)", {}, folder, tools, seconds, workers)
        out["no_render_limit"] = _case("no render limit", {"FEEDSVC_FEED_RENDER_RATE_PER_MINUTE": "0"}, folder,
                                       tools, seconds, workers)
        p50 = out["render_limited"]["flooded"].get("p50_ms")
        out["target_p50_ms"] = 5.0
        out["target_met"] = p50 is not None and p50 <= 5.0
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    result = run(args.seconds)
    print(f"target: a cached feed's p50 under the flood <= 5 ms: {'met' if result['target_met'] else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
