"""Schema migrations with Alembic, run through an open connection."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

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


def _config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Bring the schema to `revision`. A database made before migrations
    existed (tables, no alembic_version) is first stamped as the initial
    revision. Safe to run from several processes at once."""
    with engine.connect().execution_options(writer=True) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        tables = set(inspect(conn).get_table_names())
        if "items" in tables and "alembic_version" not in tables:
            command.stamp(_config(conn), FIRST_REVISION)
        command.upgrade(_config(conn), revision)
        return MigrationContext.configure(conn).get_current_revision()
