"""Hostile dates and query values must never take feeds down.

Dates of year 1, 1900 and 9999 (some past year 9999 once in UTC) come in
through every kind of source, served by a loopback site and read by the
app's refresher into SQLite and PostgreSQL: each such entry is stored
without a time and shown, its neighbours keep theirs, and every page
answers. A store an older version filled with a 9999 date serves again
after the migration. Query values past every bound answer 400 naming the
parameter, without a traceback or a lock left behind."""

from __future__ import annotations

import base64
import logging
from datetime import datetime
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from werkzeug.test import EnvironBuilder

from tests.support.checks import parse_strict, validate_atom

from tests.support.stores import empty_store
from feedsvc.store import migrate
from feedsvc.app import create_app
from feedsvc.cli.commands import main
from feedsvc.store.engine import make_engine
from feedsvc.web.feedcache import FeedCache, VersionWatcher
from feedsvc.web.state import feed_cache
from tests.support.datesite import FINE_UTC, DateSite

FORMATS = ("atom", "rss", "json")


def _settings(folder, url) -> dict:
    return {"INSTANCE_PATH": str(folder / "instance"), "DATABASE_URL": url, "DB_AUTO_UPGRADE": True,
            "RECIPES_PATH": str(folder / "feeds"), "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
            "FETCH_HOST_DELAY_SECONDS": 0}


def _store_url(request, folder) -> str:
    """An empty store at the newest revision."""
    return empty_store(f"sqlite:///{folder / 'store.sqlite3'}" if request.param == "sqlite"
                       else request.getfixturevalue("pg_database"))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def dated(request, tmp_path_factory):
    """The app after one refresh of every source of the date site."""
    folder = tmp_path_factory.mktemp(f"dates-{request.param}")
    url = _store_url(request, folder)
    site = DateSite()
    sources = site.write_recipes(folder / "feeds")
    app = create_app(_settings(folder, url))
    reports = app.extensions["feedsvc"].refresher.refresh_many(sources)
    yield app, reports, site, folder
    site.close()
    app.extensions["feedsvc"].refresher.close()
    app.extensions["feedsvc"].store.engine.dispose()


def _feed_paths(app) -> list[str]:
    rt = app.extensions["feedsvc"]
    stems = ["/feeds/all", *(f"/feeds/source/{s}" for s in rt.recipes),
             *(f"/feeds/outlet/{o.slug}" for o in rt.store.outlets())]
    return [f"{stem}.{fmt}" for stem in stems for fmt in FORMATS]


def _items(client) -> dict[str, dict]:
    response = client.get("/api/items?limit=500")
    assert response.status_code == 200, response.data[:2000]
    return {item["url"]: item for item in response.get_json()["items"]}


def test_hostile_dates_are_stored_without_a_time(dated):
    app, reports, site, _ = dated
    assert {r.source_id: r.status for r in reports} == {s: "ok" for s in site.hostile}, [r.as_dict() for r in reports]
    items = _items(app.test_client())
    for report in reports:
        for url in site.hostile[report.source_id]:
            # Stored and shown, with no time, and the source told which entry.
            assert url in items, (url, sorted(items))
            assert items[url]["published"] is None and items[url]["published_precision"] is None
            assert any(w.startswith(f"{url}: publication time") and "stored without a time" in w
                       for w in report.warnings), report.warnings
        for url in site.fine[report.source_id]:
            published = datetime.fromisoformat(items[url]["published"])
            assert published == datetime.fromisoformat(FINE_UTC), (url, items[url]["published"])
            assert published.utcoffset().total_seconds() % 60 == 0


def test_every_feed_and_page_answers(dated, tmp_path):
    app, _, site, _ = dated
    client = app.test_client()
    hostile = {url for urls in site.hostile.values() for url in urls}
    for path in _feed_paths(app):
        response = client.get(path)
        assert response.status_code == 200, (path, response.data[:2000])
        if path.endswith(".json"):
            urls = {item["url"] for item in response.get_json()["items"]}
        else:
            urls = {entry.link for entry in parse_strict(response.data).entries}
        if path.startswith("/feeds/all"):
            assert hostile <= urls, hostile - urls
    validate_atom(client.get("/feeds/all.atom").data, tmp_path)
    index = client.get("/")
    assert index.status_code == 200 and b"Article article-hostile" in index.data
    assert client.get("/api/outlets").status_code == 200


def test_export_succeeds(dated, tmp_path, monkeypatch):
    app, _, _, folder = dated
    for key, value in _settings(folder, app.config["DATABASE_URL"]).items():
        monkeypatch.setenv(f"FEEDSVC_{key}", str(value))
    result = CliRunner().invoke(main, ["export", str(tmp_path / "site"), "--base-url", "https://example.org"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "feeds" / "all.atom").stat().st_size > 0


@pytest.fixture
def old_store(blank_database_url, tmp_path):
    """A store at revision 0005 holding items dated 9999 and year 1, as an
    older feedsvc could have written, next to one dated in 2024."""
    url = blank_database_url
    engine = make_engine(url)
    migrate.upgrade(engine, "0005_bigram_index")
    seen = datetime(2024, 6, 1, 12, 0)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sources (id, name, kind, consecutive_failures) "
                          "VALUES ('old', 'Old', 'feed', 0)"))
        for n, published in enumerate((datetime(9999, 12, 31, 23, 59, 59), datetime(1, 1, 1),
                                       datetime(2024, 3, 4, 22, 7, 8))):
            conn.execute(text(
                "INSERT INTO items (guid, url, source_id, title, outlet, editors, detail, published_at, "
                "published_precision, first_seen_at, updated_at, sort_at, revision) VALUES (:guid, :url, 'old', "
                ":title, '旧报', '[]', 1, :published, 'second', :seen, :seen, :published, 0)"),
                {"guid": f"urn:uuid:old-{n}", "url": f"https://example.org/old-{n}.html", "title": f"old {n}",
                 "published": published, "seen": seen})
        conn.execute(text("INSERT INTO outlet_stats (name, slug, item_count, latest, first_id) "
                          "VALUES ('旧报', 'jiubao', 3, :latest, 1)"), {"latest": datetime(9999, 12, 31, 23, 59, 59)})
    engine.dispose()
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "old.toml").write_text(
        'id = "old"\nname = "Old"\nkind = "feed"\nstart_urls = ["http://127.0.0.1:9/feed.xml"]\n'
        'timezone = "America/New_York"\n', encoding="utf-8")
    return tmp_path, url


