"""Real sites without selectors: a portal-style site on loopback read by
kind = "auto" recipes alone, in a real `feedsvc refresh` process, and
`feedsvc recipes test` trying recipes against it without writing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.support.checks import parse_strict
from feedsvc.app import create_app
from feedsvc.store.schema import http_validators, items, sources
from feedsvc.store.store import Store
from tests.support.portal import NAV, STORIES, PortalServer, auto_recipe

pytestmark = pytest.mark.slow

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHAPES = {story.related_shape: story for story in STORIES if story.related_shape}


def _env(folder, site) -> dict[str, str]:
    return {**os.environ, "FEEDSVC_RECIPES_PATH": str(folder / "recipes"),
            "FEEDSVC_DATABASE_URL": f"sqlite:///{folder / 'store.sqlite3'}",
            "FEEDSVC_INSTANCE_PATH": str(folder / "instance"),
            "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0",
            "FEEDSVC_RECIPES_RELOAD_SECONDS": "0"}


def _feedsvc(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "feedsvc", *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """The portal refreshed once by `feedsvc refresh` with one auto recipe."""
    folder = tmp_path_factory.mktemp("portal")
    (folder / "recipes").mkdir()
    with PortalServer() as site:
        (folder / "recipes" / "portal.toml").write_text(auto_recipe("portal", f"{site.base_url}/news/"),
                                                        encoding="utf-8")
        env = _env(folder, site)
        result = _feedsvc(env, "refresh", "--json")
        assert result.returncode == 0, result.stdout + result.stderr
        store = Store.from_url(env["FEEDSVC_DATABASE_URL"])
        yield site, store, env, json.loads(result.stdout)
        store.engine.dispose()


def _stored(store: Store) -> dict:
    return {item.url: item for item in store.query_items(limit=500)}


def test_auto_recipe_stores_every_article_under_its_outlet_with_its_time(portal):
    site, store, _, reports = portal
    assert [r["status"] for r in reports] == ["ok"]
    stored = _stored(store)
    for story in STORIES:
        item = stored[site.base_url + story.path]
        assert (item.title, item.outlet, item.author) == (story.title, story.outlet, story.author)
        assert item.published == datetime.fromisoformat(story.iso) and item.precision == "second"
        assert story.title in item.body_html and "热点排行" not in item.body_html
        in_feed = store.query_items(outlets=(story.outlet,), limit=100)
        assert item.url in {i.url for i in in_feed}


def test_auto_recipe_stores_no_sidebar_navigation_footer_or_ad(portal):
    site, store, _, _ = portal
    expected = {site.base_url + p for s in STORIES for p in (s.path, *(r.path for r in s.related))}
    stored = set(_stored(store))
    assert {site.base_url + s.path for s in STORIES} <= stored
    assert stored <= expected, stored - expected
    assert not any(("/hot/" in url or "/about/" in url or "ads.example" in url) for url in stored)
    nav = {site.base_url + path for path in ("/", "/news/", "/sports/", "/finance/", "/video/")}
    assert not stored & nav and "关于我们的网站介绍" in NAV


def test_outlet_feeds_serve_the_articles(portal):
    site, _, env, _ = portal
    app = create_app({"DATABASE_URL": env["FEEDSVC_DATABASE_URL"], "RECIPES_PATH": env["FEEDSVC_RECIPES_PATH"],
                      "RECIPES_RELOAD_SECONDS": 0})
    client = app.test_client()
    for story in STORIES:
        # The name URL moves to the outlet's one URL, its slug's.
        moved = client.get(f"/feeds/outlet/{quote(story.outlet)}.atom")
        assert moved.status_code == 301, story.outlet
        response = client.get(urlsplit(moved.location).path)
        assert response.status_code == 200, story.outlet
        links = {entry.link for entry in parse_strict(response.data).entries}
        assert site.base_url + story.path in links


def test_source_status_says_every_field_came_from_the_extractor(portal):
    _, store, env, _ = portal
    fields = store.source_state("portal").read_stats["fields"]
    assert set(fields["article.outlet"]) == {"extractor"} and fields["article.outlet"]["extractor"] == len(STORIES)
    assert set(fields["listing.entries"]) == {"extractor"}
    assert all(set(origins) == {"extractor"} for origins in fields.values())
    result = _feedsvc(env, "sources")
    assert "article.outlet: extractor" in result.stdout and "article.published: extractor" in result.stdout


# The related lists of the portal's articles take three shapes: a <ul>
# with an unlabelled outlet <span>, a <br>-separated · list with bracketed
# dates, a table in a GBK page.
@pytest.mark.parametrize("shape", ["ul", "br", "table"])
def test_related_items_land_under_their_outlet_with_their_date(portal, shape):
    site, store, _, _ = portal
    stored = _stored(store)
    for related in SHAPES[shape].related:
        item = stored.get(site.base_url + related.path)
        assert item is not None, related.title
        assert (item.title, item.outlet) == (related.title, related.outlet)
        assert item.precision == "day" and item.published.astimezone(SHANGHAI).date() == \
            date.fromisoformat(related.date)
        assert item.url in {i.url for i in store.query_items(outlets=(related.outlet,), limit=100)}


def _counts(store: Store) -> dict:
    with store.engine.connect() as conn:
        counted = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                   for t in (items, sources, http_validators)}
        counted["states"] = [tuple(row) for row in conn.execute(select(sources))]
    return counted


def test_recipes_test_prints_the_items_and_writes_nothing(portal, tmp_path):
    site, store, env, _ = portal
    before = _counts(store)
    hits = len(site.log)
    by_id = _feedsvc(env, "recipes", "test", "portal")
    assert by_id.returncode == 0, by_id.stderr
    for story in STORIES:
        assert story.title in by_id.stdout and f"outlet:  {story.outlet}" in by_id.stdout
        assert f"author:  {story.author}" in by_id.stdout
    assert "time:    2024-05-01 09:30 +0800" in by_id.stdout and "related: 3" in by_id.stdout
    assert "article.outlet: extractor" in by_id.stdout and "nothing was written" in by_id.stdout
    # Read in full, though the store holds validators for every page.
    assert len(site.log) > hits and all(etag is None for _, etag in site.log[hits:])
    by_url = _feedsvc(env, "recipes", "test", f"{site.base_url}/news/2024/0501/a3.html")
    assert by_url.returncode == 0 and "青岛港一季度集装箱吞吐量同比增长" in by_url.stdout
    recipe = tmp_path / "one.toml"
    recipe.write_text(auto_recipe("one", f"{site.base_url}/news/2024/0501/a4.html"), encoding="utf-8")
    by_file = _feedsvc(env, "recipes", "test", str(recipe))
    assert by_file.returncode == 0 and "outlet:  鲁网" in by_file.stdout
    assert _counts(store) == before


def test_recipes_test_of_a_page_that_is_not_there_fails(portal):
    site, _, env, _ = portal
    result = _feedsvc(env, "recipes", "test", f"{site.base_url}/nothing.html")
    assert result.returncode == 1 and "404" in result.stderr


def test_extract_and_suggest_use_the_configured_fetch_settings(portal):
    site, _, env, _ = portal
    url = f"{site.base_url}/news/2024/0501/a1.html"
    refused = _feedsvc({k: v for k, v in env.items() if k != "FEEDSVC_FETCH_ALLOWED_NETWORKS"}, "extract", url)
    assert refused.returncode == 1 and "refused" in refused.stderr  # loopback, not listed as allowed
    agent = {**env, "FEEDSVC_USER_AGENT": "feedsvc-settings-probe/1"}
    extracted = _feedsvc(agent, "extract", url)
    assert extracted.returncode == 0 and json.loads(extracted.stdout)["outlet"] == "大众日报"
    suggested = _feedsvc(agent, "recipes", "suggest", url)
    assert suggested.returncode == 0 and "[article]" in suggested.stdout
    assert site.agents[-2:] == ["feedsvc-settings-probe/1"] * 2
