"""`feedsvc db upgrade` on a store made before migrations existed: the
schema of the release that kept images, gone flags and HTTP validators but
no search columns (as create_all made it then), with items in it. The
upgrade brings it to head by its columns and the same items are served
afterwards; a store that is not one feedsvc made is refused, unchanged."""

from __future__ import annotations

from datetime import datetime

from click.testing import CliRunner
from sqlalchemy import inspect, text

from tests.support.checks import parse_strict
from feedsvc.store import migrate
from feedsvc.app import create_app
from feedsvc.cli.commands import main
from feedsvc.store.engine import make_engine

# What create_all made of that release's schema.py (no naming convention,
# no search columns), per backend.
_OLD_SCHEMA = (
    "CREATE TABLE sources (id VARCHAR(64) NOT NULL, name TEXT NOT NULL, kind VARCHAR(32) NOT NULL, "
    "next_run_at {ts}, last_attempt_at {ts}, last_success_at {ts}, last_error TEXT, last_error_kind VARCHAR(32), "
    "last_error_at {ts}, consecutive_failures INTEGER NOT NULL, PRIMARY KEY (id))",
    "CREATE TABLE items (id {serial} NOT NULL, guid VARCHAR(128) NOT NULL, url TEXT NOT NULL, "
    "source_id VARCHAR(64) NOT NULL, title TEXT NOT NULL, summary TEXT, body_html TEXT, author TEXT, outlet TEXT, "
    "editors JSON NOT NULL, image_url TEXT, published_at {ts}, published_precision VARCHAR(8), "
    "detail INTEGER NOT NULL, first_seen_at {ts} NOT NULL, updated_at {ts} NOT NULL, sort_at {ts} NOT NULL, "
    "gone_at {ts}, PRIMARY KEY (id), UNIQUE (guid), UNIQUE (url), FOREIGN KEY(source_id) REFERENCES sources (id))",
    "CREATE INDEX ix_items_sort ON items (sort_at, id)",
    "CREATE INDEX ix_items_outlet_sort ON items (outlet, sort_at, id)",
    "CREATE INDEX ix_items_source_sort ON items (source_id, sort_at, id)",
    "CREATE TABLE http_validators (url TEXT NOT NULL, etag TEXT, last_modified TEXT, checked_at {ts} NOT NULL, "
    "PRIMARY KEY (url))",
    "CREATE TABLE store_state (key VARCHAR(64) NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (key))",
)
GUIDS = [f"urn:uuid:00000000-0000-4000-8000-00000000000{n}" for n in range(3)]
TITLES = ["省政府召开常务会议", "济南地铁新线开通", "泰山景区迎来客流高峰"]


def _build_old_store(url: str, without: str | None = None) -> None:
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    types = {"ts": "DATETIME" if sqlite else "TIMESTAMP WITHOUT TIME ZONE", "serial": "INTEGER" if sqlite else "SERIAL"}
    with engine.begin() as conn:
        for statement in _OLD_SCHEMA:
            statement = statement.format(**types)
            if without:
                statement = statement.replace(f"{without}, ", "")
            conn.execute(text(statement))
        conn.execute(text("INSERT INTO store_state (key, value) VALUES ('version', 3)"))
        conn.execute(text("INSERT INTO sources (id, name, kind, consecutive_failures) VALUES ('old', '旧源', 'feed', 0)"))
        for n, (guid, title) in enumerate(zip(GUIDS, TITLES)):
            at = datetime(2026, 1, 1, 8 + n)
            conn.execute(text(
                "INSERT INTO items (guid, url, source_id, title, summary, author, outlet, editors, detail, "
                "first_seen_at, updated_at, sort_at, published_at) VALUES (:guid, :url, 'old', :title, '摘要', "
                "'张三、李四', '大众日报', '[]', 2, :at, :at, :at, :at)"),
                {"guid": guid, "url": f"https://news.example/{n}.html", "title": title, "at": at})
    engine.dispose()


def _recipes(tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "old.toml").write_text('id = "old"\nname = "旧源"\nkind = "feed"\n'
                                     'start_urls = ["https://news.example/feed.xml"]\n', encoding="utf-8")
    return folder


def test_db_upgrade_brings_an_unversioned_old_store_to_head(blank_database_url, tmp_path, monkeypatch):
    _build_old_store(blank_database_url)
    monkeypatch.setenv("FEEDSVC_DATABASE_URL", blank_database_url)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = make_engine(blank_database_url)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": blank_database_url,
                      "RECIPES_PATH": str(_recipes(tmp_path)), "TESTING": True})
    client = app.test_client()
    feed = parse_strict(client.get("/feeds/all.atom").data)
    assert sorted(e.id for e in feed.entries) == sorted(GUIDS)
    # The search columns the old store lacked were filled from its items.
    found = parse_strict(client.get("/feeds/all.atom?q=地铁").data)
    assert [e.id for e in found.entries] == [GUIDS[1]]
    by_author = parse_strict(client.get("/feeds/all.atom?author=李四").data)
    assert len(by_author.entries) == 3
    app.extensions["feedsvc"].store.engine.dispose()


def test_db_upgrade_refuses_a_store_feedsvc_did_not_make(blank_database_url, monkeypatch):
    _build_old_store(blank_database_url, without="published_precision VARCHAR(8)")
    monkeypatch.setenv("FEEDSVC_DATABASE_URL", blank_database_url)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code != 0
    assert "items.published_precision" in result.output and "Traceback" not in result.output, result.output
    engine = make_engine(blank_database_url)
    # Never half-way: no version, no added column.
    assert migrate.current_revision(engine) is None
    assert "search_text" not in {c["name"] for c in inspect(engine).get_columns("items")}
    engine.dispose()
