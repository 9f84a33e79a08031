"""What every feed format needs besides its items."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from feedsvc.models import DEFAULT_ZONE, StoredItem

# Categories carrying the outlet (来源) name use this scheme, so readers and
# tests can tell them from any other category.
OUTLET_SCHEME = "tag:feedsvc,2026:outlet"
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
    next_url: str | None = None  # older items (RFC 5005 paging)
    hub_url: str | None = None  # WebSub hub
    stylesheet_url: str | None = None  # XSLT that shows Atom/RSS as a page in browsers


def local_time(value: datetime, item: StoredItem, meta: FeedMeta) -> datetime:
    return value.astimezone(meta.zones.get(item.source_id, DEFAULT_ZONE)).replace(microsecond=0)


def feed_updated(items: Sequence[StoredItem]) -> datetime:
    """Newest change among the items shown."""
    return max((i.updated for i in items), default=datetime(1970, 1, 1, tzinfo=timezone.utc)).replace(microsecond=0)


def image_type(url: str) -> str:
    guessed, _ = mimetypes.guess_type(url.split("?", 1)[0])
    return guessed if guessed and guessed.startswith("image/") else "image/jpeg"
