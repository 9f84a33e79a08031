"""The times feedsvc keeps and shows.

A stored time must lie in a plausible window, from 1970-01-01 to two days
ahead of now: a page or feed dated year 1 or 9999 is wrong, and such a
value overflows as soon as it is moved into another zone, so it never
enters the store. Times are shown with whole-minute offsets of a zone's
modern rules: a local mean time like Shanghai's +08:05:43 before 1901 is
no valid RFC 3339 offset and no reader expects it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Sites publish ahead of their own clock a little, and zones reach +14:00.
AHEAD = timedelta(days=2)
# What a reader gives for a time past what datetime can hold: outside the
# window either way, so the door turns it away like any other.
FAR_PAST = datetime.min.replace(tzinfo=timezone.utc)
FAR_FUTURE = datetime.max.replace(tzinfo=timezone.utc)
_MINUTE = timedelta(minutes=1)
# Standard time is the smaller offset of January and July (DST adds).
_MODERN_YEAR = 2000


def latest(now: datetime) -> datetime:
    return now + AHEAD


def plausible(value: datetime, now: datetime) -> bool:
    """Whether an aware `value` may be stored as a publication time.
    Comparing aware datetimes never converts them, so any value compares."""
    return EARLIEST <= value <= latest(now)


def window_text(now: datetime) -> str:
    return f"{EARLIEST.date().isoformat()} .. {latest(now).isoformat(timespec='minutes')}"


def describe(value: datetime) -> str:
    if value is FAR_PAST:
        return "before year 1"
    if value is FAR_FUTURE:
        return "after year 9999"
    return value.isoformat()


def shifted(start: datetime, delta: timedelta) -> datetime:
    """`start + delta`, or FAR_PAST/FAR_FUTURE when that is past what a
    datetime holds (a "999999 months ago")."""
    try:
        return start + delta
    except OverflowError:
        return FAR_PAST if delta < timedelta(0) else FAR_FUTURE


def modern_offset(zone: tzinfo) -> timedelta:
    offsets = [zone.utcoffset(datetime(_MODERN_YEAR, month, 1)) or timedelta(0) for month in (1, 7)]
    return min(offsets)


def _whole(offset: timedelta | None) -> bool:
    return offset is None or offset % _MINUTE == timedelta(0)


def in_zone(value: datetime, zone: tzinfo) -> datetime:
    """Wall-clock `value` (naive) as a time of `zone`, with a whole-minute
    offset: where the zone's rules give seconds (local mean time), its
    modern standard offset instead."""
    aware = value.replace(tzinfo=zone)
    if _whole(aware.utcoffset()):
        return aware
    return value.replace(tzinfo=timezone(modern_offset(zone)))


def shown_in(value: datetime, zone: tzinfo) -> datetime | None:
    """Aware `value` as `zone` shows it, whole seconds and a whole-minute
    offset; None when it cannot be shown there (it overflows year 1..9999)."""
    try:
        local = value.astimezone(zone)
        if not _whole(local.utcoffset()):
            local = value.astimezone(timezone(modern_offset(zone)))
    except (OverflowError, ValueError):
        return None
    return local.replace(microsecond=0)


def as_utc(value: datetime) -> datetime | None:
    """Aware `value` in UTC, or None when that overflows."""
    try:
        return value.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None
