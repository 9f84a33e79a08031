"""Alembic migrations: from empty, from the previous revision, and from a
database made before migrations existed; and they match schema.py."""

from __future__ import annotations

from datetime import datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from feedsvc.store import migrate
from feedsvc.store.schema import metadata
from feedsvc.store.engine import make_engine
from feedsvc.store.store import Store
from tests.support.stores import create_database, drop_database, empty_store


def _insert_item(engine) -> None:
    now = datetime(2026, 1, 1)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sources (id, name, kind, consecutive_failures) VALUES ('s', 'S', 'feed', 0)"))
        conn.execute(text(
            "INSERT INTO items (guid, url, source_id, title, editors, detail, first_seen_at, updated_at, sort_at) "
            "VALUES ('urn:uuid:kept', 'https://p/1', 's', '旧的', '[]', 1, :now, :now, :now)"), {"now": now})


def test_upgrade_from_empty_matches_the_schema(blank_database_url):
    engine = make_engine(blank_database_url)
    assert migrate.upgrade(engine) == migrate.head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_name": migrate.in_schema}), metadata)
    # SQLite reflects JSON and DateTime loosely; only real differences count.
    assert [d for d in diff if d[0] not in ("modify_type",)] == []
    assert migrate.upgrade(engine) == migrate.head_revision()  # idempotent
    engine.dispose()


def test_upgrade_from_the_previous_revision_keeps_items(blank_database_url):
    engine = make_engine(blank_database_url)
    migrate.upgrade(engine, "0001")
    _insert_item(engine)
    migrate.upgrade(engine)
    store = Store(engine)
    [item] = store.query_items()
    assert (item.guid, item.title) == ("urn:uuid:kept", "旧的")
    assert store.source_state("s").lease_holder is None
    engine.dispose()


def test_a_database_from_before_migrations_upgrades_in_place(blank_database_url):
    engine = make_engine(blank_database_url)
    migrate.upgrade(engine, "0001")
    _insert_item(engine)
    with engine.begin() as conn:  # as create_all left it: tables, no version table
        conn.execute(text("DROP TABLE alembic_version"))
    assert migrate.current_revision(engine) is None
    Store(engine).upgrade_schema()
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert [i.guid for i in Store(engine).query_items()] == ["urn:uuid:kept"]
    engine.dispose()


def test_postgres_store_refuses_an_old_schema(pg_database, tmp_path):
    import pytest

    from tests.support.stores import reset_postgres
    from feedsvc.app import create_app
    from feedsvc.store.store import SchemaOutOfDate

    reset_postgres(pg_database)
    engine = make_engine(pg_database)
    migrate.upgrade(engine, "0001")
    engine.dispose()
    folder = tmp_path / "feeds"
    folder.mkdir()
    with pytest.raises(SchemaOutOfDate, match="feedsvc db upgrade"):
        create_app({"INSTANCE_PATH": str(tmp_path), "RECIPES_PATH": str(folder), "DATABASE_URL": pg_database})


def test_db_upgrade_command(pg_database, monkeypatch):
    from click.testing import CliRunner

    from tests.support.stores import reset_postgres
    from feedsvc.cli.commands import main

    reset_postgres(pg_database)
    monkeypatch.setenv("FEEDSVC_DATABASE_URL", pg_database)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert migrate.head_revision() in result.output
    engine = make_engine(pg_database)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_0008_dates_follow_the_rule_and_every_item_gets_an_outlet(blank_database_url):
    """Rows an older feedsvc wrote: updated = first seen for an item never
    changed, later for one that changed; no outlet where the page gave none."""
    engine = make_engine(blank_database_url)
    migrate.upgrade(engine, "0005_bigram_index")
    seen, published, changed = datetime(2026, 1, 1), datetime(2019, 10, 23), datetime(2026, 2, 1)
    rows = [("unchanged", published, seen, None), ("changed", published, changed, "鲁网"),
            ("timeless", None, seen, "鲁网")]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sources (id, name, kind, consecutive_failures) VALUES ('s', 'S', 'feed', 0)"))
        for name, pub, updated, outlet in rows:
            conn.execute(text(
                "INSERT INTO items (guid, url, source_id, title, editors, detail, first_seen_at, updated_at, sort_at, "
                "published_at, published_precision, outlet) VALUES (:guid, :url, 's', 't', '[]', 1, :seen, :updated, "
                ":sort, :pub, :precision, :outlet)"),
                {"guid": f"urn:{name}", "url": f"https://p/{name}", "seen": seen, "updated": updated,
                 "sort": pub or seen, "pub": pub, "precision": "second" if pub else None, "outlet": outlet})
    migrate.upgrade(engine)
    store = Store(engine)
    items = {i.guid.removeprefix("urn:"): i for i in store.query_items()}
    assert items["unchanged"].updated.replace(tzinfo=None) == published
    assert items["unchanged"].outlet == "S"  # its source's name
    assert items["changed"].updated.replace(tzinfo=None) == changed
    assert items["timeless"].updated.replace(tzinfo=None) == seen and items["timeless"].precision == "seen"
    assert {o.name: o.count for o in store.outlets()} == {"S": 1, "鲁网": 2}
    with engine.connect() as conn:  # an existing store keeps the authority its feed ids had
        assert conn.execute(text("SELECT value FROM store_settings")).scalar_one() == "feedsvc,2026"
    engine.dispose()


def _contents(url: str) -> dict:
    """Every row of every table, and where PostgreSQL's id counters stand
    (SQLite's ids follow the largest one stored)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        names = inspect(conn).get_table_names()
        contents = {name: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr) for name in names}
        if conn.dialect.name == "postgresql":
            contents["counters"] = sorted(conn.execute(text(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")).all())
    engine.dispose()
    return contents


def test_the_empty_store_tests_start_from_is_a_freshly_migrated_one(database_url, tmp_path):
    # Tests get their empty store copied or emptied, not migrated (tests.support.stores.empty_store).
    _insert_item(engine := make_engine(database_url))
    engine.dispose()
    assert _contents(database_url)["items"]
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite3'}" if database_url.startswith("sqlite") else create_database()
    try:
        migrate.upgrade(engine := make_engine(fresh))
        engine.dispose()
        assert _contents(empty_store(database_url)) == _contents(fresh)
    finally:
        if not fresh.startswith("sqlite"):
            drop_database(fresh)