def test_a_store_with_a_year_9999_item_serves_after_the_migration(old_store, tmp_path):
    folder, url = old_store
    app = create_app(_settings(folder, url))  # DB_AUTO_UPGRADE runs 0006
    client = app.test_client()
    try:
        items = _items(client)
        assert [items[f"https://example.org/old-{n}.html"]["published"] for n in range(3)] == [
            None, None, "2024-03-04T17:07:08-05:00"]
        for path in _feed_paths(app):
            response = client.get(path)
            assert response.status_code == 200, (path, response.data[:2000])
            if not path.endswith(".json"):
                assert len(parse_strict(response.data).entries) == 3
        validate_atom(client.get("/feeds/all.atom").data, tmp_path)
        assert client.get("/").status_code == 200
        # The cleared items sort by when they were first seen, the outlet's newest time with them.
        assert [i["url"] for i in client.get("/api/items").get_json()["items"]][0].endswith("old-1.html")
        [outlet] = client.get("/api/outlets").get_json()["outlets"]
        assert outlet["latest"] == "2024-06-01T12:00:00+00:00"
    finally:
        app.extensions["feedsvc"].refresher.close()
        app.extensions["feedsvc"].store.engine.dispose()


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# Each value answered 500 before, most with an OverflowError.
HOSTILE_QUERIES = [
    ("since", "999999w"), ("since", "999999d"), ("until", "999999w"),
    ("since", "0001-01-01T00:00:00+14:00"), ("until", "9999-12-31T23:59:59-12:00"),
    ("since", "0001-01-01"), ("until", "9999-12-31"),
    ("before", _cursor("9" * 27 + "|2024-01-01T00:00:00+00:00")),  # an id past any integer column
    ("before", _cursor("1|0001-01-01T00:00:00+14:00")), ("before", _cursor("1|9999-12-31T23:59:59-12:00")),
    ("before", _cursor("1|2024-01-01T00:00:00")),  # no zone
    ("before", _cursor("0x1|2024-01-01T00:00:00+00:00")), ("before", _cursor("1|2024-01-01T00:00:00+00:00|x")),
    ("before", "!!"), ("before", "MXwy٣"), ("limit", "²"), ("limit", "٣"),
]


@pytest.mark.parametrize("param, value", HOSTILE_QUERIES)
def test_hostile_query_values_are_a_400_naming_the_parameter(dated, param, value):
    app, _, _, _ = dated
    client = app.test_client()
    for path in ("/feeds/all.atom", "/feeds/source/dates-rss.json", "/api/items"):
        response = client.get(path, query_string={param: value})
        assert response.status_code == 400, (path, response.status_code, response.data[:500])
        if path.startswith("/api/"):
            assert response.get_json()["parameter"] == param
        assert response.get_data(as_text=True).startswith(f"{param}:") or path.startswith("/api/")


def test_refresh_wait_takes_ascii_digits_only(dated):
    app, _, _, _ = dated
    client = app.test_client()
    for wait in ("%C2%B2", "%D9%A3", "-1", "99999999999999999999", "1e3"):
        response = client.post(f"/refresh/dates-rss?wait={wait}")
        assert response.status_code == 400, (wait, response.data)
        assert response.get_json()["parameter"] == "wait"


def _wsgi_status(app, environ: dict) -> int:
    """The status `app` answers, called as a WSGI server calls it."""
    status = []
    body = app(environ, lambda line, headers, exc_info=None: status.append(line))
    for _ in body:
        pass
    getattr(body, "close", lambda: None)()
    return int(status[0].split()[0])


def test_failing_requests_leave_no_lock_and_no_traceback(dated, caplog):
    app, _, _, _ = dated
    with app.app_context():
        cache = feed_cache()
    caplog.set_level(logging.INFO)
    base = EnvironBuilder().get_environ()
    paths = ["/feeds/all.atom", "/feeds/all.rss", "/api/items"]
    # Query values are refused before the store is asked: 10,000 on SQLite,
    # and a tenth of that on PostgreSQL, whose connections cost more per request.
    # Straight through the WSGI callable: the test client costs more than the app.
    count = 10_000 if app.config["DATABASE_URL"].startswith("sqlite") else 1_000
    for n in range(count):
        param, value = HOSTILE_QUERIES[n % len(HOSTILE_QUERIES)]
        environ = {**base, "PATH_INFO": paths[n % 3], "QUERY_STRING": urlencode({param: value})}
        assert _wsgi_status(app, environ) == 400
    # A lock only for what is cached (the outlet directory, built on the way).
    assert set(cache._key_locks) <= set(cache._entries), set(cache._key_locks) - set(cache._entries)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_a_failed_feed_build_releases_its_lock():
    cache = FeedCache(VersionWatcher(lambda: 1))

    def build():
        raise OverflowError("date value out of range")

    for n in range(10_000):
        with pytest.raises(OverflowError):
            cache.get(("atom", n), build)
    assert len(cache._key_locks) == 0
    assert cache.get(("atom", 1), lambda: "built") == "built"  # the key still builds afterwards
