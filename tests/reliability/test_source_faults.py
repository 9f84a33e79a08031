"""Every way a source can fail feedsvc, served for real on loopback by
faultserver.py, each refreshed by one scheduler pass in its own process
(probe.py) next to a healthy source, while the Procfile's web process
serves the same SQLite store.

For each fault: the source records a clear error and backs off (or, for
pages a browser would still show, is read as far as it makes sense); the
healthy source is refreshed in the same pass; items stored before are
untouched; no non-HTTP URL is opened and nothing off loopback is
connected to; the web process answers feed requests throughout; and the
refreshing process and the web workers stay under 300 MB of peak RSS."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from feedsvc.core.models import DETAIL_ARTICLE, ItemRecord, Timestamp
from feedsvc.store.schema import items
from feedsvc.store.store import Store

from tests.support import faultserver as fs
from tests.support.processes import feedsvc_env, peak_rss_mb, probe, web_process

pytestmark = pytest.mark.slow

INTERVAL = timedelta(minutes=10)
RSS_LIMIT_MB = 300
SEED_WORD = "种子"  # in every seeded title, so a feed query finds exactly them
NESTED_NODES = 200_000


@dataclass(frozen=True)
class Case:
    id: str
    # (secrets folder) -> the fault at /<id>, or {suffix: fault} for several paths
    fault: Callable[[Path], object]
    error: str | None = None  # error kind recorded; None: the source is read
    message: str = ""  # in the recorded error; for a read source, in its warnings
    kind: str = "feed"  # or "article_page"
    stored: dict[str, str] = field(default_factory=dict)  # URL -> part of its title, when read
    new: int | None = None  # items added, when read
    body: str = ""  # in the body of the first stored URL, when read
    delay: timedelta = INTERVAL  # earliest next attempt, from the refresh's start


def _page(slug: str, title: str, body: str, charset: str = "utf-8") -> str:
    return fs.article_html(slug, title, body, charset)


def _gbk_page() -> bytes:
    head = '<html><head><meta charset="gbk"><link rel="canonical" href="https://example.org/invalid-gbk.html">'
    return ((head + '</head><body><h1 class="article-title">标题').encode("gbk") + b"\x81\x20\xff\xfe"
            + '结束</h1><div class="article-main"><p>正文。</p></div></body></html>'.encode("gbk"))


def _utf8_feed() -> bytes:
    return (fs.rss([("坏字节@之后", "https://example.org/invalid-utf8")]).encode()
            .replace(b"@", b"\xff\xfe\xc0\xaf\x80\xe4\xb8"))


def _nested_page() -> str:
    return _page("nested", "层层嵌套", "<div>" * NESTED_NODES + "最深处" + "</div>" * NESTED_NODES)


def _xxe_feed(secrets: Path) -> str:
    target = secrets / "secret.txt"
    prolog = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{target}">]>\n'
    return fs.rss([("外部实体&xxe;", "https://example.org/xxe")], title="XXE &xxe;", prolog=prolog)


def _laughs_feed() -> str:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    return fs.rss([("笑&lol9;", "https://example.org/laughs")], prolog=f"<!DOCTYPE rss [{entities}]>\n")


_MALFORMED = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>坏</title>'
              '<item><title>一 & 二 <b>未闭合</title><link>https://example.org/malformed</link></item>'
              '<item><title>第二条</item></channel>')
_FULL_HTML = _page("truncated-html", "截断的页面", "<p>第一段完整。</p><p>第二段写到一半就断了。</p>")
_TRUNCATED_HTML = _FULL_HTML[:_FULL_HTML.index("写到") + 2]  # no closing tag at all


def _status(code: int, **headers: str):
    return lambda _secrets: fs.status(code, headers)


CASES = [
    *[Case(f"http-{code}", _status(code), "http_status", f"HTTP {code}") for code in (500, 502, 503, 404, 410)],
    Case("http-429-retry-after", _status(429, **{"Retry-After": "3600"}), "http_status", "retry after 3600 s",
         delay=timedelta(hours=1)),
    Case("connection-reset", lambda _: fs.reset, "connect", "reset by peer"),
    Case("never-answers", lambda _: fs.never_answer, "timeout", "no complete response within 2 s"),
    Case("drip-body", lambda _: fs.drip_body, "timeout", "no complete response within 2 s"),
    Case("drip-headers", lambda _: fs.drip_headers, "timeout", "no complete response within 2 s"),
    Case("body-50mib-declared", lambda _: fs.huge(declared=True), "too_large", "body of 52428800 bytes"),
    Case("body-50mib-streamed", lambda _: fs.huge(declared=False), "too_large", "over the 10485760-byte limit"),
    Case("gzip-bomb", lambda _: fs.bomb("gzip"), "too_large", "over the 10485760-byte limit"),
    Case("gzip-in-gzip-bomb", lambda _: fs.bomb("gzip, gzip"), "too_large", "over the 10485760-byte limit"),
    Case("brotli-bomb", lambda _: fs.bomb("br"), "too_large", "over the 10485760-byte limit"),
    Case("endless-chunked", lambda _: fs.endless_chunks, "too_large", "over the 10485760-byte limit"),
    Case("truncated-transfer", lambda _: fs.truncated_transfer, "connect", "without sending complete message body"),
    Case("redirect-loop", lambda _: {"": fs.redirect("/redirect-loop?again"), "?again": fs.redirect("/redirect-loop")},
         "refused", "more than 5 redirects"),
    Case("redirect-to-private", lambda _: fs.redirect("http://10.0.0.1/feed.xml"), "address_refused",
         "10.0.0.1, a private address"),
    Case("redirect-to-file", lambda secrets: fs.redirect(f"file://{secrets / 'secret.txt'}"), "refused",
         "unsupported protocol"),
    Case("body-is-a-local-path", lambda secrets: fs.body(str(secrets / "secret-feed.xml")), "parse",
         "not a usable feed"),
    Case("invalid-gbk", lambda _: fs.body(_gbk_page(), "text/html; charset=gbk"), kind="article_page",
         stored={"https://example.org/invalid-gbk.html": "标题\ufffd"}, new=1),
    Case("invalid-utf8", lambda _: fs.body(_utf8_feed()), message="bytes invalid in utf-8 were replaced",
         stored={"https://example.org/invalid-utf8": "坏字节\ufffd"}, new=1),
    Case("truncated-html", lambda _: fs.body(_TRUNCATED_HTML, "text/html; charset=utf-8"), kind="article_page",
         stored={"https://example.org/truncated-html.html": "截断的页面"}, new=1, body="第一段完整。"),
    Case("nested-200k-nodes", lambda _: fs.body(_nested_page(), "text/html; charset=utf-8"), kind="article_page",
         stored={"https://example.org/nested.html": "层层嵌套"}, new=1, body="<div><div><div>"),
    Case("malformed-xml", lambda _: fs.body(_MALFORMED), message="feed is malformed but was read",
         stored={"https://example.org/malformed": "一 & 二"}, new=1),
    Case("xxe-file-entity", lambda secrets: fs.body(_xxe_feed(secrets)), message="malformed",
         stored={"https://example.org/xxe": "外部实体"}, new=1),
    Case("billion-laughs", lambda _: fs.body(_laughs_feed()), message="malformed",
         stored={"https://example.org/laughs": "笑"}, new=1),
    Case("feed-100k-entries", lambda _: fs.body(fs.feed_of_entries(100_000)),
         message="feed has 100000 entries; only the first 1000 were read",
         stored={"https://example.org/many/0": "条目0", "https://example.org/many/999": "条目999"}, new=1000),
]


def _recipe(case: Case, url: str) -> str:
    extra = fs.ARTICLE_SELECTORS if case.kind == "article_page" else ""
    return (f'id = "{case.id}"\nname = "{case.id}"\nkind = "{case.kind}"\nstart_urls = ["{url}"]\n'
            f"refresh_interval_minutes = {INTERVAL.total_seconds() / 60:g}\n{extra}")


def _healthy_recipe(case: Case, url: str) -> str:
    return (f'id = "{case.id}-ok"\nname = "{case.id} ok"\nkind = "feed"\nstart_urls = ["{url}"]\n'
            f"refresh_interval_minutes = {INTERVAL.total_seconds() / 60:g}\n")


@dataclass
class Bench:
    tmp: Path
    server: fs.FaultServer
    database_url: str
    store: Store
    secrets: Path  # secret.txt and secret-feed.xml (a feed), both holding `token`
    token: str
    web: object

    def database_files(self) -> bytes:
        path = Path(self.database_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    secrets, token = tmp / "secrets", f"feedsvc-secret-{uuid.uuid4().hex}"
    secrets.mkdir()
    (secrets / "secret.txt").write_text(token, encoding="utf-8")
    (secrets / "secret-feed.xml").write_text(fs.rss([(token, "https://example.org/leaked")]), encoding="utf-8")
    everything = tmp / "all-recipes"
    everything.mkdir()
    with fs.FaultServer() as server:
        for case in CASES:
            made = case.fault(secrets)
            for suffix, fault in (made if isinstance(made, dict) else {"": made}).items():
                server.routes[f"/{case.id}{suffix}"] = fault
            server.routes[f"/healthy/{case.id}.xml"] = fs.body(fs.rss(
                [(f"{case.id} 健康 {n}", f"https://example.org/ok/{case.id}/{n}") for n in (1, 2)]))
            folder = tmp / "recipes" / case.id
            folder.mkdir(parents=True)
            for target in (folder, everything):
                (target / f"{case.id}.toml").write_text(_recipe(case, server.url(f"/{case.id}")), encoding="utf-8")
                (target / f"{case.id}-ok.toml").write_text(
                    _healthy_recipe(case, server.url(f"/healthy/{case.id}.xml")), encoding="utf-8")
        database_url = f"sqlite:///{tmp / 'store.sqlite3'}"
        store = Store.from_url(database_url)
        store.upgrade_schema()
        with web_process(feedsvc_env(tmp, database_url, everything)) as web:
            yield Bench(tmp, server, database_url, store, secrets, token, web)
        store.engine.dispose()


def _age_access_times(folder: Path) -> dict[Path, float]:
    """Set each file's access time before its modification time, so that
    under relatime (or strictatime) any read, by Python or by a C library,
    moves it; returns the times set."""
    times = {}
    for path in folder.iterdir():
        mtime = path.stat().st_mtime
        os.utime(path, (mtime - 3600, mtime))
        times[path] = path.stat().st_atime
    return times


def _seed(store: Store, source_id: str) -> list[str]:
    published = Timestamp(datetime(2020, 1, 1, tzinfo=timezone.utc))
    records = [ItemRecord(url=f"https://example.org/seed/{source_id}/{n}", source_id=source_id,
                          title=f"{SEED_WORD} {source_id} {n}", detail=DETAIL_ARTICLE, summary=f"摘要 {n}",
                          body_html=f"<p>正文 {n}</p>", outlet="种子媒体", published=published) for n in range(3)]
    store.upsert_items(records)
    return [r.title for r in records]


def _rows(store: Store, source_id: str) -> list[dict]:
    with store.engine.connect() as conn:
        query = select(items).where(items.c.source_id == source_id).order_by(items.c.id)
        return [dict(row) for row in conn.execute(query).mappings()]


class FeedPoller:
    """GETs a feed URL of the web process over and over from a thread."""

    def __init__(self, url: str):
        self.url, self.answers = url, []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self.stopping.is_set():
                started = time.monotonic()
                try:
                    response = client.get(self.url)
                    self.answers.append((response.status_code, response.text, time.monotonic() - started))
                except httpx.HTTPError as exc:
                    self.answers.append((0, repr(exc), time.monotonic() - started))
                self.stopping.wait(0.05)

    def __enter__(self) -> FeedPoller:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(10)


def _probe_result(output: str) -> dict:
    lines = [line for line in output.splitlines() if line.startswith("probe_result ")]
    assert lines, output
    return json.loads(lines[-1].removeprefix("probe_result "))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_faulty_source_is_contained(case: Case, bench: Bench):
    store, source = bench.store, case.id
    seeded = _seed(store, source)
    before = _rows(store, source)
    atimes = _age_access_times(bench.secrets)
    env = feedsvc_env(bench.tmp, bench.database_url, bench.tmp / "recipes" / source,
                      LOG_LEVEL="WARNING")
    env["PROBE_WATCH_PATH"] = str(bench.secrets)
    started = datetime.now(timezone.utc)
    with FeedPoller(f"{bench.web.base_url}/feeds/source/{source}.atom?q={SEED_WORD}") as poller:
        done = probe(env)
    web_rss = peak_rss_mb(bench.web.proc.pid)
    result = _probe_result(done.output)
    refresh_rss = max(done.peak_rss_mb, result["peak_rss_mb"])
    reports = {r["source"]: r for r in result["reports"]}
    report, healthy = reports.get(source), reports.get(f"{source}-ok")
    latencies = sorted(a[2] for a in poller.answers)
    print(f"\nfault={source} status={report and report['status']} error_kind={report and report['error_kind']} "
          f"seconds={done.seconds:.1f} refresh_peak_rss_mb={refresh_rss:.0f} web_peak_rss_mb={web_rss:.0f} "
          f"feed_requests={len(poller.answers)} feed_p99_ms={1000 * latencies[int(len(latencies) * .99)]:.0f} "
          f"error={report and report['error']} warnings={report and report['warnings']}")

    # The refreshing process ended by itself, without a traceback, within bounds.
    assert done.returncode == 0 and not done.timed_out and "Traceback" not in done.output, done.output
    assert refresh_rss < RSS_LIMIT_MB and web_rss < RSS_LIMIT_MB, (refresh_rss, web_rss)
    # Nothing off loopback was connected to, no file: URL or other non-HTTP
    # URL was opened, and no secret file was read, nor its contents stored.
    assert result["audit"] == [], result["audit"]
    assert {p: p.stat().st_atime for p in atimes} == atimes
    assert bench.token.encode() not in bench.database_files()
    # The healthy source next to it was refreshed in the same pass.
    assert healthy and healthy["status"] == "ok" and healthy["new"] == 2, reports
    assert store.source_state(f"{source}-ok").last_success_at >= started.replace(microsecond=0)
    # Items stored before are untouched.
    assert [r for r in _rows(store, source) if r["id"] in {b["id"] for b in before}] == before
    # The web process answered every feed request, with the stored items.
    assert poller.answers and all(status == 200 for status, _, _ in poller.answers), poller.answers[:3]
    assert all(all(t in text for t in seeded) for _, text, _ in poller.answers)

    state = store.source_state(source)
    if case.error:
        assert report["status"] == "error" and report["error_kind"] == case.error, report
        assert state.last_error_kind == case.error and case.message in state.last_error, state.last_error
        assert state.consecutive_failures == 1 and state.last_success_at is None
        # Backed off: not asked again before its interval (or Retry-After) is up.
        assert started + case.delay - timedelta(seconds=1) <= state.next_run_at <= started + case.delay + \
            timedelta(minutes=1), (started, state.next_run_at)
        assert len(_rows(store, source)) == len(before)
    else:
        assert report["status"] == "ok" and report["new"] == case.new, report
        assert case.message in " ".join(report["warnings"]), report["warnings"]
        assert state.last_error is None and state.next_run_at >= started + INTERVAL - timedelta(seconds=1)
        rows = {r["url"]: r for r in _rows(store, source)}
        for url, title in case.stored.items():
            assert url in rows and title in rows[url]["title"], (url, rows.get(url))
        assert case.body in (rows[next(iter(case.stored))]["body_html"] or ""), rows[next(iter(case.stored))]
        assert len(rows) == len(before) + case.new
