"""The outlet statistics table, kept in step with the items by the store's
writes: each write transaction tallies what it did to which outlet and
applies it before committing, so the outlet directory is read from one row
per outlet instead of from every item.

Rows are applied in name order, so concurrent PostgreSQL writers touching
the same outlets take their row locks in the same order and never deadlock."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.engine import Connection

from feedsvc.core.models import ItemRecord
from feedsvc.store.schema import insert_if_absent, items, outlet_stats, source_outlets


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
        firsts = {}
        for name in names:
            if name not in known:
                first = self.first_ids.get(name)
                if first is None:  # a row the table missed: where it started
                    first = conn.execute(select(func.min(items.c.id)).where(items.c.outlet == name)).scalar() or 0
                firsts[name] = first
        slugs = plan_slugs(conn, firsts)
        for name in names:
            if name in firsts:
                _create(conn, name, firsts[name], slugs[name])
            newest = (select(items.c.sort_at).where(items.c.outlet == name, items.c.gone_at.is_(None))
                      .order_by(items.c.sort_at.desc()).limit(1).scalar_subquery())
            values: dict = {"item_count": outlet_stats.c.item_count + self.counts.get(name, 0),
                            "latest": newest}
            first = self.first_ids.get(name)
            if first is not None:
                values["first_id"] = case((outlet_stats.c.first_id > first, first), else_=outlet_stats.c.first_id)
            conn.execute(update(outlet_stats).where(outlet_stats.c.name == name).values(**values))


def _taken(conn: Connection, name: str) -> set[str]:
    """Slugs and names in use that `name`'s slug candidates could meet."""
    from feedsvc.core.outlets import slugify

    base = slugify(name)
    c = outlet_stats.c
    found = set()
    for column in (c.slug, c.name):
        # Slugs hold only [a-z0-9-], so the base needs no LIKE escaping.
        found.update(conn.execute(select(column).where((column == base) | column.like(f"{base}-%"))).scalars())
    return found


def plan_slugs(conn: Connection, firsts: dict[str, int]) -> dict[str, str]:
    """Slugs for names new to the table, handed out in the order the names
    first appeared (`firsts`: name → first item id), each the first of its
    candidates that no outlet, stored or new, uses as slug or name."""
    from feedsvc.core.outlets import free_slug

    planned: dict[str, str] = {}
    for name in sorted(firsts, key=lambda n: (firsts[n], n)):
        taken = _taken(conn, name) | set(planned.values()) | set(planned)  # the earlier names' slugs and names
        planned[name] = free_slug(name, taken)
    return planned


def _create(conn: Connection, name: str, first_id: int, slug: str) -> None:
    """The row of a name seen for the first time, with its slug for good.
    Rows are inserted in name order (see the module's docstring); should a
    PostgreSQL writer have taken the same slug meanwhile, the insert does
    nothing and the next free slug is tried."""
    from feedsvc.core.outlets import free_slug

    row = {"name": name, "item_count": 0, "latest": None, "first_id": first_id}
    exists = select(outlet_stats.c.name).where(outlet_stats.c.name == name)
    for _attempt in range(100):
        insert_if_absent(conn, outlet_stats, None, {**row, "slug": slug})
        if conn.execute(exists).first():
            return
        slug = free_slug(name, _taken(conn, name))
    raise RuntimeError(f"no free slug for outlet {name!r}")


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
    around the store). Rows and their slugs stay, counted afresh (an outlet
    whose items are all gone keeps its slug for when it comes back); names
    new to the table get their slugs in the order they first appeared."""
    visible = items.c.gone_at.is_(None)
    query = (select(items.c.outlet, func.sum(case((visible, 1), else_=0)),
                    func.max(case((visible, items.c.sort_at))), func.min(items.c.id))
             .where(items.c.outlet.is_not(None)).group_by(items.c.outlet).order_by(func.min(items.c.id)))
    counted = conn.execute(query).all()
    known = set(conn.execute(select(outlet_stats.c.name)).scalars())
    firsts = {name: first for name, _count, _latest, first in counted if name not in known}
    slugs = plan_slugs(conn, firsts)
    for name in sorted(firsts):
        _create(conn, name, firsts[name], slugs[name])
    conn.execute(update(outlet_stats).values(item_count=0, latest=None))
    c = outlet_stats.c
    for name, count, latest, first in counted:
        conn.execute(update(outlet_stats).where(c.name == name).values(item_count=count, latest=latest,
                                                                        first_id=first))


def hold_to_bound(conn: Connection, records: list[ItemRecord], limit: int | None,
                  default: str | None) -> tuple[list[ItemRecord], set[str]]:
    """Note the outlet names each source files items under; beyond `limit`
    names a source, a new name is not taken and its records go to
    `default` (the source's own outlet, or none), so a source that names a
    new outlet in every item cannot grow the outlet list without end.
    Returns the records and the names refused."""
    refused: set[tuple[str, str]] = set()
    c = source_outlets.c
    wanted: dict[str, dict[str, None]] = {}
    for record in records:
        if record.outlet is not None:
            wanted.setdefault(record.source_id, {})[record.outlet] = None
    for source_id, names in wanted.items():
        known = set(conn.execute(select(c.outlet).where(c.source_id == source_id, c.outlet.in_(list(names))))
                    .scalars())
        # The source's own outlet is always its to use, and not counted.
        counted = select(func.count()).select_from(source_outlets).where(c.source_id == source_id)
        count = conn.execute(counted.where(c.outlet != default) if default else counted).scalar()
        for name in names:
            if name in known:
                continue
            if limit is not None and count >= limit and name != default:
                refused.add((source_id, name))
                continue
            insert_if_absent(conn, source_outlets, ["source_id", "outlet"], {"source_id": source_id, "outlet": name})
            count += name != default
    if not refused:
        return records, set()
    held = [replace(r, outlet=default) if (r.source_id, r.outlet) in refused else r for r in records]
    return held, {name for _source, name in refused}
