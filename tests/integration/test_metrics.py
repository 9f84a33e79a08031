"""/metrics after real refreshes over a loopback site, parsed as
Prometheus text; and the scheduler's own metrics port in a real process."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest

from feedsvc.ingest.scheduler import tick
from feedsvc.store.store import utcnow
from tests.support.checks import samples, scrape, value
from tests.support.sites import ARTICLE, article_recipe
from tests.support.stores import close, make_app

@pytest.fixture
def site(httpserver):
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)  # no rules
    httpserver.expect_request("/good.html").respond_with_data(ARTICLE, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/bad.html").respond_with_data("down for maintenance", status=500)
    return httpserver


@pytest.fixture
def recipes_dir(tmp_path, site):
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "good.toml").write_text(article_recipe("good", site.url_for("/good.html")), encoding="utf-8")
    (folder / "bad.toml").write_text(article_recipe("bad", site.url_for("/bad.html")), encoding="utf-8")
    return folder


@pytest.fixture
def app(tmp_path, recipes_dir, database_url):
    app = make_app(tmp_path, database_url, recipes_dir, REFRESH_JITTER_RATIO=0)
    yield app
    close(app)


def test_metrics_after_a_tick_and_feed_requests(app):
    store = app.extensions["feedsvc"].store
    # "good" has waited two minutes past its due time; "bad" never ran.
    store.set_next_run("good", utcnow() - timedelta(seconds=120))
    before = time.time()
    assert tick(app.extensions["feedsvc"]) == 2
    client = app.test_client()
    m = scrape(client)

    assert value(m, "feedsvc_refresh_duration_seconds_count", source="good") == 1
    assert value(m, "feedsvc_refresh_duration_seconds_count", source="bad") == 1
    assert value(m, "feedsvc_refresh_errors_total", source="bad", kind="http_status") == 1
    assert value(m, "feedsvc_refresh_errors_total", source="good", kind="http_status") is None
    assert value(m, "feedsvc_refreshes_total", source="good", status="ok") == 1
    assert value(m, "feedsvc_items_ingested_total", source="good", change="new") == 3  # article + 2 related
    assert 120 <= value(m, "feedsvc_scheduler_lag_seconds") < 180
    # Per-source state, read from the store when scraped.
    assert value(m, "feedsvc_source_items", source="good") == 3
    assert value(m, "feedsvc_source_items", source="bad") == 0
    assert before <= value(m, "feedsvc_source_last_success_timestamp_seconds", source="good") <= time.time()
    assert value(m, "feedsvc_source_last_success_timestamp_seconds", source="bad") is None
    assert value(m, "feedsvc_source_consecutive_failures", source="bad") == 1
    assert value(m, "feedsvc_source_next_run_timestamp_seconds", source="good") >= before + 3590
    assert value(m, "feedsvc_store_up") == 1
    assert value(m, "feedsvc_recipes") == 2 and value(m, "feedsvc_recipe_errors") == 0

    first = client.get("/feeds/all.atom")
    assert first.status_code == 200
    after_first = scrape(client)
    again = client.get("/feeds/all.atom")
    assert again.status_code == 200 and again.data == first.data
    after_again = scrape(client)
    # The second request is served from the cache: a hit, no new miss.
    for name, grew in (("feedsvc_feed_cache_misses_total", False), ("feedsvc_feed_cache_hits_total", True)):
        assert (value(after_again, name) > value(after_first, name)) is grew, name

    assert client.get("/feeds/all.atom", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert client.get("/feeds/source/nope.atom").status_code == 404
    assert client.get("/feeds/source/good.rss").status_code == 200
    assert client.get("/feeds/all.json?limit=0").status_code == 400
    m = scrape(client)
    assert value(m, "feedsvc_feed_requests_total", format="atom", status="200") == 2
    assert value(m, "feedsvc_feed_requests_total", format="atom", status="304") == 1
    assert value(m, "feedsvc_feed_requests_total", format="atom", status="404") == 1
    assert value(m, "feedsvc_feed_requests_total", format="rss", status="200") == 1
    assert value(m, "feedsvc_feed_requests_total", format="json", status="400") == 1

    # Nothing is due now: no lag.
    tick(app.extensions["feedsvc"])
    assert value(scrape(client), "feedsvc_scheduler_lag_seconds") == 0


def test_a_web_process_reports_sources_a_worker_refreshed(tmp_path, recipes_dir, database_url):
    worker = make_app(tmp_path, database_url, recipes_dir, REFRESH_JITTER_RATIO=0)
    web = make_app(tmp_path, database_url, recipes_dir, REFRESH_JITTER_RATIO=0)
    try:
        worker.extensions["feedsvc"].refresher.refresh_many(["good", "bad"])
        m = scrape(web.test_client())
        # The web process refreshed nothing itself...
        assert value(m, "feedsvc_refresh_duration_seconds_count", source="good") is None
        # ...but reports what the store says about every source.
        assert value(m, "feedsvc_source_items", source="good") == 3
        assert value(m, "feedsvc_source_consecutive_failures", source="bad") == 1
        assert value(m, "feedsvc_source_last_success_timestamp_seconds", source="good") > 0
    finally:
        close(worker)
        close(web)


def test_web_metrics_need_the_token_when_one_is_set(tmp_path, recipes_dir, database_url):
    app = make_app(tmp_path, database_url, recipes_dir, REFRESH_JITTER_RATIO=0, METRICS_TOKEN="scrape-me")
    client = app.test_client()
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    assert "FEEDSVC_METRICS_TOKEN" in missing.get_data(as_text=True)
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Basic c2NyYXBlLW1lOg=="}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200 and ("feedsvc_recipes", ()) in samples(response.get_data(as_text=True))
    close(app)


@pytest.mark.parametrize("token", [None, "scrape-me"])
def test_metrics_port_answers_prometheus(tmp_path, recipes_dir, token):
    """The scheduler's port, in process over real HTTP: open without a
    token, closed to anyone without it otherwise."""
    from feedsvc.metrics.port import serve_metrics

    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'm.db'}", recipes_dir, REFRESH_JITTER_RATIO=0)
    server = serve_metrics(app.extensions["feedsvc"].metrics.registry, "127.0.0.1", 0, token)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.get(url, headers=headers, timeout=5)
        assert response.status_code == 200 and ("feedsvc_recipes", ()) in samples(response.text)
        assert httpx.get(url, timeout=5).status_code == (401 if token else 200)
    finally:
        server.shutdown()
        server.server_close()
        close(app)
