"""Group `suite`: the developer's inner loop, and the start-up costs it
pays many times over.

- `pytest -m "not slow" -n auto`, timed whole (wall and CPU seconds of
  pytest and its workers; the PostgreSQL server's share is not counted).
- One worker's start: collecting the suite with the plugins the project
  names (pyproject's addopts) against pytest's default, which autoloads
  every installed plugin and rewrites the asserts of each module of their
  packages. Same command otherwise, alternated, median of the runs.
- Opening a service on a store already at the newest revision (what every
  CLI verb, worker and test app does): the migration check against the
  full Alembic upgrade it replaced, and one fetch client against one with
  its own TLS context (the two contexts each client built before)."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import common

ROOT = Path(__file__).resolve().parents[1]
NAMED = []  # pyproject's addopts as they are
AUTOLOADED = ["-o", "addopts=-ra --strict-markers"]  # pytest's default plugin loading


def _pytest(args: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds (this child and its own children) of one pytest run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "CI": ""})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, (done.stdout.strip().splitlines() or [""])[-1]


def _collection(runs: int) -> dict:
    times: dict[str, list[float]] = {"named": [], "autoloaded": []}
    for _ in range(runs):
        for name, extra in (("named", NAMED), ("autoloaded", AUTOLOADED)):
            times[name].append(_pytest([*extra, "--collect-only", "-m", "not slow"])[1])
    named, autoloaded = (round(statistics.median(times[k]), 2) for k in ("named", "autoloaded"))
    return {"named_cpu_seconds": named, "autoloaded_cpu_seconds": autoloaded,
            "ratio": round(named / autoloaded, 2), "runs": runs}


def _median_ms(fn, runs: int) -> float:
    return common.median_ms(fn, runs, clock=time.process_time)["median_ms"]


def _opening(runs: int) -> dict:
    from alembic import command
    from alembic.config import Config

    from feedsvc.fetch.transfer import tls_context
    from feedsvc.store import migrate
    from feedsvc.store.store import Store

    folder = Path(tempfile.mkdtemp(prefix="feedsvc-bench-"))
    store = Store.from_url(f"sqlite:///{folder / 'store.sqlite3'}")
    store.upgrade_schema()

    def full_upgrade():
        with store.engine.connect().execution_options(writer=True) as conn, conn.begin():
            config = Config()
            config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    check, full = _median_ms(store.upgrade_schema, runs), _median_ms(full_upgrade, runs)
    store.engine.dispose()
    shared, own = _median_ms(tls_context, runs), _median_ms(httpx.create_ssl_context, runs)
    return {"store_at_head_ms": check, "alembic_upgrade_ms": full, "upgrade_ratio": round(check / full, 3),
            "shared_tls_context_ms": shared, "own_tls_context_ms": own,
            "client_contexts_saved_ms": round(2 * own - shared, 2), "runs": runs}


def run(collect_runs: int = 3, open_runs: int = 30) -> dict:
    print("   not-slow suite …", flush=True)
    wall, cpu, summary = _pytest(["-n", "auto", "-m", "not slow"])
    print(f"   {summary}; collection ×{collect_runs} each way …", flush=True)
    return {"not_slow": {"wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "summary": summary,
                         "workers": os.cpu_count()},
            "collection": _collection(collect_runs), "opening": _opening(open_runs)}
