"""Group 1 (serve) and the web half of group 5 (memory): a 50-item outlet
feed from the Procfile's `web:` process, against nginx serving the same
bytes as a static file, with wrk on 127.0.0.1; and the same server command
serving a bare WSGI callable (bench/bare_wsgi.py), the ceiling for any
Python app behind that server."""

from __future__ import annotations

import gzip
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
    access_log {root}/access.log;
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


def start_nginx(nginx: str, folder: Path, body: bytes, gzip_body: bytes, workers: int) -> tuple[subprocess.Popen, int]:
    port = common.free_port()
    # nginx's workers drop root for `nobody`: they must be able to read the file.
    folder.parent.chmod(0o755)
    (folder / "www").mkdir(parents=True)
    (folder / "tmp").mkdir()
    (folder / "www" / "feed.atom").write_bytes(body)
    (folder / "www" / "feed.atom.gz").write_bytes(gzip_body)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workers=workers, root=folder, port=port), encoding="utf-8")
    proc = subprocess.Popen([nginx, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    common.wait_http(f"http://127.0.0.1:{port}/feed.atom", 20, proc)
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


def _bare(command: str, folder: Path, body: bytes, etag: str, tools: dict, seconds: int) -> dict:
    """The same server command serving bench.bare_wsgi instead of feedsvc."""
    import psutil

    target = command.rsplit(" ", 1)[1]
    bare_command = command[: -len(target)] + "'bench.bare_wsgi:create_app'"
    (folder / "bare.atom").write_bytes(body)
    port = common.free_port()
    env = common.venv_env({"PORT": str(port), "BENCH_BARE_BODY": str(folder / "bare.atom"), "BENCH_BARE_ETAG": etag,
                           "PYTHONPATH": str(common.REPO)})
    proc = subprocess.Popen(["sh", "-c", f"exec {bare_command}"], env=env, cwd=folder, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        common.wait_http(url, 60, proc)
        workers = psutil.Process(proc.pid).children()
        return {"bare_200": _measured("bare WSGI 200 (ceiling)", url, workers, tools, seconds),
                "bare_304": _measured("bare WSGI 304 (ceiling)", url, workers, tools, seconds, {"If-None-Match": etag})}
    finally:
        common.stop_group(proc)


def run(seconds: int = 10, items: int = 400, profile: bool = False) -> dict:
    import psutil

    tools = common.ensure_tools("wrk", "nginx")
    workers = os.cpu_count() or 1
    folder = Path(tempfile.mkdtemp(prefix="feedsvc-bench-serve-"))
    out: dict = {"seconds": seconds, "connections": 32, "wrk_threads": 2}
    web = nginx_proc = None
    try:
        instance = folder / "instance"
        recipes = common.write_recipes(folder / "recipes")
        store = common.open_store(f"sqlite:///{instance / 'feedsvc.sqlite3'}")
        started = time.perf_counter()
        store.upsert_items([common.seed_record(i) for i in range(items)])
        out["store_items"] = items
        out["fill_seconds"] = round(time.perf_counter() - started, 2)
        store.engine.dispose()

        command, procfile_workers = web_command(workers)
        out["procfile_workers"] = procfile_workers
        out["workers"] = workers
        out["command"] = command.replace("$PORT", "<port>")
        port = common.free_port()
        env = common.venv_env({"PORT": str(port), "FEEDSVC_INSTANCE_PATH": str(instance),
                               "FEEDSVC_RECIPES_PATH": str(recipes)})
        # The Procfile's access log goes to stdout; here it is discarded.
        web = subprocess.Popen(["sh", "-c", f"exec {command}"], env=env, cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=open(folder / "web.log", "wb"),
                               start_new_session=True)
        common.wait_http(f"http://127.0.0.1:{port}/healthz", 60, web)

        from feedsvc.outlets import slugify

        path = f"/feeds/outlet/{slugify(common.FEED_OUTLET)}.atom"
        url = f"http://127.0.0.1:{port}{path}"
        status, headers, body = common.http_get(url)
        assert status == 200, (status, body[:200])
        entries = body.count(b"<entry>") + body.count(b"<entry ")
        etag = headers["etag"]
        status_304, _, _ = common.http_get(url, {"If-None-Match": etag})
        status_gz, gz_headers, gz_body = common.http_get(url, {"Accept-Encoding": "gzip"})
        assert status_304 == 304 and status_gz == 200 and gz_headers.get("content-encoding") == "gzip"
        assert gzip.decompress(gz_body) == body
        out["feed"] = {"path": path, "entries": entries, "bytes": len(body), "gzip_bytes": len(gz_body),
                       "etag": etag}
        print(f"  feed {path}: {entries} entries, {len(body)} bytes ({len(gz_body)} gzipped)", flush=True)

        master = psutil.Process(web.pid)
        web_workers = master.children()
        nginx_proc, nginx_port = start_nginx(tools["nginx"], folder / "nginx", body, gz_body, workers)
        nginx_url = f"http://127.0.0.1:{nginx_port}/feed.atom"
        status, n_headers, n_body = common.http_get(nginx_url)
        assert status == 200 and n_body == body, (status, len(n_body), n_headers)
        n_etag = n_headers["etag"]
        assert common.http_get(nginx_url, {"If-None-Match": n_etag})[0] == 304
        nginx_procs = psutil.Process(nginx_proc.pid).children()

        runs = out["runs"] = {}
        runs["feedsvc_200"] = _measured("feedsvc 200", url, web_workers, tools, seconds)
        runs["nginx_200"] = _measured("nginx 200", nginx_url, nginx_procs, tools, seconds)
        runs["feedsvc_304"] = _measured("feedsvc 304 (If-None-Match)", url, web_workers, tools, seconds,
                                        {"If-None-Match": etag})
        runs["nginx_304"] = _measured("nginx 304 (If-None-Match)", nginx_url, nginx_procs, tools, seconds,
                                      {"If-None-Match": n_etag})
        runs["feedsvc_gzip"] = _measured("feedsvc gzip", url, web_workers, tools, seconds,
                                         {"Accept-Encoding": "gzip"})
        runs["nginx_gzip"] = _measured("nginx gzip (gzip_static)", nginx_url, nginx_procs, tools, seconds,
                                       {"Accept-Encoding": "gzip"})
        bare = _bare(command, folder, body, etag, tools, seconds)
        runs.update(bare)
        for kind in ("200", "304"):
            if runs[f"bare_{kind}"].get("rps") and runs[f"nginx_{kind}"].get("rps"):
                out[f"bare_ratio_{kind}"] = round(runs[f"bare_{kind}"]["rps"] / runs[f"nginx_{kind}"]["rps"], 3)
        for kind in ("200", "304", "gzip"):
            ours, theirs = runs[f"feedsvc_{kind}"], runs[f"nginx_{kind}"]
            if ours.get("rps") and theirs.get("rps"):
                out[f"ratio_{kind}"] = round(ours["rps"] / theirs["rps"], 3)
            if ours.get("requests_per_cpu_second") and theirs.get("requests_per_cpu_second"):
                out[f"cpu_ratio_{kind}"] = round(ours["requests_per_cpu_second"]
                                                 / theirs["requests_per_cpu_second"], 3)

        if profile:
            prof: dict = {}
            with profiling.sampling(web_workers[0].pid, 5, prof, "feedsvc_200", gil=True):
                common.wrk(url, seconds=6, wrk_path=tools["wrk"])
            with profiling.sampling(web_workers[0].pid, 5, prof, "feedsvc_304", gil=True):
                common.wrk(url, seconds=6, headers={"If-None-Match": etag}, wrk_path=tools["wrk"])
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
        for proc in (web, nginx_proc):
            if proc is not None:
                common.stop_group(proc)
        shutil.rmtree(folder, ignore_errors=True)
    return out
