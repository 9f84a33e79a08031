"""A two-character keyword index. Most Chinese words are two characters
(台风, 济南, 高考), and the trigram index of 0004 cannot find a substring
shorter than three: such a keyword that few items contain was found by
reading every item (270 ms at 100k items on SQLite).

SQLite: an FTS5 table over every overlapping pair of characters of
items.search_text, written as space-separated two-character words for the
unicode61 tokenizer. Its external content is a view that computes them, and
triggers keep it, as 0004's do. Pairs are taken from the first
MAX_POSITIONS characters (title and a 200-character summary are far
shorter); a longer text is also indexed under OVERLONG, so a search always
reads it and never misses a match past the limit.

PostgreSQL: an immutable function giving the array of a text's pairs, and a
GIN index on it; a two-character keyword adds `feedsvc_bigrams(search_text)
@> ARRAY[word]`, which the planner answers from the index when few items
match. Built-in operators only: no extension needed.

Revision ID: 0005_bigram_index
Revises: 0004_search_index
"""

from alembic import op

revision = "0005_bigram_index"
down_revision = "0004_search_index"
branch_labels = None
depends_on = None

MAX_POSITIONS = 2000
OVERLONG = "feedsvcoverlong"  # a word no pair of characters can tokenize to


def _pairs(text: str) -> str:
    """SQL: the pairs of `text` (a column), in order, space-separated; the
    same expression wherever the index is written or deleted from, so FTS5
    removes exactly what it was given."""
    return (f"coalesce((SELECT group_concat(substr({text}, n, 2), ' ') FROM search_positions "
            f"WHERE n < length({text})), '') "
            f"|| CASE WHEN length({text}) > {MAX_POSITIONS + 1} THEN ' {OVERLONG}' ELSE '' END")


_SQLITE_UP = (
    "CREATE TABLE search_positions (n INTEGER PRIMARY KEY)",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < "
    f"{MAX_POSITIONS}) INSERT INTO search_positions SELECT n FROM r",
    f"CREATE VIEW items_bigram_text AS SELECT id, {_pairs('search_text')} AS bigrams FROM items",
    "CREATE VIRTUAL TABLE items_bigrams USING fts5(bigrams, content='items_bigram_text', content_rowid='id', "
    "tokenize='unicode61')",
    "CREATE TRIGGER items_bigrams_insert AFTER INSERT ON items BEGIN "
    f"INSERT INTO items_bigrams (rowid, bigrams) VALUES (new.id, {_pairs('new.search_text')}); END",
    "CREATE TRIGGER items_bigrams_delete AFTER DELETE ON items BEGIN "
    "INSERT INTO items_bigrams (items_bigrams, rowid, bigrams) "
    f"VALUES ('delete', old.id, {_pairs('old.search_text')}); END",
    "CREATE TRIGGER items_bigrams_update AFTER UPDATE OF search_text ON items BEGIN "
    "INSERT INTO items_bigrams (items_bigrams, rowid, bigrams) "
    f"VALUES ('delete', old.id, {_pairs('old.search_text')}); "
    f"INSERT INTO items_bigrams (rowid, bigrams) VALUES (new.id, {_pairs('new.search_text')}); END",
    "INSERT INTO items_bigrams (items_bigrams) VALUES ('rebuild')",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS items_bigrams_update",
    "DROP TRIGGER IF EXISTS items_bigrams_delete",
    "DROP TRIGGER IF EXISTS items_bigrams_insert",
    "DROP TABLE IF EXISTS items_bigrams",
    "DROP VIEW IF EXISTS items_bigram_text",
    "DROP TABLE IF EXISTS search_positions",
)
PG_INDEX = "ix_items_search_bigrams"
_PG_UP = (
    "CREATE OR REPLACE FUNCTION feedsvc_bigrams(t text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}') "
    "FROM generate_series(1, length(t) - 1) AS i $$",
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON items USING gin (feedsvc_bigrams(search_text))",
)
_PG_DOWN = (
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    "DROP FUNCTION IF EXISTS feedsvc_bigrams(text)",
)


def upgrade() -> None:
    name = op.get_bind().dialect.name
    for statement in _SQLITE_UP if name == "sqlite" else _PG_UP if name == "postgresql" else ():
        op.execute(statement)


def downgrade() -> None:
    name = op.get_bind().dialect.name
    for statement in _SQLITE_DOWN if name == "sqlite" else _PG_DOWN if name == "postgresql" else ():
        op.execute(statement)
