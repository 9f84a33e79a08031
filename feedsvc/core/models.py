"""Plain data passed between the layers: parsers produce these, the store
keeps them, the renderers read them. No behaviour lives here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

# The zone of times a page writes without one, unless a recipe names its own;
# also the zone of a feed query's bare dates. The only place it is written.
DEFAULT_ZONE_NAME = "Asia/Shanghai"
DEFAULT_ZONE = ZoneInfo(DEFAULT_ZONE_NAME)

# "second": the page gave a time of day; "day": it gave only a date, which
# feeds show at 00:00 in the recipe's time zone; "seen" (stored items only):
# no time was given, and feeds show the time the item was first seen.
Precision = Literal["second", "day", "seen"]
FIRST_SEEN: Precision = "seen"

# Categories carrying the outlet (来源) name use this scheme, so readers,
# tests and feedsvc reading its own feeds back can tell them from any other.
OUTLET_SCHEME = "tag:feedsvc,2026:outlet"

# How much of an item a page told us. A full article outranks a listing
# entry, so a listing seen later never overwrites what the article said.
DETAIL_LISTING = 0
DETAIL_ARTICLE = 1
# A feed entry completed from its own page (full_text): the feed's later
# copies of it only fill gaps, and its page is not read again as new.
DETAIL_PAGE = 2


@dataclass(frozen=True)
class Timestamp:
    value: datetime  # always time-zone aware
    precision: Precision = "second"


@dataclass(frozen=True)
class ListingEntry:
    """One entry of a listing: a channel index or a page's related list."""

    title: str
    link: str  # absolute, resolved against the page's canonical URL
    href: str  # as written in the page, for following from the fetched URL
    summary: str | None = None
    outlet: str | None = None
    published: Timestamp | None = None


@dataclass(frozen=True)
class Article:
    url: str  # canonical URL: the item's identity
    title: str
    outlet: str | None = None
    author: str | None = None
    published: Timestamp | None = None
    summary: str | None = None
    body_html: str | None = None
    body_text: str | None = None
    editors: tuple[str, ...] = ()
    language: str | None = None
    image: str | None = None  # lead image: first body image, else og:image
    related: tuple[ListingEntry, ...] = ()
    author_email: str | None = None  # a feed's author address, apart from the name


@dataclass(frozen=True)
class Listing:
    url: str  # canonical URL of the listing page
    entries: tuple[ListingEntry, ...] = ()


@dataclass(frozen=True)
class ItemRecord:
    """What one page says about one item, ready for the store."""

    url: str
    source_id: str
    title: str
    detail: int
    summary: str | None = None
    body_html: str | None = None
    author: str | None = None
    outlet: str | None = None
    editors: tuple[str, ...] = ()
    published: Timestamp | None = None
    image: str | None = None
    author_email: str | None = None


@dataclass(frozen=True)
class ItemQuery:
    """Which stored items a feed shows. Text fields are already folded
    (see feedsvc.store.search.fold); times are aware."""

    outlets: tuple[str, ...] = ()
    source_id: str | None = None
    text: str | None = None
    excludes: tuple[str, ...] = ()
    author: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: tuple[datetime, int] | None = None  # (sort time, id) of the last item already shown
    limit: int = 50
    # `regex:` filters of q and exclude (feedsvc.sources.rules), checked on title
    # and summary after the store's own conditions.
    patterns: tuple[str, ...] = ()
    exclude_patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredItem:
    """An item as the store holds it, for rendering."""

    guid: str
    url: str
    source_id: str
    title: str
    summary: str | None
    body_html: str | None
    author: str | None
    outlet: str | None
    editors: tuple[str, ...]
    published: datetime | None
    precision: Precision | None
    first_seen: datetime
    updated: datetime
    seq: int
    image: str | None = None
    author_email: str | None = None

    @property
    def shown_published(self) -> datetime:
        """What feeds show as published: the page's time, else first seen."""
        return self.published or self.first_seen


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    # Outlets of the items added or changed: their feeds changed.
    outlets_changed: set[str] = field(default_factory=set)
    # New outlet names not taken: the source names as many as it may.
    outlets_refused: set[str] = field(default_factory=set)


@dataclass
class RefreshReport:
    source_id: str
    # busy: another process holds the source's lease.
    status: Literal["ok", "error", "skipped", "busy"]
    new: int = 0
    updated: int = 0
    duration_seconds: float = 0.0
    error: str | None = None
    error_kind: str | None = None
    pages: int = 0
    warnings: list[str] = field(default_factory=list)
    outlets_changed: set[str] = field(default_factory=set)
    lease_holder: str | None = None  # for "busy": who is refreshing it, until when
    lease_expires_at: str | None = None

    def as_dict(self) -> dict:
        return {
            "source": self.source_id,
            "status": self.status,
            "new": self.new,
            "updated": self.updated,
            "duration_seconds": round(self.duration_seconds, 3),
            "pages": self.pages,
            "error": self.error,
            "error_kind": self.error_kind,
            "warnings": self.warnings,
            **({"lease_holder": self.lease_holder, "lease_expires_at": self.lease_expires_at}
               if self.status == "busy" else {}),
        }
