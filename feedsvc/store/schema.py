"""Tables of the store, in SQLAlchemy Core, portable to SQLite and
PostgreSQL. Times are stored as UTC."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.types import TypeDecorator

# Named constraints, so migrations can refer to them on every backend.
metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, whatever the backend
    keeps (SQLite keeps no zone at all)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return value.replace(tzinfo=timezone.utc) if value is not None else None


sources = Table(
    "sources",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("next_run_at", UTCDateTime),
    Column("last_attempt_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_kind", String(32)),
    Column("last_error_at", UTCDateTime),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    # A process refreshing the source holds it until lease_expires_at; a
    # crashed holder's lease simply runs out.
    Column("lease_holder", Text),
    Column("lease_expires_at", UTCDateTime),
    # From the last refresh that read pages: fields by origin (selector,
    # extractor), linked pages read and failed. See feedsvc.extract.reading.
    Column("read_stats", JSON),
    # Items the rules kept out of the store (feedsvc.sources.rules), all time.
    Column("blocked_items", Integer, nullable=False, server_default="0"),
    Index("ix_sources_next_run_at", "next_run_at"),
)

items = Table(
    "items",
    metadata,
    # Insertion order doubles as first-seen order for same-time items.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guid", String(128), nullable=False, unique=True),
    Column("url", Text, nullable=False, unique=True),
    Column("source_id", String(64), ForeignKey("sources.id"), nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text),
    Column("body_html", Text),
    Column("author", Text),
    Column("author_email", Text),  # kept apart from the name: RSS <author> wants it
    Column("outlet", Text),
    Column("editors", JSON, nullable=False, default=list),
    Column("image_url", Text),
    # Folded title + summary, and '|name|name|' of the authors, for filters.
    Column("search_text", Text),
    Column("author_keys", Text),
    Column("published_at", UTCDateTime),
    Column("published_precision", String(8)),
    Column("detail", Integer, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    # The last change readers see (title, summary, body) after the item was
    # first seen; none while it is as first seen.
    Column("changed_at", UTCDateTime),
    # What feeds show as the entry's updated: the later of published (else
    # first seen) and changed_at (feedsvc.store.item_merge.entry_updated).
    Column("updated_at", UTCDateTime, nullable=False),
    # published_at when known, else first_seen_at: the feed order.
    Column("sort_at", UTCDateTime, nullable=False),
    # Set when the article's page answered 404/410: the item leaves the
    # feeds but stays in the store.
    Column("gone_at", UTCDateTime),
    # Moves on every change to the item: rendered entries are reused until it does.
    Column("revision", Integer, nullable=False, server_default="0"),
    Index("ix_items_sort", "sort_at", "id"),
    Index("ix_items_updated_at", "updated_at"),  # each item's updated is a second of its own
    Index("ix_items_outlet_sort", "outlet", "sort_at", "id"),
    Index("ix_items_source_sort", "source_id", "sort_at", "id"),
)

# HTTP validators per fetched URL, for conditional GET.
http_validators = Table(
    "http_validators",
    metadata,
    Column("url", Text, primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("checked_at", UTCDateTime, nullable=False),
    # The recipe that read the page (Recipe.fingerprint): validators are
    # only sent for the recipe that stored them.
    Column("recipe_fingerprint", String(32)),
)

# One row per setting-like fact, e.g. the store version that feed caches
# compare against.
store_state = Table(
    "store_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)

# Text facts about the store, e.g. the tagging authority of feed ids, fixed
# when the store is first started.
store_settings = Table(
    "store_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Secrets generated once and shared by every process of the store: the
# image proxy's signing key when FEEDSVC_SECRET_KEY is not set.
store_secrets = Table(
    "store_secrets",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# What the outlet directory shows, kept by the store as items change, so it
# is read without reading the items: visible (not gone) items, the newest
# one's sort time, the first item id ever stored (the order outlets appeared
# in, which decides slug suffixes) and the slug.
outlet_stats = Table(
    "outlet_stats",
    metadata,
    Column("name", Text, primary_key=True),
    Column("slug", Text),
    Column("item_count", Integer, nullable=False),
    Column("latest", UTCDateTime),
    Column("first_id", Integer, nullable=False),
    # A slug is handed out once and kept: unique, so a URL names one outlet.
    Index("ux_outlet_stats_slug", "slug", unique=True),
)

# Every outlet name each source has filed an item under, so a source can
# be held to FEEDSVC_OUTLETS_PER_SOURCE_MAX names.
source_outlets = Table(
    "source_outlets",
    metadata,
    Column("source_id", Text, primary_key=True),
    Column("outlet", Text, primary_key=True),
)


def insert_if_absent(conn, table: Table, key: str | list[str] | None, row: dict) -> None:
    """Insert `row` unless one with its `key` (a column or several; None:
    any unique column) exists: processes starting or writing at the same
    time may add the same row, and one of them wins."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    keys = [key] if isinstance(key, str) else key
    conn.execute(upsert(table).values(**row).on_conflict_do_nothing(index_elements=keys))
