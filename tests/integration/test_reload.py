"""Recipes reloaded without a restart: real files edited, added and
removed under a running app, real refreshes over a loopback site, and
SIGHUP to a real `feedsvc scheduler` process."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest

from tests.support.checks import parse_strict
from feedsvc.sources.recipes import read_recipe_folder
from feedsvc.ingest.scheduler import tick
from feedsvc.store.store import utcnow
from tests.support.checks import scrape, value
from tests.support.sites import ARTICLE, article_recipe
from tests.support.stores import close, make_app

RELOAD_SECONDS = 0.05


@pytest.fixture
def site(httpserver):
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    for name in ("good", "extra"):
        httpserver.expect_request(f"/{name}.html").respond_with_data(
            ARTICLE.replace("example.org/", f"example.org/{name}/").replace("一篇文章", f"{name}的文章"),
            content_type="text/html; charset=utf-8")
    return httpserver


@pytest.fixture
def folder(tmp_path, site):
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "good.toml").write_text(article_recipe("good", site.url_for("/good.html")), encoding="utf-8")
    return folder


@pytest.fixture
def app(tmp_path, folder):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'store.sqlite3'}", folder, REFRESH_JITTER_RATIO=0,
                   RECIPES_RELOAD_SECONDS=RELOAD_SECONDS)
    yield app
    close(app)


def after_interval() -> None:
    time.sleep(RELOAD_SECONDS * 2)


def test_web_requests_pick_up_added_edited_broken_and_removed_files(app, folder, site, caplog):
    rt = app.extensions["feedsvc"]
    client = app.test_client()
    assert [r.status for r in rt.refresher.refresh_many(["good"])] == ["ok"]

    # A new file adds a source: store row, feeds, and a real refresh.
    (folder / "extra.toml").write_text(article_recipe("extra", site.url_for("/extra.html")), encoding="utf-8")
    after_interval()
    assert client.get("/").status_code == 200
    assert set(rt.recipes) == {"good", "extra"}
    assert rt.store.source_state("extra") is not None
    assert [r.status for r in rt.refresher.refresh_many(["extra"])] == ["ok"]
    assert len(parse_strict(client.get("/feeds/source/extra.atom").data).entries) == 3

    # A broken edit is refused: the previous version keeps running, and
    # the index, the log and the metrics say which file, key and why.
    good = rt.recipes["good"]
    caplog.set_level(logging.WARNING, logger="feedsvc.sources.reloader")
    (folder / "good.toml").write_text("refresh_every = 5\n" + article_recipe("good", site.url_for("/good.html")),
                                      encoding="utf-8")
    after_interval()
    page = client.get("/").get_data(as_text=True)
    assert "Recipe files refused" in page and "good.toml" in page and "refresh_every" in page
    assert "unknown key" in page and str(folder) not in page  # file name only, not where it lives
    assert rt.recipes["good"] is good
    assert [r.status for r in rt.refresher.refresh_many(["good"])] == ["ok"]
    assert any("recipe_refused" in r.message and "key=refresh_every" in r.message for r in caplog.records)
    assert value(scrape(client), "feedsvc_recipe_errors") == 1
    [refused] = client.get("/api/sources").get_json()["recipe_errors"]
    assert (refused["file"], refused["key"]) == ("good.toml", "refresh_every") and "unknown key" in refused["reason"]

    # Fixed, and renamed: the new version runs, feeds say so at once.
    feed_before = client.get("/feeds/source/good.atom").data
    (folder / "good.toml").write_text(article_recipe("good", site.url_for("/good.html")).replace(
        'name = "Source good"', 'name = "Renamed source"'), encoding="utf-8")
    after_interval()
    assert "Recipe files refused" not in client.get("/").get_data(as_text=True)
    assert rt.recipes["good"].name == "Renamed source" and rt.recipe_errors == ()
    assert client.get("/api/sources").get_json()["recipe_errors"] == []
    feed = parse_strict(client.get("/feeds/source/good.atom").data)
    assert feed.feed.author == "Renamed source", feed_before
    assert rt.store.source_state("good").name == "Renamed source"

    # A removed file stops its source; its items stay in the store and the all feed.
    (folder / "extra.toml").unlink()
    after_interval()
    assert client.get("/feeds/source/extra.atom").status_code == 404
    assert set(rt.recipes) == {"good"}
    rt.store.set_next_run("extra", utcnow() - timedelta(minutes=1))
    rt.store.set_next_run("good", utcnow() + timedelta(hours=1))
    assert tick(app.extensions["feedsvc"]) == 0
    assert rt.store.source_state("extra").last_success_at < utcnow() - timedelta(seconds=0.1)
    assert len(rt.store.query_items(source_id="extra")) == 3
    assert "extra的文章" in client.get("/feeds/all.atom").get_data(as_text=True)


def test_the_scheduler_tick_loads_a_new_file_and_refreshes_it(app, folder, site):
    rt = app.extensions["feedsvc"]
    assert tick(app.extensions["feedsvc"]) == 1  # good
    (folder / "extra.toml").write_text(article_recipe("extra", site.url_for("/extra.html")), encoding="utf-8")
    after_interval()
    assert tick(app.extensions["feedsvc"]) == 1
    assert rt.store.source_state("extra").last_success_at is not None
    assert len(rt.store.query_items(source_id="extra")) == 3


def test_a_refused_file_without_a_previous_version_runs_nothing(app, folder):
    rt = app.extensions["feedsvc"]
    (folder / "new.toml").write_text('id = "new"\nname = "New"\nkind = "feed"\nstart_urls = ["ftp://x"]\n',
                                     encoding="utf-8")
    after_interval()
    app.test_client().get("/healthz")
    assert set(rt.recipes) == {"good"}
    [error] = rt.recipe_errors
    assert error.file.endswith("new.toml") and error.key == "start_urls" and "http(s)" in error.reason


def test_a_duplicate_id_keeps_the_file_s_previous_version(folder, site):
    first = read_recipe_folder(folder)
    assert [r.id for r in first.recipes] == ["good"] and first.errors == ()
    (folder / "other.toml").write_text(article_recipe("other", site.url_for("/extra.html")), encoding="utf-8")
    second = read_recipe_folder(folder, previous={r.path: r for r in first.recipes})
    (folder / "other.toml").write_text(article_recipe("good", site.url_for("/extra.html")), encoding="utf-8")
    third = read_recipe_folder(folder, previous={r.path: r for r in second.recipes})
    assert [r.id for r in third.recipes] == ["good", "other"]
    assert third.recipes[0].start_urls == [site.url_for("/good.html")]
    [error] = third.errors
    assert error.file.endswith("other.toml") and error.key == "id" and "already used" in error.reason
