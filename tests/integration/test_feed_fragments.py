"""Entries rendered once and reused: after a store change a feed renders
only the items that changed, and its bytes are those a fresh process
renders from nothing."""

from __future__ import annotations

from tests.support.checks import parse_strict, validate_atom
from feedsvc.app import create_app
from feedsvc.core.models import DETAIL_ARTICLE, ItemRecord
from feedsvc.snapshot import RECIPES_DIR
from feedsvc.web.state import FRAGMENT_CACHE
from tests.support.stores import instance_folder

PATHS = [f"/feeds/all.{fmt}" for fmt in ("atom", "rss", "json")] + [
    f"/feeds/outlet/luwang.atom", "/feeds/all.rss?convert=s2t", "/feeds/all.atom?limit=3",
    "/feeds/source/iqilu-shandong.json?q=山东"]


def apps(tmp_path, snapshot):
    config = {"INSTANCE_PATH": instance_folder(tmp_path / "instance"), "RECIPES_PATH": str(RECIPES_DIR),
              "RECIPE_VARIABLES": {"snapshot": snapshot.base_url}, "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
              "FETCH_HOST_DELAY_SECONDS": 0, "CACHE_CHECK_INTERVAL_SECONDS": 0}
    return config, create_app(config)


def test_only_changed_entries_render_and_bytes_match_a_fresh_render(tmp_path, snapshot):
    config, warm = apps(tmp_path, snapshot)
    store = warm.extensions["feedsvc"].store
    assert warm.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])[0].status == "ok"
    client = warm.test_client()
    before = {path: client.get(path).data for path in PATHS}
    fragments = warm.extensions[FRAGMENT_CACHE]
    rendered = fragments.stats.rendered
    [newest] = store.query_items(limit=1)
    # A later page retitles the newest item and moves it to another outlet.
    result = store.upsert_items([ItemRecord(url=newest.url, source_id=newest.source_id, title="改过的标题",
                                            detail=DETAIL_ARTICLE, outlet="新华网")])
    assert result.updated == 1
    after = {path: client.get(path).data for path in PATHS}
    assert after["/feeds/all.atom"] != before["/feeds/all.atom"] and "改过的标题".encode() in after["/feeds/all.atom"]
    # Each distinct rendering of the changed item, once: atom, rss, json, rss converted, json of the source.
    assert fragments.stats.rendered - rendered <= 5
    assert fragments.stats.reused > 0
    fresh = create_app(config).test_client()
    for path in PATHS:
        assert fresh.get(path).data == after[path], path
    parse_strict(after["/feeds/all.atom"])
    parse_strict(after["/feeds/all.rss"])
    validate_atom(after["/feeds/all.atom"], tmp_path)


def test_conversions_and_outlet_names_never_mix(tmp_path, snapshot):
    config, app = apps(tmp_path, snapshot)
    app.config["OUTLET_ALIASES"] = {}
    assert app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])[0].status == "ok"
    client = app.test_client()
    converted = parse_strict(client.get("/feeds/all.atom?convert=s2t").data)
    plain = parse_strict(client.get("/feeds/all.atom").data)
    assert [e.title for e in converted.entries] != [e.title for e in plain.entries]
    assert parse_strict(client.get("/feeds/all.atom").data).entries[0].title == plain.entries[0].title
    aliased = create_app({**config, "OUTLET_ALIASES": {"鲁网": "大众日报"}}).test_client()
    terms = {t.term for e in parse_strict(aliased.get("/feeds/all.atom").data).entries for t in e.tags}
    assert "鲁网" not in terms and "大众日报" in terms
