"""Feed query parameters → an ItemQuery, with a 400-worthy error naming
the parameter for anything malformed. No Flask here: takes a MultiDict."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from feedsvc.models import ItemQuery, StoredItem
from feedsvc.outlets import OutletDirectory
from feedsvc.rules import REGEX, compile_pattern
from feedsvc.search import fold

LIMIT_DEFAULT, LIMIT_MAX = 50, 500
QUERY_ZONE = ZoneInfo("Asia/Shanghai")
CONVERSIONS = ("t2s", "s2t")
KNOWN = {"outlet", "source", "q", "exclude", "author", "since", "until", "limit", "before", "convert"}
_DURATION = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_MAX_TEXT = 200


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


def _limit(raw: str | None) -> int:
    if raw is None:
        return LIMIT_DEFAULT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= LIMIT_MAX:
        raise QueryError("limit", f"must be a whole number from 1 to {LIMIT_MAX}, got {raw[:40]!r}")
    return int(raw)


def parse_time(param: str, raw: str | None, now: datetime, end_of_day: bool) -> datetime | None:
    """ISO date or date-time (Asia/Shanghai when it has no zone; a bare
    date covers its whole day), or a duration back from now: 7d, 12h."""
    if raw is None:
        return None
    raw = raw.strip()
    match = _DURATION.match(raw)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        if len(raw) == 10:
            day = datetime.strptime(raw, "%Y-%m-%d").date()
            return datetime.combine(day, time.max if end_of_day else time.min, QUERY_ZONE)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(param, f"expected a date (2019-10-23), a date-time (2019-10-23T08:00:00+08:00) "
                                f"or a duration (7d, 12h), got {raw[:40]!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=QUERY_ZONE)


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
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        seq, at = text.split("|", 1)
        value = datetime.fromisoformat(at)
        if value.tzinfo is None:
            raise ValueError
        return value.astimezone(timezone.utc), int(seq)
    except (ValueError, UnicodeDecodeError):
        raise QueryError("before", "not a cursor from a feed's next link") from None


def known_args(args) -> list[tuple[str, str]]:
    """The parameters feeds understand, in a stable order. Others (cache
    busters, trackers some readers append) are ignored, not refused."""
    return sorted((k, v) for k, v in args.items(multi=True) if k in KNOWN)


def parse_feed_request(args, directory: OutletDirectory, now: datetime, *, outlet: str | None = None,
                       source_id: str | None = None, known_sources=()) -> FeedRequest:
    """`outlet`/`source_id` come from the URL path and combine with the
    query's own filters."""
    names: list[str] = []
    for key in ([outlet] if outlet else []) + args.getlist("outlet"):
        found = directory.resolve(key)
        if found is None:
            raise QueryError("outlet", f"unknown outlet {key[:40]!r}; known: {', '.join(o.name for o in directory)}")
        names.append(found.name)
    members = tuple(m for name in dict.fromkeys(names) for m in directory.resolve(name).members)
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
