"""Feed query parameters → an ItemQuery, with a 400-worthy error naming
the parameter for anything malformed. No Flask here: takes a MultiDict.

Every query value is read here into a bounded type (numbers of ASCII
digits within their range, durations up to MAX_DURATION, dates between
QUERY_EARLIEST and QUERY_LATEST, cursors as feeds write them), so no value
a client sends can overflow further down."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from feedsvc.core.models import DEFAULT_ZONE, ItemQuery, StoredItem
from feedsvc.core.outlets import OutletDirectory
from feedsvc.sources.rules import REGEX, compile_pattern
from feedsvc.core.folding import fold
from feedsvc.core.times import as_utc, in_zone

LIMIT_DEFAULT, LIMIT_MAX = 50, 500
PAGE_MAX = 100_000
QUERY_ZONE = DEFAULT_ZONE
CONVERSIONS = ("t2s", "s2t")
KNOWN = {"outlet", "source", "q", "exclude", "author", "since", "until", "limit", "before", "convert"}
_DURATION = re.compile(r"^([0-9]{1,7})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_DURATION = timedelta(days=100_000)  # some 270 years: further back than any item kept
# Dates a query may name, wide enough for any stored time (1970 onwards)
# and far from where datetime arithmetic overflows.
QUERY_EARLIEST = datetime(1000, 1, 1, tzinfo=timezone.utc)
QUERY_LATEST = datetime(3000, 1, 1, tzinfo=timezone.utc)
_MAX_TEXT = 200
_CURSOR_TEXT = re.compile(r"^[A-Za-z0-9_-]{1,120}$")
_CURSOR = re.compile(r"^([1-9][0-9]{0,18})\|([0-9T:.+-]{10,40})$")
MAX_SEQ = 2**63 - 1  # the largest id a store column holds


class QueryError(ValueError):
    def __init__(self, param: str, message: str):
        self.param = param
        super().__init__(f"{param}: {message}")


@dataclass(frozen=True)
class FeedRequest:
    items: ItemQuery
    convert: str | None
    outlet_names: tuple[str, ...]  # canonical names asked for, for the title


def _single(args, name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise QueryError(name, "give it once")
    return values[0] if values else None


def parse_number(param: str, raw: str | None, low: int, high: int, default: int) -> int:
    """A whole number of ASCII digits from `low` to `high` (`²` or `٣` are
    digits to str.isdigit, and not to int or to us)."""
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(high)) or not low <= int(raw) <= high:
        raise QueryError(param, f"must be a whole number from {low} to {high}, got {raw[:40]!r}")
    return int(raw)


def _limit(raw: str | None) -> int:
    return parse_number("limit", raw, 1, LIMIT_MAX, LIMIT_DEFAULT)


def _bounded(param: str, value: datetime, raw: str) -> datetime:
    in_utc = as_utc(value)
    if in_utc is None or not QUERY_EARLIEST <= in_utc < QUERY_LATEST:
        raise QueryError(param, f"must be between {QUERY_EARLIEST.date()} and {QUERY_LATEST.date()}, "
                                f"got {raw[:40]!r}")
    return in_utc


def parse_page(args) -> int:
    """`page` of a paged list (the index's and /api/outlets' outlets): 1 if
    not given."""
    raw = _single(args, "page")
    if raw is None:
        return 1
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= PAGE_MAX:
        raise QueryError("page", f"must be a whole number from 1 to {PAGE_MAX}, got {raw[:40]!r}")
    return int(raw)


def parse_time(param: str, raw: str | None, now: datetime, end_of_day: bool) -> datetime | None:
    """ISO date or date-time (the default zone when it has no zone; a bare
    date covers its whole day), or a duration back from now: 7d, 12h.
    Always a UTC time between QUERY_EARLIEST and QUERY_LATEST."""
    if raw is None:
        return None
    raw = raw.strip()
    match = _DURATION.match(raw)
    if match:
        back = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        if back > MAX_DURATION:
            raise QueryError(param, f"a duration of at most {MAX_DURATION.days}d, got {raw[:40]!r}")
        return _bounded(param, now - back, raw)
    try:
        if len(raw) == 10:
            day = datetime.strptime(raw, "%Y-%m-%d").date()
            return _bounded(param, in_zone(datetime.combine(day, time.max if end_of_day else time.min), QUERY_ZONE),
                            raw)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(param, f"expected a date (2019-10-23), a date-time (2019-10-23T08:00:00+08:00) "
                                f"or a duration (7d, 12h), got {raw[:40]!r}") from None
    return _bounded(param, value if value.tzinfo else in_zone(value, QUERY_ZONE), raw)


def _text(param: str, raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    if len(raw) > _MAX_TEXT:
        raise QueryError(param, f"at most {_MAX_TEXT} characters")
    if "\x00" in raw:  # no store keeps NUL in text; PostgreSQL refuses it outright
        raise QueryError(param, "must not contain NUL characters")
    return fold(raw.strip())


def _regex(param: str, raw: str | None) -> str | None:
    """A `regex:` value of q or exclude, checked now so a bad pattern is a
    400 naming the parameter; None for a plain keyword."""
    if raw is None or not raw.startswith(REGEX):
        return None
    if len(raw) > _MAX_TEXT:
        raise QueryError(param, f"at most {_MAX_TEXT} characters")
    try:
        compile_pattern(raw)
    except ValueError as exc:
        raise QueryError(param, str(exc)) from None
    return raw


def _split_filters(args) -> dict:
    """q and exclude: plain keywords for the store, `regex:` patterns apart."""
    q = _single(args, "q")
    excludes = args.getlist("exclude")
    pattern = _regex("q", q)
    exclude_patterns = tuple(p for p in (_regex("exclude", v) for v in excludes) if p)
    return {
        "text": None if pattern else _text("q", q),
        "excludes": tuple(t for t in (_text("exclude", v) for v in excludes if not v.startswith(REGEX)) if t),
        "patterns": (pattern,) if pattern else (),
        "exclude_patterns": exclude_patterns,
    }


def encode_cursor(item: StoredItem) -> str:
    raw = f"{item.seq}|{_sort_time(item).isoformat()}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _sort_time(item: StoredItem) -> datetime:
    return item.published or item.first_seen


def decode_cursor(raw: str) -> tuple[datetime, int]:
    """Strictly what encode_cursor writes: an id the store can hold and an
    aware time in the query window; anything else is the client's error."""
    refused = QueryError("before", "not a cursor from a feed's next link")
    if not _CURSOR_TEXT.match(raw):
        raise refused
    try:
        text = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True).decode("ascii")
        match = _CURSOR.match(text)
        if match is None or int(match.group(1)) > MAX_SEQ:
            raise refused
        value = datetime.fromisoformat(match.group(2))
    except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
        raise refused from None
    in_utc = as_utc(value) if value.tzinfo else None
    if in_utc is None or not QUERY_EARLIEST <= in_utc < QUERY_LATEST:
        raise refused
    return in_utc, int(match.group(1))


