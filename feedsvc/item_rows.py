"""Reading items for feeds: the WHERE clauses of an ItemQuery, the columns a
feed reads, and what rows become.

A feed is read in two steps when its entries may already be rendered: the
narrow columns of every item it shows (an ItemRef: enough to know which
rendering to reuse and to fill the feed head), then whole rows only for the
items without one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Select, column, func, select, table

from feedsvc.models import ItemQuery, StoredItem
from feedsvc.schema import items

c = items.c
# What a StoredItem needs, and the revision; not the search columns.
ITEM_COLUMNS = (c.id, c.guid, c.url, c.source_id, c.title, c.summary, c.body_html, c.author, c.outlet, c.editors,
                c.published_at, c.published_precision, c.first_seen_at, c.updated_at, c.image_url, c.revision)
REF_COLUMNS = (c.id, c.revision, c.source_id, c.outlet, c.sort_at, c.updated_at)
# SQLite's trigram index over search_text (migration 0004); rowid = items.id.
items_fts = table("items_fts", column("rowid"), column("items_fts"))
TRIGRAM = 3
# Below this many items with the word, reading them all beats scanning in
# feed order (measured: bench/scale.py, keyword queries).
RARE_MATCHES = 1000


@dataclass(frozen=True, slots=True)
class ItemRef:
    """An item's identity and change stamp, without its texts. Has the
    fields feed heads and paging cursors read from items."""

    seq: int
    revision: int
    source_id: str
    outlet: str | None
    sort_at: datetime  # published, else first seen: the feed order
    updated: datetime

    # A paging cursor reads the sort time as `published or first_seen`.
    @property
    def published(self) -> datetime:
        return self.sort_at

    @property
    def first_seen(self) -> datetime:
        return self.sort_at


def conditions(q: ItemQuery, rare: bool = False) -> list:
    """`rare`: q.text is looked up in SQLite's trigram index first (see
    rare_keyword); the LIKE stays, as the index folds case more widely."""
    conds = []
    if q.outlets:
        conds.append(c.outlet.in_(list(q.outlets)))
    if q.source_id:
        conds.append(c.source_id == q.source_id)
    if q.text:
        found = c.search_text.contains(q.text, autoescape=True)
        if rare:
            found = c.id.in_(select(items_fts.c.rowid).where(items_fts.c.items_fts.match(_phrase(q.text)))) & found
        conds.append(found)
    conds.extend(~c.search_text.contains(word, autoescape=True) for word in q.excludes)
    if q.author:
        conds.append(c.author_keys.contains(f"|{q.author}|", autoescape=True))
    if q.since:
        conds.append(c.sort_at >= q.since)
    if q.until:
        conds.append(c.sort_at <= q.until)
    if q.before:
        at, item_id = q.before
        conds.append((c.sort_at < at) | ((c.sort_at == at) & (c.id < item_id)))
    return conds


def _phrase(word: str) -> str:
    """An FTS5 phrase: the word's trigrams in a row, i.e. the substring.
    Inside quotes nothing is syntax but a doubled quote."""
    return '"' + word.replace('"', '""') + '"'


def rare_keyword(conn: Connection, word: str | None) -> bool:
    """Whether SQLite's trigram index has few items with `word`: then the
    query reads just those (and sorts them); a common word is found sooner
    by reading items newest first until the page is full, as without an
    index. PostgreSQL's planner makes that choice by itself."""
    if conn.dialect.name != "sqlite" or not word or len(word) < TRIGRAM:
        return False
    hits = select(items_fts.c.rowid).where(items_fts.c.items_fts.match(_phrase(word))).limit(RARE_MATCHES)
    return conn.execute(select(func.count()).select_from(hits.subquery())).scalar_one() < RARE_MATCHES


def feed_select(q: ItemQuery, columns=ITEM_COLUMNS, rare: bool = False) -> Select:
    """Newest first; items at the same time come newest-seen first. Gone
    items are never shown."""
    return (select(*columns).where(c.gone_at.is_(None), *conditions(q, rare))
            .order_by(c.sort_at.desc(), c.id.desc()).limit(q.limit))


def stored(row) -> StoredItem:
    (seq, guid, url, source_id, title, summary, body_html, author, outlet, editors, published, precision,
     first_seen, updated, image, _revision) = row
    return StoredItem(guid=guid, url=url, source_id=source_id, title=title, summary=summary, body_html=body_html,
                      author=author, outlet=outlet, editors=tuple(editors or ()), published=published,
                      precision=precision, first_seen=first_seen, updated=updated, seq=seq, image=image)


def ref_of(row) -> ItemRef:
    """The ref of a whole row (ITEM_COLUMNS)."""
    return ItemRef(row[0], row[15], row[3], row[8], row[10] or row[12], row[13])
