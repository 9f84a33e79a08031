"""Feeds readers and validators accept: no W3C validator warning (see
tests/checks.py) on any kind of feed, jing on every Atom, the JSON Feed
schema on every JSON feed; one id and one self URL per outlet feed,
whichever URL a reader came by, kept across restarts and upgrades."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pytest
from sqlalchemy import text

from tests.support import checks
from tests.support.checks import parse_strict, validate_atoms
from feedsvc.store import migrate
from feedsvc.app import create_app
from feedsvc.store.engine import make_engine
from feedsvc.snapshot import RECIPES_DIR, SnapshotServer
from tests.support.paths import SPEC
from tests.support.stores import instance_folder

JSON_SCHEMA = json.loads((SPEC / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
BASE = "https://feeds.example.org"
KINDS = ["/feeds/all", "/feeds/outlet/luwang", "/feeds/source/iqilu-shandong"]
QUERIES = ["", "?q=%E4%B8%8D%E5%AD%98%E5%9C%A8%E7%9A%84%E8%AF%8D", "?limit=3", "?convert=s2t"]  # all, empty, paged, converted


def _settings(instance: Path, snapshot_base: str, **more) -> dict:
    return {"INSTANCE_PATH": instance_folder(instance), "RECIPES_PATH": str(RECIPES_DIR),
            "RECIPE_VARIABLES": {"snapshot": snapshot_base}, "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
            "FETCH_HOST_DELAY_SECONDS": 0, "CACHE_CHECK_INTERVAL_SECONDS": 0, **more}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with SnapshotServer() as snapshot:
        app = create_app(_settings(tmp_path_factory.mktemp("valid"), snapshot.base_url, BASE_URL=BASE))
        app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    yield app.test_client()


def _fetch(client, url: str) -> bytes:
    response = client.get(url.removeprefix(BASE), base_url=BASE)
    assert response.status_code == 200, (url, response.get_data(as_text=True))
    return response.data


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
@pytest.mark.parametrize("stem", KINDS)
def test_no_validator_warning_on_any_feed(client, stem, fmt, tmp_path):
    urls = [f"{BASE}{stem}.{fmt}{query}" for query in QUERIES]
    paged = _fetch(client, urls[2])
    older = json.loads(paged).get("next_url") if fmt == "json" else next(
        (l.href for l in parse_strict(paged).feed.links if l.rel == "next"), None)
    assert older, "a paged view links the next page"
    atoms = []
    for url in [*urls, older]:
        body = _fetch(client, url)
        assert checks.problems(body, url) == [], url
        if fmt == "atom":
            atoms.append(body)
        elif fmt == "json":
            jsonschema.validate(json.loads(body), JSON_SCHEMA)
    if atoms:
        validate_atoms(atoms, tmp_path)  # one jing run for them all
    empty = _fetch(client, urls[1])
    assert b"1970" not in empty and b"<entry>" not in empty and b"<item>" not in empty


# What feedsvc served before (the observations), cut to what each check reads.
TODAY_ATOM = (b'<feed xmlns="http://www.w3.org/2005/Atom"><id>tag:feedsvc,2026:/feeds/all</id><title>t</title>'
              b'<updated>1970-01-01T00:00:00+00:00</updated>'
              b'<link href="https://feeds.example.org/feeds/outlet/%E8%83%B6%E4%B8%9C%E5%9C%A8%E7%BA%BF.atom" rel="self"/>'
              b'<entry><id>urn:uuid:1</id><title>a</title><updated>2026-12-06T08:21:59+08:00</updated>'
              b'<published>2019-10-23T00:00:00+08:00</published></entry>'
              b'<entry><id>urn:uuid:2</id><title>b</title><updated>2026-12-06T08:21:59+08:00</updated></entry></feed>')
TODAY_RSS = (b'<rss version="2.0"><channel><title>t</title><link>http://x/</link><description>d</description>'
             b'<lastBuildDate>Thu, 01 Jan 1970 00:00:00 +0000</lastBuildDate></channel></rss>')


def test_each_check_fires_on_what_was_served_before():
    assert len(checks.duplicate_updated(TODAY_ATOM)) == 1
    assert checks.implausible_dates(TODAY_ATOM) == ["feed updated: 1970-01-01T00:00:00+00:00"]
    assert checks.implausible_dates(TODAY_RSS) == ["lastBuildDate: 1970-01-01T00:00:00+00:00"]
    assert checks.implausible_dates(TODAY_ATOM.replace(b"1970-01-01", b"2999-01-01")) != []
    assert checks.missing_language(TODAY_ATOM) and checks.missing_language(TODAY_RSS)
    assert checks.self_mismatch(TODAY_ATOM, f"{BASE}/feeds/outlet/jiaodong-zaixian.atom")


def _identity(client, path: str) -> tuple[str, str, str]:
    response = client.get(path, base_url=BASE, follow_redirects=True)
    feed = parse_strict(response.data)
    self_url = next(l.href for l in feed.feed.links if l.rel == "self")
    return feed.feed.id, self_url, response.request.url


def test_name_alias_and_slug_urls_reach_one_feed(tmp_path, snapshot, site_dir):
    page = site_dir / "shandong/yaowen/2019/1023/4371235.shtml"
    html = page.read_text(encoding="utf-8")
    page.write_text(html.replace('<span class="outlet">大众日报</span>', '<span class="outlet">大众网</span>', 1),
                    encoding="utf-8")
    app = create_app(_settings(tmp_path / "i", snapshot.base_url, BASE_URL=BASE,
                               OUTLET_ALIASES={"大众网": "大众日报"}))
    app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    client = app.test_client()
    moved = client.get(f"/feeds/outlet/{quote('大众网')}.rss?limit=5", base_url=BASE)
    assert moved.status_code == 301 and moved.headers["Location"] == f"{BASE}/feeds/outlet/dazhong-ribao.rss?limit=5"
    identities = {_identity(client, f"/feeds/outlet/{name}.atom")
                  for name in (quote("大众日报"), quote("大众网"), "dazhong-ribao")}
    [(feed_id, self_url, fetched)] = identities
    assert self_url == fetched == f"{BASE}/feeds/outlet/dazhong-ribao.atom"
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert feed_id == f"tag:feeds.example.org,{today}:/feeds/outlet/dazhong-ribao"
    # Restarted with another public URL, the ids stay: they were recorded at first start.
    again = create_app(_settings(tmp_path / "i", snapshot.base_url, BASE_URL="https://other.example.net",
                                 OUTLET_ALIASES={"大众网": "大众日报"}))
    assert parse_strict(again.test_client().get("/feeds/outlet/dazhong-ribao.atom").data).feed.id == feed_id


def test_an_existing_store_keeps_its_ids_until_the_operator_sets_an_authority(tmp_path, snapshot):
    """A store from before: upgraded, its feeds keep the ids readers have."""
    instance = tmp_path / "i"
    instance.mkdir()
    engine = make_engine(f"sqlite:///{instance / 'feedsvc.sqlite3'}")
    migrate.upgrade(engine, "0005_bigram_index")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sources (id, name, kind, consecutive_failures) "
                          "VALUES ('iqilu-shandong', 'x', 'listing_page', 0)"))
    engine.dispose()
    app = create_app(_settings(instance, snapshot.base_url, BASE_URL=BASE))
    client = app.test_client()
    assert parse_strict(client.get("/feeds/all.atom").data).feed.id == "tag:feedsvc,2026:/feeds/all"
    chosen = create_app(_settings(instance, snapshot.base_url, BASE_URL=BASE, FEED_ID_AUTHORITY="example.org,2026"))
    assert parse_strict(chosen.test_client().get("/feeds/all.atom").data).feed.id == "tag:example.org,2026:/feeds/all"
    # ...and that choice is the store's from then on.
    later = create_app(_settings(instance, snapshot.base_url))
    assert parse_strict(later.test_client().get("/feeds/all.atom").data).feed.id == "tag:example.org,2026:/feeds/all"
