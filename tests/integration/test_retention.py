"""Retention: recipe keys, pruning as its own job, and what it never prunes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from feedsvc.sources.recipes import RecipeError, load_recipes
from feedsvc.ingest.scheduler import make_scheduler, prune
from tests.support.checks import parse_strict
from tests.support.stores import close, make_app, write_recipe

NOW = datetime.now(timezone.utc)
ITEMS = 80  # one a day: more than a default feed (50) shows


def rss(count: int, rare_days: range = range(0)) -> bytes:
    """One item a day; those of `rare_days` name their own outlet (稀有社)."""
    entries = "".join(
        f"<item><title>第{n}天的新闻</title><link>https://news.example.cn/{n}.html</link>"
        f"<guid>https://news.example.cn/{n}.html</guid>"
        + ('<source url="https://rare.example.cn/">稀有社</source>' if n in rare_days else "")
        + f"<pubDate>{format_datetime(NOW - timedelta(days=n, hours=1))}</pubDate></item>"
        for n in range(count))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>测试</title>'
            f"<link>https://news.example.cn/</link><description>d</description>{entries}</channel></rss>").encode()


def feed_ids(app, path: str) -> list[str]:
    response = app.test_client().get(path)
    assert response.status_code == 200
    return [e.id for e in parse_strict(response.data).entries]


@pytest.mark.parametrize("retention, bad_key", [
    ("retention_days = 0\n", "retention_days"),
    ("retention_max_items = 0\n", "retention_max_items"),
    ('retention_days = "forever"\n', "retention_days"),
])
def test_broken_retention_is_refused_with_its_key(tmp_path, retention, bad_key):
    write_recipe(tmp_path / "feeds", "http://127.0.0.1:1/feed.xml", retention)
    with pytest.raises(RecipeError) as caught:
        load_recipes(tmp_path / "feeds")
    assert bad_key in str(caught.value) and "daily.toml" in str(caught.value)


def test_prune_deletes_old_items_but_never_what_default_feeds_show(tmp_path, httpserver, database_url):
    httpserver.expect_request("/feed.xml").respond_with_data(rss(ITEMS), content_type="application/rss+xml")
    url = httpserver.url_for("/feed.xml")
    write_recipe(tmp_path / "feeds", url)  # no retention yet: everything is kept
    app = make_app(tmp_path, database_url)
    [report] = app.extensions["feedsvc"].refresher.refresh_many(["daily"])
    assert (report.status, report.new) == ("ok", ITEMS)
    shown = {path: feed_ids(app, path) for path in
             ("/feeds/all.atom", "/feeds/source/daily.atom", "/feeds/outlet/ceshi-ribao.atom")}
    assert prune(app.extensions["feedsvc"]) == 0  # no recipe asks for retention
    close(app)

    write_recipe(tmp_path / "feeds", url, "retention_days = 30\n")
    app = make_app(tmp_path, database_url)
    store = app.extensions["feedsvc"].store
    # 30 days would keep 30; the default feeds show 50, so 50 stay.
    assert prune(app.extensions["feedsvc"]) == ITEMS - 50
    assert store.count_items() == 50
    for path, ids in shown.items():
        assert feed_ids(app, path) == ids, path
    assert feed_ids(app, "/feeds/all.atom?limit=500") == shown["/feeds/all.atom"]
    assert prune(app.extensions["feedsvc"]) == 0  # idempotent

    # The feed still lists the pruned days; they must not come back.
    [report] = app.extensions["feedsvc"].refresher.refresh_many(["daily"], force=True)
    assert report.status == "ok" and store.count_items() == 50
    close(app)


def test_max_items_caps_even_what_default_feeds_show(tmp_path, httpserver, database_url):
    """retention_max_items bounds what the source holds, at every refresh:
    the default feeds' newest give way, and the older entries the feed
    still lists are not taken in again."""
    httpserver.expect_request("/feed.xml").respond_with_data(rss(ITEMS), content_type="application/rss+xml")
    write_recipe(tmp_path / "feeds", httpserver.url_for("/feed.xml"), "retention_max_items = 20\n")
    app = make_app(tmp_path, database_url)
    store = app.extensions["feedsvc"].store
    [report] = app.extensions["feedsvc"].refresher.refresh_many(["daily"])
    assert (report.status, report.new, store.count_items()) == ("ok", 20, 20)
    assert len(feed_ids(app, "/feeds/all.atom")) == 20
    [report] = app.extensions["feedsvc"].refresher.refresh_many(["daily"], force=True)
    assert (report.new, store.count_items(), prune(app.extensions["feedsvc"])) == (0, 20, 0)
    close(app)


def test_prune_keeps_what_a_small_outlets_feed_shows(tmp_path, httpserver, database_url):
    """Five old items are all a small outlet has: past the source's age
    limit and outside the source and all-items feeds, but its outlet feed
    shows them."""
    rare_days = range(70, 75)
    httpserver.expect_request("/feed.xml").respond_with_data(rss(ITEMS, rare_days), content_type="application/rss+xml")
    url = httpserver.url_for("/feed.xml")
    write_recipe(tmp_path / "feeds", url, outlet="")
    app = make_app(tmp_path, database_url)
    assert app.extensions["feedsvc"].refresher.refresh_many(["daily"])[0].new == ITEMS
    paths = ("/feeds/outlet/xiyou-she.atom", "/feeds/outlet/ceshi.atom", "/feeds/all.atom")  # 测试: the feed's title
    shown = {path: feed_ids(app, path) for path in paths}
    assert len(shown["/feeds/outlet/xiyou-she.atom"]) == len(rare_days)
    close(app)
    write_recipe(tmp_path / "feeds", url, "retention_days = 20\n", outlet="")
    app = make_app(tmp_path, database_url)
    assert prune(app.extensions["feedsvc"]) == ITEMS - 50 - len(rare_days)
    assert {path: feed_ids(app, path) for path in paths} == shown
    close(app)


def test_new_items_past_the_age_limit_are_not_ingested(tmp_path, httpserver, database_url):
    httpserver.expect_request("/feed.xml").respond_with_data(rss(10), content_type="application/rss+xml")
    write_recipe(tmp_path / "feeds", httpserver.url_for("/feed.xml"), "retention_days = 4\n")
    app = make_app(tmp_path, database_url)
    [report] = app.extensions["feedsvc"].refresher.refresh_many(["daily"])
    # Days 0..3 (each an hour past the day) are within 4 days; 4..9 are not.
    assert (report.status, report.new) == ("ok", 4)
    assert len(feed_ids(app, "/feeds/all.atom")) == 4
    close(app)


def test_prune_runs_as_its_own_scheduled_job(tmp_path, database_url):
    write_recipe(tmp_path / "feeds", "http://127.0.0.1:1/feed.xml")
    app = make_app(tmp_path, database_url)
    scheduler = make_scheduler(app.extensions["feedsvc"])
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs["prune"].trigger.interval == timedelta(seconds=app.config["PRUNE_INTERVAL_SECONDS"])
    assert "refresh-tick" in jobs
    close(app)
    app = make_app(tmp_path, database_url, PRUNE_INTERVAL_SECONDS=0)
    assert "prune" not in {job.id for job in make_scheduler(app.extensions["feedsvc"]).get_jobs()}
    close(app)
