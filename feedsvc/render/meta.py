"""What every feed format needs besides its items."""

from __future__ import annotations

import logging
import mimetypes
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TypeVar
from zoneinfo import ZoneInfo

from feedsvc.core.models import DEFAULT_ZONE, StoredItem
from feedsvc.core.times import as_utc, shown_in

ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"


@dataclass(frozen=True)
class FeedMeta:
    feed_id: str
    title: str
    self_url: str
    alternate_url: str  # the human-readable page
    author: str  # feed-level author: the portal or recipe name, never an outlet
    subtitle: str | None = None
    language: str | None = None
    # Items are shown in their source's time zone, with its offset.
    zones: Mapping[str, ZoneInfo] = field(default_factory=dict)
    # The same feed in the other formats: (media type, URL).
    formats: Sequence[tuple[str, str]] = ()
    # RFC 5005 section 3 paging: the newest page, older items, newer items.
    first_url: str | None = None
    next_url: str | None = None
    previous_url: str | None = None
    hub_url: str | None = None  # WebSub hub
    # The feed's updated when it shows no entry: when its sources were last
    # refreshed (never 1970).
    updated_when_empty: datetime | None = None
    stylesheet_url: str | None = None  # XSLT that shows Atom/RSS as a page in browsers


log = logging.getLogger(__name__)
T = TypeVar("T")
_LOGGED_MAX = 4096


class UnshowableTime(ValueError):
    """A stored time that cannot be written in its source's zone."""


def local_time(value: datetime, item: StoredItem, meta: FeedMeta) -> datetime:
    shown = shown_in(value, meta.zones.get(item.source_id, DEFAULT_ZONE))
    if shown is None:
        raise UnshowableTime(f"{value.isoformat()} cannot be shown in the source's zone")
    return shown


def feed_updated(items: Iterable[StoredItem], when_empty: datetime | None = None) -> datetime:
    """The newest entry's updated (among those whose time converts);
    without entries `when_empty`, else now: never 1970."""
    times = [t for t in (as_utc(i.updated) for i in items) if t is not None]
    newest = max(times, default=None) or when_empty or datetime.now(timezone.utc)
    return newest.replace(microsecond=0)


class _Logged:
    """Items already logged as unrenderable: each is logged once, not on
    every request that renders its feed."""

    def __init__(self):
        self._seen: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, key) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = True
            while len(self._seen) > _LOGGED_MAX:
                self._seen.popitem(last=False)
            return True


_logged = _Logged()


def rendered_or_none(render: Callable[[StoredItem], T], item: StoredItem, what: str) -> T | None:
    """`render(item)`, or None when it fails: one stored value must not
    take a whole feed (or page) down. The item is left out and logged once."""
    try:
        return render(item)
    except Exception as exc:  # noqa: BLE001 - any failure of one item is that item's
        if _logged.first_time((what, item.guid, item.seq, item.updated)):
            log.warning("item_left_out what=%s guid=%s source=%s error_kind=%s error=%s", what, item.guid,
                        item.source_id, type(exc).__name__, exc)
        return None


def image_type(url: str) -> str:
    guessed, _ = mimetypes.guess_type(url.split("?", 1)[0])
    return guessed if guessed and guessed.startswith("image/") else "image/jpeg"
