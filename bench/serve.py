"""Group 1 (serve) and the web half of group 5 (memory): two feeds from the
Procfile's `web:` process, against nginx serving the same bytes as static
files, with wrk on 127.0.0.1, all in one run: the demo's small feed (its 11
items, where the cost per request dominates) and a 50-item outlet feed with
bodies (where copying bytes does), each plain, gzipped and as a 304. nginx
writes no access log, as feedsvc writes none. The same server command also
serves a bare WSGI callable (bench/bare_wsgi.py) with the same bytes: the
ceiling for any Python app behind that server."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench import common, profiling


def procfile_web_line() -> str:
    for line in (common.REPO / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise RuntimeError("Procfile has no web: line")


def web_command(workers: int) -> tuple[str, int | None]:
    """The Procfile's web line with the worker count set to `workers`
    (returned as the count the Procfile itself gives)."""
    line = procfile_web_line()
    match = re.search(r"--workers[ =](\d+)", line)
    given = int(match.group(1)) if match else None
    if match and given != workers:
        line = line[:match.start()] + f"--workers {workers}" + line[match.end():]
    elif not match:
        server, _, rest = line.partition(" ")
        line = f"{server} --workers {workers} {rest}"
    return line, given


NGINX_CONF = """\
worker_processes {workers};
error_log {root}/error.log warn;
pid {root}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    types {{ application/atom+xml atom; }}
    default_type application/octet-stream;
    access_log off;  # feedsvc writes none either: a fair comparison
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    gzip_static on;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
    }}
}}
"""


def start_nginx(nginx: str, folder: Path, files: dict[str, tuple[bytes, bytes]], workers: int
                ) -> tuple[subprocess.Popen, int]:
    """nginx serving each name's body, and its gzip bytes for gzip_static."""
    port = common.free_port()
    # nginx's workers drop root for `nobody`: they must be able to read the files.
    folder.parent.chmod(0o755)
    (folder / "www").mkdir(parents=True)
    (folder / "tmp").mkdir()
    for name, (body, gzip_body) in files.items():
        (folder / "www" / name).write_bytes(body)
        (folder / "www" / f"{name}.gz").write_bytes(gzip_body)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workers=workers, root=folder, port=port), encoding="utf-8")
    proc = subprocess.Popen([nginx, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    common.wait_http(f"http://127.0.0.1:{port}/{next(iter(files))}", 20, proc)
    return proc, port


def _cpu_seconds(procs) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except Exception:  # noqa: BLE001 - a process gone between listing and reading
            pass
    return total


def _measured(label: str, url: str, procs, tools: dict, seconds: int, headers=None) -> dict:
    before = _cpu_seconds(procs)
    result = common.wrk(url, connections=32, seconds=seconds, threads=2, headers=headers, wrk_path=tools["wrk"])
    cpu = _cpu_seconds(procs) - before
    result["server_cpu_seconds"] = round(cpu, 2)
    if cpu > 0 and result.get("requests"):
        result["requests_per_cpu_second"] = round(result["requests"] / cpu, 1)
    print(f"  {label:<28} {result.get('rps', 0):>9.1f} req/s  p99 {result.get('p99_ms', 0):>8.2f} ms  "
          f"server CPU {cpu:5.1f} s  non-2xx/3xx {result['non_2xx_3xx']}  socket errors {result['errors']}",
          flush=True)
    return result


KINDS = {"200": None, "304": "If-None-Match", "gzip": {"Accept-Encoding": "gzip"}}
FEEDS = ("small", "large")


def _headers(kind: str, etag: str) -> dict | None:
    return {"If-None-Match": etag} if kind == "304" else KINDS[kind]


def _start_bare(command: str, folder: Path, feeds: dict) -> tuple[subprocess.Popen, int]:
    """The same server command serving bench.bare_wsgi instead of feedsvc."""
    target = command.rsplit(" ", 1)[1]
    bare_command = command[: -len(target)] + "'bench.bare_wsgi:create_app'"
    served = {}
    for name, feed in feeds.items():
        (folder / f"bare-{name}.atom").write_bytes(feed["body"])
        (folder / f"bare-{name}.atom.gz").write_bytes(feed["gzip_body"])
        served[f"/{name}.atom"] = [str(folder / f"bare-{name}.atom"), str(folder / f"bare-{name}.atom.gz"),
                                   feed["etag"]]
    port = common.free_port()
    env = common.venv_env({"PORT": str(port), "BENCH_BARE_FILES": json.dumps(served), "PYTHONPATH": str(common.REPO)})
    proc = subprocess.Popen(["sh", "-c", f"exec {bare_command}"], env=env, cwd=folder, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    common.wait_http(f"http://127.0.0.1:{port}/small.atom", 60, proc)
    return proc, port


def _fill(folder: Path, items: int, out: dict) -> Path:
    """400 seed-shaped items (the large feed: 50 of one outlet, with bodies)
    and the demo's snapshot refreshed once (the small feed: its 11 items)."""
    from feedsvc.app import create_app
    from feedsvc.snapshot import RECIPES_DIR, SnapshotServer

    instance = folder / "instance"
    recipes = common.write_recipes(folder / "recipes")
    store = common.open_store(f"sqlite:///{instance / 'feedsvc.sqlite3'}")
    started = time.perf_counter()
    store.upsert_items([common.seed_record(i) for i in range(items)])
    out["store_items"] = items
    out["fill_seconds"] = round(time.perf_counter() - started, 2)
    store.engine.dispose()
    with SnapshotServer() as snapshot:
        demo = (RECIPES_DIR / "iqilu-shandong.toml").read_text(encoding="utf-8")
        (recipes / "iqilu-shandong.toml").write_text(demo.replace("{snapshot}", snapshot.base_url), encoding="utf-8")
        app = create_app({"INSTANCE_PATH": str(instance), "RECIPES_PATH": str(recipes),
                          "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FETCH_HOST_DELAY_SECONDS": 0})
        [report] = app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
        assert report.status == "ok", report
        app.extensions["feedsvc"].refresher.close()
        app.extensions["feedsvc"].store.engine.dispose()
    return recipes


def _feed(url: str) -> dict:
    status, headers, body = common.http_get(url)
    assert status == 200, (status, body[:200])
    etag = headers["etag"]
    status_304, _, _ = common.http_get(url, {"If-None-Match": etag})
    status_gz, gz_headers, gz_body = common.http_get(url, {"Accept-Encoding": "gzip"})
    assert status_304 == 304 and status_gz == 200 and gz_headers.get("content-encoding") == "gzip"
    assert gzip.decompress(gz_body) == body
    return {"entries": body.count(b"<entry>") + body.count(b"<entry "), "bytes": len(body),
            "gzip_bytes": len(gz_body), "etag": etag, "gzip_etag": gz_headers["etag"], "body": body,
            "gzip_body": gz_body}


def _ratios(out: dict) -> None:
    """feedsvc / nginx and the bare callable / nginx per feed and kind, and
    feedsvc's share of that ceiling."""
    runs = out["runs"]
    for feed in FEEDS:
        for kind in KINDS:
            ours, theirs, bare = (runs[f"{who}_{feed}_{kind}"] for who in ("feedsvc", "nginx", "bare"))
            if ours.get("rps") and theirs.get("rps"):
                out[f"ratio_{feed}_{kind}"] = round(ours["rps"] / theirs["rps"], 3)
            if bare.get("rps") and theirs.get("rps"):
                out[f"bare_ratio_{feed}_{kind}"] = round(bare["rps"] / theirs["rps"], 3)
            if ours.get("rps") and bare.get("rps"):
                out[f"ceiling_share_{feed}_{kind}"] = round(ours["rps"] / bare["rps"], 3)
            if ours.get("requests_per_cpu_second") and theirs.get("requests_per_cpu_second"):
                out[f"cpu_ratio_{feed}_{kind}"] = round(ours["requests_per_cpu_second"]
                                                        / theirs["requests_per_cpu_second"], 3)
    # The names earlier runs reported: the 50-item feed.
    for kind in KINDS:
        if f"ratio_large_{kind}" in out:
            out[f"ratio_{kind}"] = out[f"ratio_large_{kind}"]


def run(seconds: int = 10, items: int = 400, profile: bool = False) -> dict:
    import psutil

    from feedsvc.core.outlets import slugify

    tools = common.ensure_tools("wrk", "nginx")
    workers = os.cpu_count() or 1
    folder = Path(tempfile.mkdtemp(prefix="feedsvc-bench-serve-"))
    out: dict = {"seconds": seconds, "connections": 32, "wrk_threads": 2, "nginx_access_log": "off"}
    web = nginx_proc = bare_proc = None
    try:
        instance = folder / "instance"
        recipes = _fill(folder, items, out)
        command, procfile_workers = web_command(workers)
        out["procfile_workers"] = procfile_workers
        out["workers"] = workers
        out["command"] = command.replace("$PORT", "<port>")
        port = common.free_port()
        env = common.venv_env({"PORT": str(port), "FEEDSVC_INSTANCE_PATH": str(instance),
                               "FEEDSVC_RECIPES_PATH": str(recipes)})
        web = subprocess.Popen(["sh", "-c", f"exec {command}"], env=env, cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=open(folder / "web.log", "wb"),
                               start_new_session=True)
        common.wait_http(f"http://127.0.0.1:{port}/healthz", 60, web)
        paths = {"small": "/feeds/source/iqilu-shandong.atom",
                 "large": f"/feeds/outlet/{slugify(common.FEED_OUTLET)}.atom"}
        feeds = {name: _feed(f"http://127.0.0.1:{port}{path}") for name, path in paths.items()}
        out["feeds"] = {name: {"path": paths[name], **{k: v for k, v in feed.items() if "body" not in k}}
                        for name, feed in feeds.items()}
        for name, feed in feeds.items():
            print(f"  {name} feed {paths[name]}: {feed['entries']} entries, {feed['bytes']} bytes "
                  f"({feed['gzip_bytes']} gzipped)", flush=True)

        master = psutil.Process(web.pid)
        web_workers = master.children()
        nginx_proc, nginx_port = start_nginx(tools["nginx"], folder / "nginx",
                                             {f"{n}.atom": (f["body"], f["gzip_body"]) for n, f in feeds.items()},
                                             workers)
        nginx_procs = psutil.Process(nginx_proc.pid).children()
        bare_proc, bare_port = _start_bare(command, folder, feeds)
        bare_workers = psutil.Process(bare_proc.pid).children()
        targets = {
            "feedsvc": (lambda name: f"http://127.0.0.1:{port}{paths[name]}", web_workers,
                        lambda name, kind: _headers(kind, feeds[name]["etag"])),
            "nginx": (lambda name: f"http://127.0.0.1:{nginx_port}/{name}.atom", nginx_procs, None),
            "bare": (lambda name: f"http://127.0.0.1:{bare_port}/{name}.atom", bare_workers,
                     lambda name, kind: _headers(kind, feeds[name]["etag"])),
        }
        nginx_tags = {name: common.http_get(targets["nginx"][0](name))[1]["etag"] for name in feeds}
        targets["nginx"] = (targets["nginx"][0], nginx_procs, lambda name, kind: _headers(kind, nginx_tags[name]))
        runs = out["runs"] = {}
        for name in FEEDS:
            for kind in KINDS:
                for who, (url_of, procs, headers_of) in targets.items():
                    runs[f"{who}_{name}_{kind}"] = _measured(f"{who} {name} {kind}", url_of(name), procs, tools,
                                                             seconds, headers_of(name, kind))
        _ratios(out)

        if profile:
            prof: dict = {}
            url = targets["feedsvc"][0]("small")
            with profiling.sampling(web_workers[0].pid, 5, prof, "feedsvc_small_200", gil=True):
                common.wrk(url, seconds=6, wrk_path=tools["wrk"])
            out["profile"] = prof
            for key, summary in prof.items():
                profiling.print_summary(key, summary)

        out["memory"] = {
            "web_master_peak_rss_mb": common.peak_rss_mb(master.pid),
            "web_worker_peak_rss_mb": [common.peak_rss_mb(w.pid) for w in web_workers],
            "nginx_worker_peak_rss_mb": [common.peak_rss_mb(p.pid) for p in nginx_procs],
        }
        print(f"  peak RSS: web worker(s) {out['memory']['web_worker_peak_rss_mb']} MB, "
              f"master {out['memory']['web_master_peak_rss_mb']} MB", flush=True)
    finally:
        for proc in (web, nginx_proc, bare_proc):
            if proc is not None:
                common.stop_group(proc)
        shutil.rmtree(folder, ignore_errors=True)
    return out
