"""Shared pieces of the benchmark suite: seed-shaped items, a bulk loader
that fills the real schema fast, process and port helpers, wrk, and the
machine description. Nothing here changes feedsvc; it only drives it."""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from feedsvc.core.models import DETAIL_ARTICLE, ItemRecord, Timestamp

REPO = Path(__file__).resolve().parents[1]
SOURCE_ID = "bench"
# Outlets of the snapshot site and a few more, so an outlet feed is one of several.
OUTLETS = ("大众日报", "胶东在线", "鲁网", "齐鲁网", "新华社", "人民网", "中国新闻网", "山东广播电视台")
FEED_OUTLET = "胶东在线"  # the outlet whose feed is served and queried
AUTHORS = ("刘一颖", "杨凡", "怀初侠", "王浩、李娜", "张晓明", "陈静", "赵磊", "孙悦")
EDITORS = ("杨凡", "怀初侠")
# One keyword in about 1 % of the generated items, one in none of them.
COMMON_KEYWORD = "乡村振兴"
COMMON_KEYWORD_EVERY = 97
ABSENT_KEYWORD = "量子引力"
SEED_PAGE = "shandong/yaowen/2019/1023/4371235.shtml"
BASE_TIME = datetime(2026, 11, 1, tzinfo=timezone.utc)
RECIPE_TOML = f"""\
id = "{SOURCE_ID}"
name = "基准 · 测试源"
kind = "feed"
start_urls = ["http://127.0.0.1:9/feed.xml"]
refresh_interval_minutes = 30
language = "zh-CN"
"""


# ------------------------------------------------------------- seed-shaped items

@lru_cache(maxsize=1)
def seed_text() -> tuple[tuple[str, ...], str]:
    """Titles and running text of the bundled seed article (and its related
    list), the model every generated item is shaped after."""
    from feedsvc.parsers import parse_article
    from feedsvc.sources.recipes import load_recipes
    from feedsvc.snapshot import RECIPES_DIR, SITE_DIR

    recipe = load_recipes(RECIPES_DIR, {"snapshot": "http://127.0.0.1:1"})[0]
    article = parse_article((SITE_DIR / SEED_PAGE).read_bytes(), f"http://127.0.0.1:1/{SEED_PAGE}",
                            recipe.article, recipe.related, zone=recipe.zone)
    titles = (article.title, *(e.title for e in article.related))
    text = "".join((article.body_text or "").split())
    return titles, text


def _slice(text: str, start: int, size: int) -> str:
    start %= len(text)
    out = text[start:start + size]
    while len(out) < size:
        out += text[: size - len(out)]
    return out


@dataclass(frozen=True)
class Shape:
    title: str
    summary: str
    body_html: str
    author: str
    image: str | None


_SHAPES: dict[int, Shape] = {}
SHAPE_POOL = 997  # distinct texts; item i uses shape i % SHAPE_POOL


def shape(i: int) -> Shape:
    """Item i's texts: a title, a ~300-character summary and a ~2,000-character
    body in paragraphs, cut from the seed article at an offset."""
    k = i % SHAPE_POOL
    cached = _SHAPES.get(k)
    if cached is not None:
        return cached
    titles, text = seed_text()
    title = f"{titles[k % len(titles)]}（{k}）"
    summary = _slice(text, k * 131, 300)
    if k % COMMON_KEYWORD_EVERY == 0:
        summary = COMMON_KEYWORD + summary[len(COMMON_KEYWORD):]
    paragraphs = [_slice(text, k * 173 + p * 211, 200) for p in range(10)]
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    image = f"https://img.example.cn/bench/{k}.jpg" if k % 4 == 0 else None
    _SHAPES[k] = cached = Shape(title, summary, body, AUTHORS[k % len(AUTHORS)], image)
    return cached


def item_url(i: int) -> str:
    return f"https://news.example.cn/bench/{i // 1000}/{i}.shtml"


def outlet_of(i: int) -> str:
    return OUTLETS[i % len(OUTLETS)]


def published_of(i: int) -> datetime:
    return BASE_TIME - timedelta(minutes=i)


def seed_record(i: int) -> ItemRecord:
    """Item i as a page would hand it to Store.upsert_items."""
    s = shape(i)
    return ItemRecord(url=item_url(i), source_id=SOURCE_ID, title=s.title, detail=DETAIL_ARTICLE,
                      summary=s.summary, body_html=s.body_html, author=s.author, outlet=outlet_of(i),
                      editors=EDITORS, published=Timestamp(published_of(i), "second"), image=s.image)


def bench_recipe():
    from feedsvc.sources.recipes import parse_recipe

    return parse_recipe(RECIPE_TOML, "bench.toml")


