"""A substring index on items.search_text, so a keyword (q=) that few items
contain is found without reading every item.

SQLite: an FTS5 table with the trigram tokenizer over items.search_text
(external content, rowid = items.id), kept by triggers. PostgreSQL: a
pg_trgm GIN index, which the planner uses for LIKE '%word%' by itself; when
the extension cannot be created (no privilege) the index is skipped and
keywords are matched by reading the items, as before.

Revision ID: 0004_search_index
Revises: 0003_perf
"""

import logging

from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0004_search_index"
down_revision = "0003_perf"
branch_labels = None
depends_on = None

log = logging.getLogger("feedsvc.store.migrate")  # Alembic loads this file under a made-up name

# External content: FTS5 stores only the index, and a 'delete' must be
# given the text that was indexed, which the triggers have as old.*.
_SQLITE_UP = (
    "CREATE VIRTUAL TABLE items_fts USING fts5(search_text, content='items', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN "
    "INSERT INTO items_fts (rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN "
    "INSERT INTO items_fts (items_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER items_fts_update AFTER UPDATE OF search_text ON items BEGIN "
    "INSERT INTO items_fts (items_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO items_fts (rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO items_fts (items_fts) VALUES ('rebuild')",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS items_fts_update",
    "DROP TRIGGER IF EXISTS items_fts_delete",
    "DROP TRIGGER IF EXISTS items_fts_insert",
    "DROP TABLE IF EXISTS items_fts",
)
PG_INDEX = "ix_items_search_trgm"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        try:
            # A savepoint: a refused CREATE EXTENSION must not abort the
            # migration's transaction.
            with bind.begin_nested():
                op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DBAPIError as exc:
            log.warning("search_index_skipped reason=%s", str(exc.orig).strip().splitlines()[0])
            return
        op.execute(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON items USING gin (search_text gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
