"""What every feed format needs besides its items."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from feedsvc.models import OUTLET_SCHEME, StoredItem  # noqa: F401 - OUTLET_SCHEME: renderers import it here
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
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


def local_time(value: datetime, item: StoredItem, meta: FeedMeta) -> datetime:
    return value.astimezone(meta.zones.get(item.source_id, DEFAULT_ZONE)).replace(microsecond=0)


def feed_updated(items: Sequence[StoredItem], when_empty: datetime | None = None) -> datetime:
    """The newest entry's updated; without entries `when_empty`, else now."""
    newest = max((i.updated for i in items), default=None) or when_empty or datetime.now(timezone.utc)
    return newest.replace(microsecond=0)


def image_type(url: str) -> str:
    guessed, _ = mimetypes.guess_type(url.split("?", 1)[0])
    return guessed if guessed and guessed.startswith("image/") else "image/jpeg"