def known_args(args) -> list[tuple[str, str]]:
    """The parameters feeds understand, in a stable order. Others (cache
    busters, trackers some readers append) are ignored, not refused."""
    return sorted((k, v) for k, v in args.items(multi=True) if k in KNOWN)


def parse_feed_request(args, directory: OutletDirectory, now: datetime, *, outlet: str | None = None,
                       source_id: str | None = None, known_sources=()) -> FeedRequest:
    """`outlet`/`source_id` come from the URL path and combine with the
    query's own filters."""
    chosen = {}  # by slug: outlets asked for, each once
    for key in ([outlet] if outlet else []) + args.getlist("outlet"):
        found = directory.resolve(key)
        if found is None:
            raise QueryError("outlet", f"unknown outlet {key[:40]!r}; known: {directory.summary()}")
        chosen.setdefault(found.slug, found)
    names = [o.name for o in chosen.values()]
    members = tuple(m for o in chosen.values() for m in o.members)
    source = _single(args, "source")
    if source is not None and source not in known_sources:
        raise QueryError("source", f"unknown source {source[:40]!r}; known: {', '.join(sorted(known_sources))}")
    if source_id and source and source != source_id:
        raise QueryError("source", f"conflicts with the source {source_id!r} in the path")
    convert = _single(args, "convert")
    if convert is not None and convert not in CONVERSIONS:
        raise QueryError("convert", f"must be one of {', '.join(CONVERSIONS)}, got {convert[:40]!r}")
    before = _single(args, "before")
    items = ItemQuery(
        outlets=members,
        source_id=source_id or source,
        **_split_filters(args),
        author=_text("author", _single(args, "author")),
        since=parse_time("since", _single(args, "since"), now, end_of_day=False),
        until=parse_time("until", _single(args, "until"), now, end_of_day=True),
        before=decode_cursor(before) if before else None,
        limit=_limit(_single(args, "limit")),
    )
    return FeedRequest(items, convert, tuple(dict.fromkeys(names)))