def write_recipes(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench.toml").write_text(RECIPE_TOML, encoding="utf-8")
    return folder


def open_store(url: str):
    """A store with the real schema (migrations) and the bench source row."""
    from feedsvc.store.store import Store

    store = Store.from_url(url)
    store.upgrade_schema()
    store.sync_sources([bench_recipe()])
    return store


def bulk_rows(start: int, stop: int, now: datetime) -> list[dict]:
    """Rows exactly as Store._insert writes them, derived columns included."""
    from feedsvc.store.search import author_keys, search_text
    from feedsvc.store.item_merge import mint_guid

    rows = []
    derived: dict[int, tuple[str, str | None]] = {}
    for i in range(start, stop):
        s = shape(i)
        k = i % SHAPE_POOL
        if k not in derived:
            derived[k] = (search_text(s.title, s.summary), author_keys(s.author))
        search, keys = derived[k]
        url = item_url(i)
        published = published_of(i)
        rows.append({
            "guid": mint_guid(url), "url": url, "source_id": SOURCE_ID, "title": s.title, "summary": s.summary,
            "body_html": s.body_html, "author": s.author, "outlet": outlet_of(i), "editors": list(EDITORS),
            "image_url": s.image, "search_text": search, "author_keys": keys, "published_at": published,
            "published_precision": "second", "detail": DETAIL_ARTICLE, "first_seen_at": now, "updated_at": now,
            "sort_at": published,
        })
    return rows


def bulk_fill(store, count: int, start: int = 0, batch: int = 5000, progress=None, stats: bool = True) -> float:
    """Insert items start..start+count with executemany in batches (one
    transaction per 50,000 rows), then count the outlets again (the rows
    went around the store's upsert, which keeps them) unless `stats` is
    False, and bump the store version as a write through the store would.
    Returns the seconds taken."""
    from sqlalchemy import insert, update

    from feedsvc.store import outlet_stats
    from feedsvc.store.schema import items, store_state

    began = time.perf_counter()
    now = datetime.now(timezone.utc)
    statement = insert(items)
    done = 0
    while done < count:
        with store.engine.connect().execution_options(writer=True) as conn, conn.begin():
            for _ in range(10):
                if done >= count:
                    break
                n = min(batch, count - done)
                conn.execute(statement, bulk_rows(start + done, start + done + n, now))
                done += n
        if progress:
            progress(done)
    with store.engine.connect().execution_options(writer=True) as conn, conn.begin():
        if stats:
            outlet_stats.rebuild(conn)
        changed = conn.execute(update(store_state).where(store_state.c.key == "version")
                               .values(value=store_state.c.value + 1)).rowcount
        if not changed:
            conn.execute(insert(store_state).values(key="version", value=1))
    return time.perf_counter() - began


# ------------------------------------------------------------------- timing

def median_ms(fn, runs: int, warmup: int = 1, clock=time.perf_counter) -> dict:
    """Milliseconds `fn` takes by `clock` (wall time, or time.process_time
    for this process's CPU time)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        started = clock()
        fn()
        times.append((clock() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 3), "min_ms": round(min(times), 3),
            "max_ms": round(max(times), 3), "runs": runs}


# -------------------------------------------------------------- processes

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def venv_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment with this interpreter's bin folder first on PATH, so
    the web server and `feedsvc` are the ones installed beside it."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def stop_group(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM the process group this bench started, then SIGKILL if needed."""
    import signal

    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def peak_rss_mb(pid: int) -> float | None:
    """The kernel's high-water mark of the process's resident set (VmHWM)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


# ---------------------------------------------------------------- tools

def ensure_tools(*binaries: str, packages: tuple[str, ...] = ("wrk", "nginx-light")) -> dict[str, str]:
    """Paths of the binaries, installing the Debian packages when one is missing."""
    def found() -> dict[str, str | None]:
        extra = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
        return {b: shutil.which(b, path=extra) for b in binaries}

    paths = found()
    if all(paths.values()):
        return paths  # type: ignore[return-value]
    if not shutil.which("apt-get"):
        raise RuntimeError(f"missing {', '.join(b for b, p in paths.items() if not p)} and no apt-get to install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    print(f"installing {' '.join(packages)} with apt-get", flush=True)
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, stdout=subprocess.DEVNULL, check=True)
        subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=True)
    paths = found()
    missing = [b for b, p in paths.items() if not p]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} still missing after installing {' '.join(packages)}")
    return paths  # type: ignore[return-value]


def wrk(url: str, *, connections: int = 32, seconds: int = 10, threads: int = 2,
        headers: dict[str, str] | None = None, wrk_path: str = "wrk") -> dict:
    """One wrk run; requests/s, latency percentiles and non-2xx/3xx count."""
    args = [wrk_path, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def _duration_ms(text: str) -> float:
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
    for unit in ("us", "ms", "s", "m"):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def parse_wrk(out: str) -> dict:
    result: dict = {"errors": 0, "non_2xx_3xx": 0}
    for line in out.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "Requests/sec:":
            result["rps"] = round(float(parts[1]), 1)
        elif parts[0] in ("50%", "75%", "90%", "99%"):
            result[f"p{parts[0][:-1]}_ms"] = round(_duration_ms(parts[1]), 3)
        elif parts[0] == "Latency" and len(parts) >= 2 and parts[1] != "Distribution":
            result["avg_ms"] = round(_duration_ms(parts[1]), 3)
        elif "requests in" in line:
            result["requests"] = int(parts[0])
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            result["non_2xx_3xx"] = int(parts[-1])
        elif line.strip().startswith("Socket errors:"):
            result["errors"] = sum(int(p.rstrip(",")) for p in parts if p.rstrip(",").isdigit())
        elif parts[0] == "Transfer/sec:":
            result["transfer_per_s"] = parts[1]
    return result


# ---------------------------------------------------------------- machine

def machine() -> dict:
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "memory_gib": memory_gib,
            "python": platform.python_version(), "platform": f"{platform.system()} {platform.machine()}, glibc {platform.libc_ver()[1]}",
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def dump_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
