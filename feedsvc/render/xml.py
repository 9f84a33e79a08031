"""Regenerated feeds (Atom 1.0 and RSS 2.0) from stored items, with
feedgen. Pure: items and feed metadata in, bytes out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from feedgen.feed import FeedGenerator

from feedsvc import __version__
from feedsvc.models import StoredItem

# Categories carrying the outlet (来源) name use this scheme, so readers and
# tests can tell them from any other category.
OUTLET_SCHEME = "tag:feedsvc,2026:outlet"
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"


@dataclass(frozen=True)
class FeedMeta:
    feed_id: str
    title: str
    self_url: str
    alternate_url: str
    author: str  # feed-level author: the portal or recipe name, never an outlet
    subtitle: str | None = None
    language: str | None = None
    # Items are shown in their source's time zone, with its offset.
    zones: Mapping[str, ZoneInfo] = field(default_factory=dict)


def _local(value: datetime, item: StoredItem, meta: FeedMeta) -> datetime:
    return value.astimezone(meta.zones.get(item.source_id, DEFAULT_ZONE)).replace(microsecond=0)


def feed_updated(items: Sequence[StoredItem]) -> datetime:
    """Newest change among the items shown."""
    return max((i.updated for i in items), default=datetime(1970, 1, 1, tzinfo=timezone.utc))


def _generator(meta: FeedMeta, items: Sequence[StoredItem], self_type: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(meta.feed_id)
    fg.title(meta.title)
    fg.subtitle(meta.subtitle or meta.title)
    fg.author({"name": meta.author})
    fg.link(href=meta.self_url, rel="self", type=self_type)
    # feedgen uses the last link as the RSS <link>: the human-readable page.
    fg.link(href=meta.alternate_url, rel="alternate", type="text/html")
    fg.generator("feedsvc", version=__version__)
    if meta.language:
        fg.language(meta.language)
    fg.updated(feed_updated(items).replace(microsecond=0))
    for item in items:
        _add_entry(fg, item, meta)
    return fg


def _add_entry(fg: FeedGenerator, item: StoredItem, meta: FeedMeta) -> None:
    entry = fg.add_entry(order="append")
    entry.id(item.guid)
    entry.guid(item.guid, permalink=False)
    entry.title(item.title)
    entry.link(href=item.url, rel="alternate", type="text/html")
    if item.summary:
        entry.summary(item.summary)
    if item.body_html:
        entry.content(item.body_html, type="html")
    if item.author:
        entry.author({"name": item.author})
        entry.dc.dc_creator(item.author)
    if item.outlet:
        entry.category(term=item.outlet, scheme=OUTLET_SCHEME, label=item.outlet)
    if item.published:
        entry.published(_local(item.published, item, meta))
    entry.updated(_local(item.updated, item, meta))


def render_atom(meta: FeedMeta, items: Sequence[StoredItem]) -> bytes:
    return _generator(meta, items, ATOM_TYPE).atom_str(pretty=False, encoding="UTF-8")


def render_rss(meta: FeedMeta, items: Sequence[StoredItem]) -> bytes:
    return _generator(meta, items, RSS_TYPE).rss_str(pretty=False, encoding="UTF-8")
