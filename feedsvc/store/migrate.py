"""Schema migrations with Alembic, run through an open connection."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from feedsvc.core.errors import FeedsvcError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
FIRST_REVISION = "0001"
# Any constant: serializes concurrent upgrades on PostgreSQL.
_PG_LOCK_KEY = 746_581_001


# The keyword indexes (migrations 0004 and 0005) are made in SQL per
# backend; comparing a database with schema.py leaves them out.
_INDEX_TABLES = ("items_fts", "items_bigrams", "search_positions")
_INDEXES = ("ix_items_search_trgm", "ix_items_search_bigrams")


def in_schema(name, type_, _parent_names) -> bool:
    """Whether schema.py describes `name`."""
    if type_ == "table":
        return not (name or "").startswith(_INDEX_TABLES)
    if type_ == "index":
        return name not in _INDEXES
    return True


class UnknownSchema(FeedsvcError):
    """A store without a version whose tables are not any schema feedsvc made."""


# Revision 0001's tables and columns, and how a store made before
# migrations existed may lack some of them: the columns and tables added
# between the first release and 0001 (image_url and gone_at, then the
# search columns; http_validators), all nullable, so they can be added to
# an old store without inventing values. Anything else missing is a store
# feedsvc did not make.
_FIRST_COLUMNS = {
    "sources": {"id", "name", "kind", "next_run_at", "last_attempt_at", "last_success_at", "last_error",
                "last_error_kind", "last_error_at", "consecutive_failures"},
    "items": {"id", "guid", "url", "source_id", "title", "summary", "body_html", "author", "outlet", "editors",
              "image_url", "search_text", "author_keys", "published_at", "published_precision", "detail",
              "first_seen_at", "updated_at", "sort_at", "gone_at"},
    "http_validators": {"url", "etag", "last_modified", "checked_at"},
    "store_state": {"key", "value"},
}
_ADDABLE_COLUMNS = {("items", "image_url"): "TEXT", ("items", "gone_at"): "TIMESTAMP",
                    ("items", "search_text"): "TEXT", ("items", "author_keys"): "TEXT"}
_ADDABLE_TABLES = {
    "http_validators": "CREATE TABLE http_validators (url TEXT NOT NULL, etag TEXT, last_modified TEXT, "
                       "checked_at TIMESTAMP NOT NULL, CONSTRAINT pk_http_validators PRIMARY KEY (url))",
    "store_state": "CREATE TABLE store_state (key VARCHAR(64) NOT NULL, value INTEGER NOT NULL, "
                   "CONSTRAINT pk_store_state PRIMARY KEY (key))",
}


def _adopt_unversioned(conn) -> None:
    """Bring a store made before migrations existed to revision 0001 by
    its columns: add what the older releases lacked, or refuse (inside the
    caller's transaction, so a refusal changes nothing)."""
    inspector = inspect(conn)
    tables = set(inspector.get_table_names())
    missing_tables = [t for t in _FIRST_COLUMNS if t not in tables]
    refused = [t for t in missing_tables if t not in _ADDABLE_TABLES]
    absent: list[tuple[str, str]] = []
    for table, columns in _FIRST_COLUMNS.items():
        if table in tables:
            have = {c["name"] for c in inspector.get_columns(table)}
            absent += [(table, column) for column in sorted(columns - have)]
    refused += [f"{t}.{c}" for t, c in absent if (t, c) not in _ADDABLE_COLUMNS]
    if refused:
        raise UnknownSchema(f"the store has no schema version and is not one feedsvc made: it lacks "
                            f"{', '.join(refused)}; nothing was changed")
    for table in missing_tables:
        conn.execute(text(_ADDABLE_TABLES[table]))
    for table, column in absent:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {_ADDABLE_COLUMNS[(table, column)]}"))
    if ("items", "search_text") in absent or ("items", "author_keys") in absent:
        _fill_search_columns(conn)
    command.stamp(_config(conn), FIRST_REVISION)


def _fill_search_columns(conn) -> None:
    """What the store derives at each write, for items written before it did."""
    from feedsvc.store.search import author_keys, search_text

    rows = conn.execute(text("SELECT id, title, summary, author FROM items")).all()
    if rows:
        conn.execute(text("UPDATE items SET search_text = :text, author_keys = :keys WHERE id = :id"),
                     [{"id": row.id, "text": search_text(row.title, row.summary), "keys": author_keys(row.author)}
                      for row in rows])


def _config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    # Alembic reads every migration file to find it: once per process.
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Bring the schema to `revision`, in one transaction. A database made
    before migrations existed (tables, no alembic_version) is first brought
    to the initial revision by its columns, or refused (UnknownSchema).
    Safe to run from several processes at once."""
    with engine.connect().execution_options(writer=True) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        current = MigrationContext.configure(conn).get_current_revision()
        if current is not None and revision == "head" and current == head_revision():
            return current  # the usual start: nothing to run, no migration files to read
        tables = set(inspect(conn).get_table_names())
        if "items" in tables and "alembic_version" not in tables:
            _adopt_unversioned(conn)
        command.upgrade(_config(conn), revision)
        return MigrationContext.configure(conn).get_current_revision()
