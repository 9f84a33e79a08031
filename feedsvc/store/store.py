"""The store: items deduplicated by canonical URL, and per-source state.

Every method that writes is one transaction. A refresh makes several, in
this order: all its items at once (`upsert_items`, nothing written when a
fetch fails first), then the links found gone (`mark_gone`), the pages'
HTTP validators (`save_validators`, one per page) and the source's
success and next run (`record_success`). A crash between them never leaves
half the items; at worst the source is refreshed again, which changes no
item that has not changed. Items are deleted only by retention (`prune`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection

from feedsvc.store import migrate, outlet_stats
from feedsvc.store.engine import make_engine
from feedsvc.core.errors import FeedsvcError
from feedsvc.store.item_merge import (CONTENT_FIELDS, cleaned, date_changes, derive_search_columns, merge_changes, new_row,
                                tally_change)
from feedsvc.store.item_rows import (ITEM_COLUMNS, REF_COLUMNS, ItemRef, feed_select, keyword_index, newer_select, ref_of,
                               stored)
from feedsvc.core.models import DETAIL_ARTICLE, ItemQuery, ItemRecord, StoredItem, UpsertResult
from feedsvc.store.outlet_stats import OutletStat, OutletTally
from feedsvc.store.updated_seconds import UpdatedSeconds
from feedsvc.store.schema import (http_validators, insert_if_absent, items, sources, store_secrets, store_settings,
                            store_state)
from feedsvc.core.xmlchars import strip_invalid


class SchemaOutOfDate(FeedsvcError):
    pass


def store_problem(exc: Exception) -> str:
    """One line for an operator on why the store cannot be used: the
    setting that names it and the driver's first line (which names the
    host, never the password)."""
    if isinstance(exc, FeedsvcError):
        return str(exc)
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (f"cannot use the store named by FEEDSVC_DATABASE_URL: "
            f"{lines[0].strip() if lines else type(exc).__name__}")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class SourceState:
    id: str
    name: str
    kind: str
    next_run_at: datetime | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_kind: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    lease_holder: str | None = None
    lease_expires_at: datetime | None = None
    read_stats: dict | None = None  # see Store.save_read_stats
    blocked_items: int = 0


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(make_engine(url))

    def upgrade_schema(self) -> str:
        """Run the migrations up to the newest; returns the revision."""
        return migrate.upgrade(self.engine)

    def check_schema(self) -> None:
        """Refuse to run on a schema older or newer than this code's."""
        current, head = migrate.current_revision(self.engine), migrate.head_revision()
        if current != head:
            raise SchemaOutOfDate(f"database schema is at revision {current or 'none'}, this feedsvc needs {head}: "
                                  f"run `feedsvc db upgrade`")

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def _writer(self):
        return self.engine.connect().execution_options(writer=True)

    # -- sources -----------------------------------------------------------

    def sync_sources(self, recipes: Iterable) -> None:
        """Make sure every recipe has a source row with its name and kind;
        keep their state. Nothing is written when nothing changed, so a
        process can start on a store it may only read."""
        with self.engine.connect() as conn:
            rows = {r.id: (r.name, r.kind) for r in conn.execute(select(sources.c.id, sources.c.name, sources.c.kind))}
        changed = [r for r in recipes if rows.get(r.id) != (r.name, r.kind)]
        if not changed:
            return
        with self._writer() as conn, conn.begin():
            known = {r.id for r in conn.execute(select(sources.c.id))}
            for recipe in changed:
                if recipe.id in known:
                    conn.execute(update(sources).where(sources.c.id == recipe.id)
                                 .values(name=recipe.name, kind=recipe.kind))
                else:
                    insert_if_absent(conn, sources, "id", dict(id=recipe.id, name=recipe.name, kind=recipe.kind,
                                                               consecutive_failures=0))

    def source_states(self) -> list[SourceState]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(sources).order_by(sources.c.id)).mappings()
            return [SourceState(**row) for row in rows]

    def source_state(self, source_id: str) -> SourceState | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(sources).where(sources.c.id == source_id)).mappings().first()
            return SourceState(**row) if row else None

    def source_item_counts(self) -> dict[str, int]:
        """Visible (not gone) items per source id; sources without any are absent."""
        query = (select(items.c.source_id, func.count()).where(items.c.gone_at.is_(None))
                 .group_by(items.c.source_id))
        with self.engine.connect() as conn:
            return {source_id: count for source_id, count in conn.execute(query)}

    def due_source_ids(self, now: datetime) -> list[str]:
        query = (select(sources.c.id)
                 .where((sources.c.next_run_at.is_(None)) | (sources.c.next_run_at <= now))
                 .order_by(sources.c.next_run_at.is_not(None), sources.c.next_run_at))
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def record_success(self, source_id: str, at: datetime, next_run_at: datetime) -> None:
        self._update_source(source_id, last_attempt_at=at, last_success_at=at, last_error=None,
                            last_error_kind=None, consecutive_failures=0, next_run_at=next_run_at)

    def record_failure(self, source_id: str, at: datetime, error: str, kind: str, next_run_at: datetime) -> int:
        """Record an error; returns the number of failures in a row. The
        message may quote what a site sent: control characters are dropped,
        as PostgreSQL refuses a NUL and the status pages show it."""
        error = strip_invalid(error)
        with self._writer() as conn, conn.begin():
            failures = conn.execute(select(sources.c.consecutive_failures)
                                    .where(sources.c.id == source_id)).scalar_one() + 1
            conn.execute(update(sources).where(sources.c.id == source_id).values(
                last_attempt_at=at, last_error=error, last_error_kind=kind, last_error_at=at,
                consecutive_failures=failures, next_run_at=next_run_at))
        return failures

    # -- leases: one refresh of a source at a time, across processes ----------

    def try_lease(self, source_id: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
        """Take the source's lease if it is free, expired or already ours.
        One conditional UPDATE: atomic on SQLite and PostgreSQL alike."""
        now = now or utcnow()
        free = (sources.c.lease_holder.is_(None) | (sources.c.lease_expires_at < now)
                | (sources.c.lease_holder == holder))
        with self._writer() as conn, conn.begin():
            taken = conn.execute(update(sources).where(sources.c.id == source_id, free)
                                 .values(lease_holder=holder, lease_expires_at=now + ttl)).rowcount
        return taken == 1

    def renew_leases(self, holder: str, source_ids: Sequence[str], ttl: timedelta,
                     now: datetime | None = None) -> int:
        """Extend the leases `holder` still has on `source_ids` (a heartbeat);
        one taken over by another process stays theirs. Returns how many."""
        now = now or utcnow()
        with self._writer() as conn, conn.begin():
            return conn.execute(update(sources).where(sources.c.id.in_(list(source_ids)),
                                                      sources.c.lease_holder == holder)
                                .values(lease_expires_at=now + ttl)).rowcount

    def release_lease(self, source_id: str, holder: str) -> None:
        with self._writer() as conn, conn.begin():
            conn.execute(update(sources).where(sources.c.id == source_id, sources.c.lease_holder == holder)
                         .values(lease_holder=None, lease_expires_at=None))

    def claim_due(self, holder: str, ttl: timedelta, source_ids: Sequence[str], limit: int,
                  now: datetime | None = None) -> list[str]:
        """Lease up to `limit` due sources for `holder`, oldest due first.
        Several schedulers share one schedule: each due source goes to one
        of them. PostgreSQL skips rows another claimer has locked; SQLite's
        writer lock makes the select-then-update atomic."""
        now = now or utcnow()
        due = (select(sources.c.id)
               .where(sources.c.id.in_(list(source_ids)),
                      sources.c.next_run_at.is_(None) | (sources.c.next_run_at <= now),
                      sources.c.lease_holder.is_(None) | (sources.c.lease_expires_at < now))
               .order_by(sources.c.next_run_at.is_not(None), sources.c.next_run_at).limit(limit))
        with self._writer() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            ids = list(conn.execute(due).scalars())
            if ids:
                conn.execute(update(sources).where(sources.c.id.in_(ids))
                             .values(lease_holder=holder, lease_expires_at=now + ttl))
        return ids

    def set_next_run(self, source_id: str, at: datetime) -> None:
        self._update_source(source_id, next_run_at=at)

    def _update_source(self, source_id: str, **values) -> None:
        with self._writer() as conn, conn.begin():
            conn.execute(update(sources).where(sources.c.id == source_id).values(**values))

    # -- items -------------------------------------------------------------

    def upsert_items(self, records: Sequence[ItemRecord], now: datetime | None = None, *,
                     outlets_max: int | None = None, default_outlet: str | None = None) -> UpsertResult:
        """Insert new items and merge what pages say about known ones, in
        one transaction. An item's updated time moves only when title,
        summary or body change (see item_merge.date_changes). Names are
        cleaned first (item_merge.cleaned); a source that already names
        `outlets_max` outlets gets no new one: such records go to
        `default_outlet`, and the names are in `outlets_refused`. An item
        that no page gave an outlet gets `default_outlet` too."""
        now = now or utcnow()
        result = UpsertResult()
        if not records:
            return result
        records = [cleaned(record) for record in records]
        with self._writer() as conn, conn.begin():
            records, result.outlets_refused = outlet_stats.hold_to_bound(conn, records, outlets_max, default_outlet)
            urls = list(dict.fromkeys(r.url for r in records))
            rows = {}
            for chunk in range(0, len(urls), 500):
                query = select(items).where(items.c.url.in_(urls[chunk:chunk + 500]))
                rows.update({row["url"]: dict(row) for row in conn.execute(query).mappings()})
            touched_new: set[str] = set()
            touched_updated: set[str] = set()
            tally = OutletTally()
            seconds = UpdatedSeconds(conn)
            for record in records:
                row = rows.get(record.url)
                if record.outlet is None and default_outlet and not (row and row["outlet"]):
                    # Every item has one outlet. Only an item with none takes the
                    # default: a page naming none must not undo an outlet another named.
                    record = replace(record, outlet=default_outlet)
                if row is None:
                    rows[record.url] = row = self._insert(conn, record, now, seconds)
                    touched_new.add(record.url)
                    result.outlets_changed.add(record.outlet)
                    tally.added(row["outlet"], row["id"])
                    continue
                changes = merge_changes(row, record)
                if not changes:
                    continue
                if any(name in changes for name in CONTENT_FIELDS):
                    result.outlets_changed.update({row["outlet"], changes.get("outlet")})
                    if record.url not in touched_new:
                        touched_updated.add(record.url)
                # An item first stored by this same write is as first seen.
                revised = record.url not in touched_new and record.detail == row["detail"]
                date_changes(row, changes, now, revised)
                if "updated_at" in changes:
                    seconds.moved(row["id"], row["updated_at"])
                    changes["updated_at"] = seconds.free(changes["updated_at"], downward=False, own=row["id"])
                tally_change(tally, row, changes)
                derive_search_columns(changes, {**row, **changes})
                conn.execute(update(items).where(items.c.id == row["id"])
                             .values(**changes, revision=items.c.revision + 1))
                row.update(changes)
            result.new, result.updated = len(touched_new), len(touched_updated)
            result.unchanged = len(urls) - result.new - result.updated
            result.outlets_changed.discard(None)
            tally.apply(conn)
            if result.new or result.updated:
                self._bump_version(conn)
        return result

    def _insert(self, conn: Connection, record: ItemRecord, now: datetime, seconds: UpdatedSeconds) -> dict:
        values = new_row(record, now)
        values["updated_at"] = seconds.free(values["updated_at"], downward=values["published_at"] is None)
        values["id"] = conn.execute(insert(items), values).inserted_primary_key[0]
        seconds.inserted(values["id"], values["updated_at"])
        return values

    def _bump_version(self, conn: Connection) -> None:
        changed = conn.execute(update(store_state).where(store_state.c.key == "version")
                               .values(value=store_state.c.value + 1)).rowcount
        if not changed:
            conn.execute(insert(store_state).values(key="version", value=1))

    def touch(self) -> None:
        """Count as changed, so every process renders its feeds again (after
        a recipe reload: source names and the OPML's sources)."""
        with self._writer() as conn, conn.begin():
            self._bump_version(conn)

    def version(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(store_state.c.value).where(store_state.c.key == "version")).scalar()
            return value or 0

    def query_items(self, query: ItemQuery | None = None, **fields) -> list[StoredItem]:
        """Newest first; items at the same time come newest-seen first.
        Gone items are never shown."""
        q = query or ItemQuery(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})
        with self.engine.connect() as conn:
            return [stored(row) for row in conn.execute(feed_select(q, index=keyword_index(conn, q.text)))]

    def query_feed(self, query: ItemQuery, lacking) -> list[tuple[ItemRef, StoredItem | None]]:
        """The items `query` selects, as refs, each with its whole item when
        `lacking(ref)` says the caller has no rendering of it. One read
        transaction: a feed whose entries are all rendered reads no texts."""
        with self.engine.connect() as conn:
            statement = feed_select(query, REF_COLUMNS, index=keyword_index(conn, query.text))
            refs = [ItemRef(*row) for row in conn.execute(statement)]
            wanted = [ref.seq for ref in refs if lacking(ref)]
            rows = {}
            for chunk in _chunks(wanted, 500):
                rows.update((row[0], row) for row in conn.execute(select(*ITEM_COLUMNS)
                                                                  .where(items.c.id.in_(chunk))))
        out: list[tuple[ItemRef, StoredItem | None]] = []
        for ref in refs:
            row = rows.get(ref.seq)
            if row is not None:
                out.append((ref_of(row), stored(row)))  # the row as read, should it have changed since
            elif ref.seq not in wanted:
                out.append((ref, None))
        return out

    def newer_refs(self, query: ItemQuery, than: ItemRef, count: int) -> list[ItemRef]:
        """Up to `count` items next newer than `than` under the query's
        filters, oldest first: where the page before a paged feed's starts."""
        with self.engine.connect() as conn:
            statement = newer_select(query, (than.sort_at, than.seq), count)
            return [ItemRef(*row) for row in conn.execute(statement)]

    # -- text facts about the store ------------------------------------------

    def setting(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(store_settings.c.value).where(store_settings.c.key == key)).scalar()

    def keep_setting(self, key: str, value: str, replace: bool = False) -> str:
        """Record `value` under `key` unless one is there (or `replace`);
        returns what the store holds, which a process starting at the same
        time may have written first."""
        with self._writer() as conn, conn.begin():
            if replace:
                conn.execute(update(store_settings).where(store_settings.c.key == key).values(value=value))
            insert_if_absent(conn, store_settings, "key", {"key": key, "value": value})
            return conn.execute(select(store_settings.c.value).where(store_settings.c.key == key)).scalar_one()

    def outlets(self) -> list[OutletStat]:
        """Every outlet with visible items: its item count, newest item
        time, first item id (the order outlets appeared in) and slug, by
        name. One row per outlet, kept as items change."""
        with self.engine.connect() as conn:
            return outlet_stats.read(conn)

    def rebuild_outlet_stats(self) -> None:
        """Count the outlets again from every item: after rows were written
        around the store (a bulk load)."""
        with self._writer() as conn, conn.begin():
            outlet_stats.rebuild(conn)

    def mark_gone(self, urls: Sequence[str], at: datetime) -> int:
        """Flag items whose page is gone (404/410); they leave the feeds but
        stay in the store. Returns how many were newly flagged."""
        if not urls:
            return 0
        with self._writer() as conn, conn.begin():
            tally = OutletTally()
            tally.removed_rows(conn, items.c.url.in_(list(urls)))
            changed = conn.execute(update(items).where(items.c.url.in_(list(urls)), items.c.gone_at.is_(None))
                                   .values(gone_at=at)).rowcount
            if changed:
                tally.apply(conn)
                self._bump_version(conn)
        return changed

    def article_urls(self, urls: Sequence[str], detail: int = DETAIL_ARTICLE) -> dict[str, bool]:
        """Which of `urls` are stored as read articles (not just listing
        entries; with `detail`, as read at least that fully), each mapped to
        whether it is gone."""
        found: dict[str, bool] = {}
        urls = list(dict.fromkeys(urls))
        with self.engine.connect() as conn:
            for chunk in range(0, len(urls), 500):
                query = (select(items.c.url, items.c.gone_at)
                         .where(items.c.url.in_(urls[chunk:chunk + 500]), items.c.detail >= detail))
                found.update({url: gone_at is not None for url, gone_at in conn.execute(query)})
        return found

    def validators(self, url: str, fingerprint: str | None = None) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) last seen for `url`, for a conditional GET;
        none when another recipe than `fingerprint`'s stored them, since
        what that recipe made of the page is not what this one would."""
        with self.engine.connect() as conn:
            row = conn.execute(select(http_validators.c.etag, http_validators.c.last_modified,
                                      http_validators.c.recipe_fingerprint)
                               .where(http_validators.c.url == url)).first()
        return (row[0], row[1]) if row and row[2] == fingerprint else (None, None)

    def save_validators(self, url: str, etag: str | None, last_modified: str | None, at: datetime,
                        fingerprint: str | None = None) -> None:
        values = dict(etag=etag, last_modified=last_modified, checked_at=at, recipe_fingerprint=fingerprint)
        with self._writer() as conn, conn.begin():
            changed = conn.execute(update(http_validators).where(http_validators.c.url == url)
                                   .values(**values)).rowcount
            if not changed:
                conn.execute(insert(http_validators).values(url=url, **values))

    def save_read_stats(self, source_id: str, stats: dict) -> None:
        """What the source's last refresh read: {"fields": {field: {origin:
        count}}, "pages_read": n, "page_failures": n}."""
        self._update_source(source_id, read_stats=stats)

    def prune(self, source_id: str, *, max_age: timedelta | None, max_items: int | None, keep_newest: int,
              now: datetime | None = None) -> int:
        """Delete a source's items older than `max_age`, except any that a
        default feed (all, per outlet, per source: the newest `keep_newest`
        each) still shows, and every item beyond its newest `max_items`:
        the cap is a bound on what the source holds, so it wins over the
        default feeds (else a source giving each item an outlet of its own
        would keep every item, each the newest of its outlet). Returns how
        many were deleted."""
        if max_age is None and max_items is None:
            return 0
        now = now or utcnow()
        with self._writer() as conn, conn.begin():
            doomed = set()
            if max_age is not None:
                doomed |= set(conn.execute(select(items.c.id).where(
                    items.c.source_id == source_id, items.c.sort_at < now - max_age)).scalars())
                doomed -= self._shown_by_default_feeds(conn, keep_newest)
            if max_items is not None:
                doomed |= set(conn.execute(select(items.c.id).where(items.c.source_id == source_id)
                                           .order_by(items.c.sort_at.desc(), items.c.id.desc())
                                           .offset(max_items)).scalars())
            self._delete_ids(conn, doomed)
        return len(doomed)

    def _shown_by_default_feeds(self, conn: Connection, limit: int) -> set[int]:
        visible = items.c.gone_at.is_(None)
        newest = (items.c.sort_at.desc(), items.c.id.desc())
        shown = set(conn.execute(select(items.c.id).where(visible).order_by(*newest).limit(limit)).scalars())
        # Which outlets and sources have feeds is read from their own tables,
        # not from a DISTINCT over every item.
        for column, values in ((items.c.outlet, outlet_stats.shown_names()), (items.c.source_id, select(sources.c.id))):
            for value in conn.execute(values).scalars():
                shown |= set(conn.execute(select(items.c.id).where(visible, column == value)
                                          .order_by(*newest).limit(limit)).scalars())
        return shown

    def count_items(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(items)).scalar_one()

    # -- rules and shared secrets ----------------------------------------------

    def set_blocked(self, source_id: str, count: int) -> None:
        """How many items the rules kept out at the source's last refresh
        that read any page (a total would count the same item each time)."""
        self._update_source(source_id, blocked_items=count)

    def item_records(self, source_id: str, after_id: int = 0, limit: int = 500) -> list[tuple[int, ItemRecord]]:
        """A source's stored items as records, by id, `limit` after `after_id`:
        what rules are applied to again."""
        query = (select(items.c.id, items.c.url, items.c.title, items.c.summary, items.c.body_html,
                        items.c.author, items.c.outlet, items.c.detail)
                 .where(items.c.source_id == source_id, items.c.id > after_id).order_by(items.c.id).limit(limit))
        with self.engine.connect() as conn:
            return [(row.id, ItemRecord(url=row.url, source_id=source_id, title=row.title, detail=row.detail,
                                        summary=row.summary, body_html=row.body_html, author=row.author,
                                        outlet=row.outlet)) for row in conn.execute(query)]

    def delete_items(self, ids: Sequence[int]) -> int:
        """Delete items by id (outlet counts follow); returns how many went."""
        with self._writer() as conn, conn.begin():
            return self._delete_ids(conn, ids)

    def _delete_ids(self, conn: Connection, ids) -> int:
        """Delete items by id inside the caller's transaction, outlet counts
        and the store version following."""
        deleted = 0
        tally = OutletTally()
        for chunk in _chunks(sorted(set(ids)), 500):
            tally.removed_rows(conn, items.c.id.in_(chunk))
            deleted += conn.execute(items.delete().where(items.c.id.in_(chunk))).rowcount
        if deleted:
            tally.apply(conn)
            self._bump_version(conn)
        return deleted

    def shared_secret(self, key: str, make) -> str:
        """The secret stored under `key`, made by `make()` and kept the first
        time any process asks: every process of this store gets the same."""
        with self.engine.connect() as conn:
            found = conn.execute(select(store_secrets.c.value).where(store_secrets.c.key == key)).scalar()
        if found is not None:
            return found
        with self._writer() as conn, conn.begin():
            insert_if_absent(conn, store_secrets, "key", {"key": key, "value": make()})
            return conn.execute(select(store_secrets.c.value).where(store_secrets.c.key == key)).scalar_one()


def _chunks(values: list, size: int):
    for start in range(0, len(values), size):
        yield values[start:start + size]
