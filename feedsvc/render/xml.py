"""Atom 1.0 and RSS 2.0 with feedgen."""

from __future__ import annotations

from collections.abc import Sequence

from feedgen.feed import FeedGenerator

from feedsvc import __version__
from feedsvc.models import StoredItem
from feedsvc.render.meta import ATOM_TYPE, OUTLET_SCHEME, RSS_TYPE, FeedMeta, feed_updated, image_type, local_time


def _generator(meta: FeedMeta, items: Sequence[StoredItem], self_type: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.load_extension("media", atom=True, rss=True)
    fg.id(meta.feed_id)
    fg.title(meta.title)
    fg.subtitle(meta.subtitle or meta.title)
    fg.author({"name": meta.author})
    fg.link(href=meta.self_url, rel="self", type=self_type)
    for media_type, href in meta.formats:
        if media_type != self_type:
            fg.link(href=href, rel="alternate", type=media_type)
    if meta.next_url:
        fg.link(href=meta.next_url, rel="next", type=self_type)
    if meta.hub_url:
        fg.link(href=meta.hub_url, rel="hub")
    # feedgen uses the last link as the RSS <link>: the human-readable page.
    fg.link(href=meta.alternate_url, rel="alternate", type="text/html")
    fg.generator("feedsvc", version=__version__)
    if meta.language:
        fg.language(meta.language)
    fg.updated(feed_updated(items))
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
        entry.published(local_time(item.published, item, meta))
    entry.updated(local_time(item.updated, item, meta))
    if item.image:
        # Length is unknown without fetching the image; 0 is the usual stand-in.
        entry.enclosure(item.image, "0", image_type(item.image))
        entry.media.thumbnail({"url": item.image})


def render_atom(meta: FeedMeta, items: Sequence[StoredItem]) -> bytes:
    return _generator(meta, items, ATOM_TYPE).atom_str(pretty=False, encoding="UTF-8")


def render_rss(meta: FeedMeta, items: Sequence[StoredItem]) -> bytes:
    return _generator(meta, items, RSS_TYPE).rss_str(pretty=False, encoding="UTF-8")
