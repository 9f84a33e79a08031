"""The outlet statistics table, kept in step with the items by the store's
writes: each write transaction tallies what it did to which outlet and
applies it before committing, so the outlet directory is read from one row
per outlet instead of from every item.

Rows are applied in name order, so concurrent PostgreSQL writers touching
the same outlets take their row locks in the same order and never deadlock."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from feedsvc.schema import insert_if_absent, items, outlet_stats


@dataclass(frozen=True)
class OutletStat:
    name: str
    count: int
    latest: datetime | None
    first_id: int
    slug: str | None = None  # None: not stored yet, romanized when the directory is built


@dataclass
class OutletTally:
    """What one write transaction did to each outlet."""

    counts: Counter = field(default_factory=Counter)  # visible items added (negative: removed)
    first_ids: dict[str, int] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)

    def added(self, outlet: str | None, item_id: int, visible: bool = True) -> None:
        if outlet is None:
            return
        self.touched.add(outlet)
        self.first_ids[outlet] = min(item_id, self.first_ids.get(outlet, item_id))
        if visible:
            self.counts[outlet] += 1

    def removed(self, outlet: str | None, how_many: int = 1) -> None:
        if outlet is None:
            return
        self.touched.add(outlet)
        self.counts[outlet] -= how_many

    def moved(self, outlet: str | None) -> None:
        """An item's sort time changed: the outlet's newest time may too."""
        if outlet is not None:
            self.touched.add(outlet)

    def removed_rows(self, conn: Connection, where) -> None:
        """Tally the visible items matching `where` before they are deleted
        or marked gone."""
        query = (select(items.c.outlet, func.count()).where(where, items.c.outlet.is_not(None),
                                                             items.c.gone_at.is_(None))
                 .group_by(items.c.outlet))
        for outlet, how_many in conn.execute(query):
            self.removed(outlet, how_many)

    def apply(self, conn: Connection) -> None:
        if not self.touched:
            return
        names = sorted(self.touched)
        known = set(conn.execute(select(outlet_stats.c.name).where(outlet_stats.c.name.in_(names))).scalars())
        for name in names:
            if name not in known:
                first = self.first_ids.get(name)
                if first is None:  # a row the table missed: where it started
                    first = conn.execute(select(func.min(items.c.id)).where(items.c.outlet == name)).scalar() or 0
                _create(conn, name, first)
            newest = (select(items.c.sort_at).where(items.c.outlet == name, items.c.gone_at.is_(None))
                      .order_by(items.c.sort_at.desc()).limit(1).scalar_subquery())
            values: dict = {"item_count": outlet_stats.c.item_count + self.counts.get(name, 0),
                            "latest": newest}
            first = self.first_ids.get(name)
            if first is not None:
                values["first_id"] = case((outlet_stats.c.first_id > first, first), else_=outlet_stats.c.first_id)
            conn.execute(update(outlet_stats).where(outlet_stats.c.name == name).values(**values))


def _create(conn: Connection, name: str, first_id: int) -> None:
    from feedsvc.outlets import slugify

    row = {"name": name, "slug": slugify(name), "item_count": 0, "latest": None, "first_id": first_id}
    insert_if_absent(conn, outlet_stats, "name", row)


def read(conn: Connection) -> list[OutletStat]:
    """Outlets with visible items, by name."""
    c = outlet_stats.c
    query = select(c.name, c.item_count, c.latest, c.first_id, c.slug).where(c.item_count > 0).order_by(c.name)
    return [OutletStat(*row) for row in conn.execute(query)]


def shown_names():
    """A query for the names of the outlets with visible items: those that have a feed."""
    return select(outlet_stats.c.name).where(outlet_stats.c.item_count > 0)


def rebuild(conn: Connection) -> None:
    """Count everything again from the items (after a bulk load that went
    around the store), keeping the slugs already handed out."""
    from feedsvc.outlets import slugify

    slugs = dict(conn.execute(select(outlet_stats.c.name, outlet_stats.c.slug)).all())
    visible = items.c.gone_at.is_(None)
    query = (select(items.c.outlet, func.sum(case((visible, 1), else_=0)),
                    func.max(case((visible, items.c.sort_at))), func.min(items.c.id))
             .where(items.c.outlet.is_not(None)).group_by(items.c.outlet))
    rows = [{"name": name, "item_count": count, "latest": latest, "first_id": first,
             "slug": slugs.get(name) or slugify(name)} for name, count, latest, first in conn.execute(query)]
    conn.execute(delete(outlet_stats))
    if rows:
        conn.execute(insert(outlet_stats), rows)
