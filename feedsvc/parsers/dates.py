"""Publication times as Chinese and international pages write them.

A page's time without a zone is local to the recipe's zone. A page that
gives only a date keeps day precision, so nobody later mistakes the
00:00 we show for a real time."""

from __future__ import annotations

import re
from datetime import datetime, timezone, tzinfo
from email.utils import parsedate_to_datetime

from feedsvc.models import Timestamp

_NUMERIC = re.compile(
    r"(?P<y>(?:19|20)\d\d)\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[\sT]*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
)
_ISO_HINT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def _from_iso(text: str, zone: tzinfo) -> Timestamp | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return Timestamp(value, "second")


def _from_numeric(match: re.Match, zone: tzinfo) -> Timestamp | None:
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    try:
        if "H" not in parts:
            return Timestamp(datetime(parts["y"], parts["m"], parts["d"], tzinfo=zone), "day")
        value = datetime(parts["y"], parts["m"], parts["d"], parts["H"], parts["M"], parts.get("S", 0), tzinfo=zone)
    except ValueError:  # 2019-02-30 and friends
        return None
    return Timestamp(value, "second")


def parse_timestamp(text: str | None, zone: tzinfo) -> Timestamp | None:
    """The first date or date-time in `text`, or None if there is none."""
    if not text:
        return None
    text = text.strip()
    if _ISO_HINT.match(text):
        found = _from_iso(text, zone)
        if found:
            return found
    match = _NUMERIC.search(text)
    if match:
        return _from_numeric(match, zone)
    try:
        value = parsedate_to_datetime(text)  # RFC 2822, as in RSS
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return Timestamp(value, "second")


def utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)
