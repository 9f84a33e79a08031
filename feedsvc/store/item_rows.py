"""Reading items for feeds: the WHERE clauses of an ItemQuery, the columns a
feed reads, and what rows become.

A feed is read in two steps when its entries may already be rendered: the
narrow columns of every item it shows (an ItemRef: enough to know which
rendering to reuse and to fill the feed head), then whole rows only for the
items without one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection, Select, Text, cast, column, func, select, table
from sqlalchemy.dialects import postgresql

from feedsvc.core.models import ItemQuery, StoredItem
from feedsvc.store.schema import items

c = items.c
# What a StoredItem needs, and the revision; not the search columns.
ITEM_COLUMNS = (c.id, c.guid, c.url, c.source_id, c.title, c.summary, c.body_html, c.author, c.outlet, c.editors,
                c.published_at, c.published_precision, c.first_seen_at, c.updated_at, c.image_url, c.revision,
                c.author_email)
REF_COLUMNS = (c.id, c.revision, c.source_id, c.outlet, c.sort_at, c.updated_at)
# SQLite's keyword indexes over search_text, rowid = items.id: trigrams
# (migration 0004) and pairs of characters (0005).
items_fts = table("items_fts", column("rowid"), column("items_fts"))
items_bigrams = table("items_bigrams", column("rowid"), column("items_bigrams"))
TRIGRAM = 3
PAIR = 2
OVERLONG = "feedsvcoverlong"  # as in migration 0005: texts too long to index in full
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


def conditions(q: ItemQuery, index: str | None = None) -> list:
    """`index` (from keyword_index): "sqlite" reads the items SQLite's
    keyword index lists for q.text first; "postgresql" adds the pair-index
    condition a two-character keyword needs. The LIKE always stays: the
    indexes find a superset (they fold case more widely, and a pair index
    lists overlong texts whatever they hold)."""
    conds = []
    if q.outlets:
        conds.append(c.outlet.in_(list(q.outlets)))
    if q.source_id:
        conds.append(c.source_id == q.source_id)
    if q.text:
        found = c.search_text.contains(q.text, autoescape=True)
        if index == "sqlite":
            found = c.id.in_(_indexed_ids(q.text)) & found
        elif index == "postgresql":
            found = found & func.feedsvc_bigrams(c.search_text).op("@>")(
                cast(postgresql.array([q.text]), postgresql.ARRAY(Text)))
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
    """An FTS5 phrase: the word's trigrams (or its one pair) in a row, i.e.
    the substring. Inside quotes nothing is syntax but a doubled quote."""
    return '"' + word.replace('"', '""') + '"'


def pair_keyword(word: str) -> bool:
    """A keyword the two-character index looks up: two letters or digits,
    which the unicode61 tokenizer reads as one word, as it reads the pair
    in an indexed text."""
    return len(word) == PAIR and all(ch.isalnum() for ch in word)


def _indexed_ids(word: str) -> Select:
    """SQLite: ids of the items whose keyword index holds `word`, a superset
    of those containing it."""
    if len(word) >= TRIGRAM:
        return select(items_fts.c.rowid).where(items_fts.c.items_fts.match(_phrase(word)))
    return select(items_bigrams.c.rowid).where(items_bigrams.c.items_bigrams.match(f"{_phrase(word)} OR {OVERLONG}"))


def keyword_index(conn: Connection, word: str | None) -> str | None:
    """How to use the keyword indexes for `word`. On SQLite, "sqlite" when
    the index lists few items with it: then the query reads just those (and
    sorts them); a common word is found sooner by reading items newest
    first until the page is full, as without an index. On PostgreSQL the
    planner makes that choice itself; a two-character word only needs its
    pair-index condition ("postgresql")."""
    if not word or not (len(word) >= TRIGRAM or pair_keyword(word)):
        return None
    if conn.dialect.name == "postgresql":
        return "postgresql" if pair_keyword(word) else None
    if conn.dialect.name != "sqlite":
        return None
    hits = _indexed_ids(word).limit(RARE_MATCHES)
    rare = conn.execute(select(func.count()).select_from(hits.subquery())).scalar_one() < RARE_MATCHES
    return "sqlite" if rare else None


def feed_select(q: ItemQuery, columns=ITEM_COLUMNS, index: str | None = None) -> Select:
    """Newest first; items at the same time come newest-seen first. Gone
    items are never shown."""
    return (select(*columns).where(c.gone_at.is_(None), *conditions(q, index))
            .order_by(c.sort_at.desc(), c.id.desc()).limit(q.limit))


def newer_select(q: ItemQuery, than: tuple[datetime, int], count: int) -> Select:
    """The `count` items next newer than `than` (sort time, id), oldest
    first, under q's filters: what the page before q's shows."""
    at, item_id = than
    newer = (c.sort_at > at) | ((c.sort_at == at) & (c.id > item_id))
    return (select(*REF_COLUMNS).where(c.gone_at.is_(None), newer, *conditions(replace(q, before=None)))
            .order_by(c.sort_at.asc(), c.id.asc()).limit(count))


def stored(row) -> StoredItem:
    (seq, guid, url, source_id, title, summary, body_html, author, outlet, editors, published, precision,
     first_seen, updated, image, _revision, author_email) = row
    return StoredItem(guid=guid, url=url, source_id=source_id, title=title, summary=summary, body_html=body_html,
                      author=author, outlet=outlet, editors=tuple(editors or ()), published=published,
                      precision=precision, first_seen=first_seen, updated=updated, seq=seq, image=image,
                      author_email=author_email)


def ref_of(row) -> ItemRef:
    """The ref of a whole row (ITEM_COLUMNS)."""
    return ItemRef(row[0], row[15], row[3], row[8], row[10] or row[12], row[13])
