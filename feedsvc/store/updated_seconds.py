"""Every item's updated time is a second no other item holds: readers and
validators (W3C DuplicateUpdated) take entries that share one updated for
copies. Pages often give only the day or the minute, and the items first
seen in one refresh share their time, so a time often has to move to the
nearest free second: later ones for a time from a page (a day's items stay
in their day), earlier ones for a first-seen time (never in the future).

One write reads the seconds in use an hour at a time, once, and keeps
them: a refresh of a thousand undated entries used to read the hour
around each entry again, a thousand rows each time."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.engine import Connection

from feedsvc.store.schema import items

_HOUR = 3600
_NEW = 0  # the holder of a second given to an item not inserted yet (ids start at 1)


def _second(at: datetime) -> int:
    return int(at.timestamp())


class UpdatedSeconds:
    """The updated seconds in use, as seen by one write transaction (which
    tells it what it changes)."""

    def __init__(self, conn: Connection):
        self._conn = conn
        self._holders: dict[int, set[int]] = defaultdict(set)
        self._hours_read: set[int] = set()
        self._left: set[tuple[int, int]] = set()  # (item id, second) given up, maybe not written yet

    def free(self, at: datetime, downward: bool, own: int | None = None) -> datetime:
        """`at` to the second, or the nearest second that no item but
        `own` holds, taken for the caller."""
        at = at.replace(microsecond=0)
        step = timedelta(seconds=-1 if downward else 1)
        while self._held_by_others(_second(at), own):
            at += step
        self._holders[_second(at)].add(_NEW if own is None else own)
        return at

    def inserted(self, item_id: int, at: datetime) -> None:
        """The item given `at` by free() is stored as `item_id`."""
        holders = self._holders[_second(at)]
        holders.discard(_NEW)
        holders.add(item_id)

    def moved(self, item_id: int, before: datetime) -> None:
        """`item_id` gives up `before`; call before free() finds its new one.
        An hour read later may still show it there (the update is written
        after free()): that row is passed over."""
        self._left.add((item_id, _second(before)))
        self._holders[_second(before)].discard(item_id)

    def _held_by_others(self, second: int, own: int | None) -> bool:
        self._read(second // _HOUR)
        return bool(self._holders.get(second, set()) - {own})

    def _read(self, hour: int) -> None:
        if hour in self._hours_read:
            return
        self._hours_read.add(hour)
        start = datetime.fromtimestamp(hour * _HOUR, timezone.utc)
        rows = self._conn.execute(select(items.c.id, items.c.updated_at).where(
            items.c.updated_at >= start, items.c.updated_at < start + timedelta(seconds=_HOUR)))
        for item_id, at in rows:
            if (item_id, _second(at)) not in self._left:
                self._holders[_second(at)].add(item_id)
