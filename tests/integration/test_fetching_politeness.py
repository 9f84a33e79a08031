"""Polite and bounded fetching against a real loopback server: conditional
GET, compression, Retry-After, backoff and force, redirects, robots.txt,
the per-host delay and the User-Agent."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import brotli
import pytest
from werkzeug import Response

from tests.support.sites import Site, article_page

from tests.support.stores import refresher, settings
from feedsvc.core.errors import FetchRefused, FetchTooLarge
from feedsvc.fetch.page import fetch_page, make_client, parse_retry_after
from feedsvc.fetch.politeness import PoliteFetcher
from feedsvc.store.store import utcnow


@pytest.fixture
def site(httpserver):
    return Site(httpserver)


def article_recipe(url: str, source_id: str = "a", extra: str = "") -> str:
    return f"""
id = "{source_id}"
name = "A"
kind = "article_page"
start_urls = ["{url}"]
refresh_interval_minutes = 30
{extra}
[article]
title = "h1"
author = ".author"
published = ".time"
body = ".body"
"""


# -- conditional GET ----------------------------------------------------------


def test_unchanged_page_is_not_parsed_again(site, tmp_path):
    etag, modified = '"v1"', "Wed, 23 Oct 2019 00:00:00 GMT"

    def handler(request):
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(article_page("标题"), content_type="text/html; charset=utf-8",
                        headers={"ETag": etag, "Last-Modified": modified})

    site.routes["/a"] = handler
    r = refresher(tmp_path, article_recipe(site.url("/a")))
    assert r.refresh_source("a").new == 1
    before = r.store.query_items()
    report = r.refresh_source("a")
    # A 304 has no body: parsing it would fail the source ("page is empty").
    assert (report.status, report.new, report.updated, report.pages) == ("ok", 0, 0, 1)
    last = site.hits("/a")[-1].headers
    assert last.get("If-None-Match") == etag and last.get("If-Modified-Since") == modified
    assert r.store.query_items() == before


def test_validators_of_a_page_that_failed_are_not_kept(site, tmp_path):
    site.page("/a", "<html><body><h2>no title here</h2></body></html>", headers={"ETag": '"broken"'})
    r = refresher(tmp_path, article_recipe(site.url("/a")))
    assert r.refresh_source("a").error_kind == "recipe_mismatch"
    r.refresh_source("a", force=True)
    assert "If-None-Match" not in site.hits("/a")[-1].headers  # asked in full again


@pytest.mark.parametrize("encoding, compress", [("gzip", gzip.compress), ("br", brotli.compress)])
def test_compressed_bodies(site, encoding, compress):
    body = article_page("压缩").encode("utf-8")
    site.routes["/z"] = lambda _r: Response(compress(body), headers={"Content-Encoding": encoding},
                                            content_type="text/html")
    s = settings()
    with make_client(s) as client:
        page = fetch_page(client, site.url("/z"), s)
    assert page.content == body and encoding in site.hits("/z")[0].headers["Accept-Encoding"]


def test_decompressed_size_is_capped(site):
    site.routes["/bomb"] = lambda _r: Response(gzip.compress(b"0" * 200_000), headers={"Content-Encoding": "gzip"})
    s = settings(max_bytes=4096)
    with make_client(s) as client, pytest.raises(FetchTooLarge):
        fetch_page(client, site.url("/bomb"), s)


# -- Retry-After, backoff and force ----------------------------------------------


def _delay(r, source_id="a") -> timedelta:
    state = r.store.source_state(source_id)
    return state.next_run_at - state.last_attempt_at


def test_429_retry_after_seconds_is_honoured(site, tmp_path):
    site.page("/a", "slow down", status=429, headers={"Retry-After": "7200"})
    r = refresher(tmp_path, article_recipe(site.url("/a")))
    report = r.refresh_source("a")
    assert report.status == "error" and "429" in report.error
    assert _delay(r) == timedelta(hours=2)  # not the 30-minute backoff


def test_503_retry_after_http_date_is_honoured(site, tmp_path):
    when = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=3)
    site.page("/a", "down", status=503, headers={"Retry-After": format_datetime(when, usegmt=True)})
    r = refresher(tmp_path, article_recipe(site.url("/a")))
    r.refresh_source("a")
    assert abs(r.store.source_state("a").next_run_at - when) < timedelta(seconds=5)


def test_short_retry_after_does_not_shorten_the_backoff(site, tmp_path):
    site.page("/a", "busy", status=429, headers={"Retry-After": "5"})
    r = refresher(tmp_path, article_recipe(site.url("/a")))
    r.refresh_source("a")
    assert _delay(r) == timedelta(minutes=30)


def test_parse_retry_after():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after("120", now) == timedelta(seconds=120)
    assert parse_retry_after("Thu, 01 Jan 2026 01:00:00 GMT", now) == timedelta(hours=1)
    assert parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now) == timedelta(0)
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None


def test_backoff_grows_then_resets(site, tmp_path):
    site.page("/a", "boom", status=500)
    r = refresher(tmp_path, article_recipe(site.url("/a")))
    delays = []
    for _ in range(3):
        assert r.refresh_source("a", force=True).status == "error"
        delays.append(_delay(r))
    assert delays == [timedelta(minutes=30), timedelta(minutes=60), timedelta(minutes=120)]
    assert r.store.source_state("a").consecutive_failures == 3
    site.page("/a", article_page("恢复了"))
    assert r.refresh_source("a", force=True).status == "ok"
    state = r.store.source_state("a")
    assert state.consecutive_failures == 0 and state.last_error is None
    assert timedelta(minutes=30) <= _delay(r) <= timedelta(minutes=33)


def test_backing_off_source_is_skipped_unless_forced(site, tmp_path):
    site.page("/a", "boom", status=500)
    r = refresher(tmp_path, article_recipe(site.url("/a")))
    r.refresh_source("a")
    asked = len(site.hits("/a"))
    until = r.store.source_state("a").next_run_at
    skipped = r.refresh_many(["a"])[0]
    assert skipped.status == "skipped" and skipped.error_kind == "backoff"
    assert until.isoformat(timespec="seconds") in skipped.error and "500" in skipped.error
    assert len(site.hits("/a")) == asked  # nothing was fetched
    site.page("/a", article_page("强制刷新"))
    forced = r.refresh_many(["a"], force=True)[0]
    assert (forced.status, forced.new) == ("ok", 1) and len(site.hits("/a")) == asked + 1


def test_due_source_in_backoff_is_refreshed_by_the_tick(site, tmp_path):
    site.page("/a", "boom", status=500)
    r = refresher(tmp_path, article_recipe(site.url("/a")))
    r.refresh_source("a")
    r.store.set_next_run("a", utcnow() - timedelta(seconds=1))  # its backoff has run out
    site.page("/a", article_page("又好了"))
    assert [rep.status for rep in r.refresh_due()] == ["ok"]


# -- redirects ------------------------------------------------------------------------


def _chain(site, hops: int) -> str:
    for i in range(hops):
        site.routes[f"/r{i}"] = (lambda n: lambda _r: Response(status=302, headers={"Location": f"/r{n}"}))(i + 1)
    site.page(f"/r{hops}", "end")
    return site.url("/r0")


def test_five_redirects_are_followed_and_the_final_url_recorded(site):
    s = settings(max_redirects=5)
    with make_client(s) as client:
        page = fetch_page(client, _chain(site, 5), s)
    assert page.final_url == site.url("/r5") and page.content == b"end"


def test_a_sixth_redirect_is_refused(site):
    s = settings(max_redirects=5)
    with make_client(s) as client, pytest.raises(FetchRefused, match="redirects"):
        fetch_page(client, _chain(site, 6), s)


# -- robots.txt ----------------------------------------------------------------------


def test_robots_txt_disallow(site, tmp_path):
    site.page("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.page("/private/a", article_page("秘密"))
    site.page("/public/a", article_page("公开"))
    r = refresher(tmp_path, article_recipe(site.url("/private/a"), "closed"),
                  article_recipe(site.url("/public/a"), "open"))
    closed, opened = r.refresh_many(["closed", "open"])
    assert closed.status == "error" and closed.error_kind == "robots"
    assert opened.status == "ok" and opened.new == 1
    assert site.hits("/private/a") == []
    r.refresh_many(["open"], force=True)
    assert len(site.hits("/robots.txt")) == 1  # cached per host


def test_robots_rules_for_our_user_agent(site, tmp_path):
    site.page("/robots.txt", "User-agent: MyReader\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
              content_type="text/plain")
    site.page("/a", article_page("标题"))
    r = refresher(tmp_path, article_recipe(site.url("/a")), user_agent="MyReader/2.0 (+https://example.org)")
    assert r.refresh_source("a").error_kind == "robots"


def test_recipe_may_opt_out_of_robots_txt(site, tmp_path):
    site.page("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    site.page("/a", article_page("标题"))
    r = refresher(tmp_path, article_recipe(site.url("/a"), extra="obey_robots_txt = false"))
    assert r.refresh_source("a").status == "ok"
    assert site.hits("/robots.txt") == []


def test_robots_txt_server_error_closes_the_site(site, tmp_path):
    site.page("/robots.txt", "oops", status=503)
    site.page("/a", article_page("标题"))
    r = refresher(tmp_path, article_recipe(site.url("/a")))
    assert r.refresh_source("a").error_kind == "robots" and site.hits("/a") == []


# -- per-host delay and User-Agent ---------------------------------------------------------


def test_requests_to_one_host_are_spaced(site):
    for name in ("a", "b", "c"):
        site.page(f"/{name}", name)
    fetcher = PoliteFetcher(settings(host_delay_seconds=0.15))
    try:
        for name in ("a", "b", "c"):
            fetcher.fetch(site.url(f"/{name}"))
    finally:
        fetcher.close()
    starts = [s.at for s in site.seen]  # robots.txt, a, b, c
    assert len(starts) == 4
    assert all(later - earlier >= 0.13 for earlier, later in zip(starts, starts[1:]))


def test_configured_user_agent_is_sent(site):
    site.page("/a", "ok")
    fetcher = PoliteFetcher(settings(user_agent="MyReader/2.0"))
    try:
        fetcher.fetch(site.url("/a"))
    finally:
        fetcher.close()
    assert {s.headers["User-Agent"] for s in site.seen} == {"MyReader/2.0"}


def test_listeners_hear_every_report_and_cannot_break_it(site, tmp_path):
    site.page("/a", article_page("标题"))
    heard = []
    r = refresher(tmp_path, article_recipe(site.url("/a")))
    r.listeners += [heard.append, lambda _report: 1 / 0]
    report = r.refresh_source("a")
    assert report.status == "ok" and heard == [report]
