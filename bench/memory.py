"""Group 5 (memory), worker side: the peak resident set of `feedsvc refresh`
(one-shot) and of `feedsvc scheduler` (the Procfile's worker) refreshing the
bundled snapshot site, served on loopback by feedsvc.snapshot.SnapshotServer.
The web side is measured during the serve run (bench/serve.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import common


def _env(instance: Path, base: str, extra: dict | None = None) -> dict:
    from feedsvc.snapshot import RECIPES_DIR

    return common.venv_env({
        "FEEDSVC_INSTANCE_PATH": str(instance),
        "FEEDSVC_RECIPES_PATH": str(RECIPES_DIR),
        "FEEDSVC_RECIPE_VARIABLES": json.dumps({"snapshot": base}),
        "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
        "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0",
        **(extra or {}),
    })


def _items(instance: Path) -> int:
    from feedsvc.store.store import Store

    store = Store.from_url(f"sqlite:///{instance / 'feedsvc.sqlite3'}")
    try:
        return store.count_items()
    finally:
        store.engine.dispose()


# `feedsvc refresh --json` run in a fresh interpreter that reports its own
# VmHWM at exit: the rusage of a child started from this (large) process
# would count the pages it shared with it before exec.
_REFRESH = """
import atexit, sys
def peak():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            sys.stderr.write('PEAK_RSS_KB ' + line.split()[1] + '\\n')
atexit.register(peak)
from feedsvc.cli.commands import main
sys.argv = ['feedsvc', 'refresh', '--json']
main()
"""


def refresh_once(folder: Path, base: str) -> dict:
    instance = folder / "refresh"
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _REFRESH], env=_env(instance, base), cwd=folder,
                          capture_output=True, text=True)
    peaks = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_RSS_KB ")]
    reports = json.loads(done.stdout)
    return {"exit_code": done.returncode, "seconds": round(time.perf_counter() - began, 2),
            "peak_rss_mb": round(peaks[-1] / 1024, 1) if peaks else None,
            "reports": [{k: r[k] for k in ("source", "status", "new", "updated", "pages")} for r in reports],
            "items_stored": _items(instance)}


def scheduler(folder: Path, base: str, seconds: float = 8) -> dict:
    instance = folder / "scheduler"
    proc = subprocess.Popen([sys.executable, "-m", "feedsvc", "scheduler"],
                            env=_env(instance, base, {"FEEDSVC_SCHEDULER_TICK_SECONDS": "1"}), cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if proc.poll() is not None:
                raise RuntimeError(f"feedsvc scheduler exited with {proc.returncode}")
            try:
                stored = _items(instance)
            except Exception:  # noqa: BLE001 - the store may not exist yet
                stored = 0
            if stored:
                break
        time.sleep(max(0.0, seconds - 0.5))  # a few more ticks, nothing due
        peak = common.peak_rss_mb(proc.pid)
    finally:
        common.stop_group(proc)
    return {"peak_rss_mb": peak, "items_stored": stored, "tick_seconds": 1}


def run() -> dict:
    from feedsvc.snapshot import SnapshotServer

    folder = Path(tempfile.mkdtemp(prefix="feedsvc-bench-memory-"))
    try:
        with SnapshotServer() as site:
            once = refresh_once(folder, site.base_url)
            print(f"  feedsvc refresh: peak RSS {once['peak_rss_mb']} MB, {once['items_stored']} items stored, "
                  f"{once['seconds']} s, exit {once['exit_code']}", flush=True)
            loop = scheduler(folder, site.base_url)
            print(f"  feedsvc scheduler: peak RSS {loop['peak_rss_mb']} MB, {loop['items_stored']} items stored",
                  flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    footprint = import_footprint()
    heavy = sorted(footprint["steps"], key=lambda s: -s[1])[:3]
    print(f"  imports: {footprint['total_mb']} MB resident after importing feedsvc; largest: "
          + ", ".join(f"{name} +{mb} MB" for name, mb in heavy), flush=True)
    return {"refresh": once, "scheduler": loop, "import_footprint": footprint}


_FOOTPRINT = """
import importlib, json, sys
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
steps, last = [], rss()
for name in sys.argv[1:]:
    importlib.import_module(name)
    now = rss()
    steps.append([name, round(now - last, 1)])
    last = now
print(json.dumps({'baseline_mb': round(rss() - sum(s[1] for s in steps), 1), 'steps': steps, 'total_mb': round(last, 1)}))
"""
FOOTPRINT_MODULES = ("flask", "sqlalchemy", "lxml.html", "feedgen.feed", "feedparser", "nh3", "charset_normalizer",
                     "httpx", "pydantic", "apscheduler", "alembic", "pypinyin", "feedsvc.app", "feedsvc.cli.commands")


def import_footprint() -> dict:
    """Resident memory each import adds, in the order given, in a fresh
    interpreter: what a process costs before it does anything."""
    done = subprocess.run([sys.executable, "-c", _FOOTPRINT, *FOOTPRINT_MODULES], capture_output=True, text=True,
                          check=True, cwd=tempfile.gettempdir())
    return json.loads(done.stdout)
