"""Atom 1.0 and RSS 2.0 with feedgen."""

from __future__ import annotations

from collections.abc import Sequence

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feedsvc import __version__
from feedsvc.models import StoredItem
from feedsvc.render.meta import ATOM_TYPE, OUTLET_SCHEME, RSS_TYPE, FeedMeta, feed_updated, image_type, local_time


# feedgen builds un-namespaced elements under a literal xmlns attribute.
ATOM_LINK = "link"


class _AtomEntryLinks(BaseEntryExtension):
    """Writes an Atom entry's links itself: feedgen 1.0 drops their rel and
    type attributes, which would turn an enclosure into a second
    alternate link."""

    def __init__(self):
        self.links: list[dict[str, str]] = []

    def extend_atom(self, entry):
        for broken in entry.findall(ATOM_LINK):
            entry.remove(broken)
        for attrs in self.links:
            etree.SubElement(entry, ATOM_LINK, attrs)
        return entry


class _RssChannelLinks(BaseExtension):
    """atom:link elements in the RSS channel besides rel=self, which is all
    feedgen writes there: paging (next), the hub and the other formats."""

    def __init__(self):
        self.links: list[dict[str, str]] = []

    def extend_ns(self):
        return {"atom": "http://www.w3.org/2005/Atom"}

    def extend_rss(self, feed):
        channel = feed.find("channel")
        for attrs in self.links:
            etree.SubElement(channel, "{http://www.w3.org/2005/Atom}link", attrs)
        return feed


def _generator(meta: FeedMeta, items: Sequence[StoredItem], self_type: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.load_extension("media", atom=True, rss=True)
    fg.id(meta.feed_id)
    fg.title(meta.title)
    fg.subtitle(meta.subtitle or meta.title)
    fg.author({"name": meta.author})
    fg.register_extension("rss_links", _RssChannelLinks, None, atom=False, rss=True)
    fg.link(href=meta.self_url, rel="self", type=self_type)
    extra = [{"rel": "alternate", "type": t, "href": h} for t, h in meta.formats if t != self_type]
    if meta.next_url:
        extra.append({"rel": "next", "type": self_type, "href": meta.next_url})
    if meta.hub_url:
        extra.append({"rel": "hub", "href": meta.hub_url})
    for attrs in extra:
        fg.link(**attrs)
    fg.rss_links.links.extend(extra)
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
    entry.register_extension("atom_links", _AtomEntryLinks, atom=True, rss=False)
    entry.atom_links.links.append({"rel": "alternate", "type": "text/html", "href": item.url})
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
        entry.atom_links.links.append({"rel": "enclosure", "type": image_type(item.image), "href": item.image})
        entry.media.thumbnail({"url": item.image})


def _with_stylesheet(document: bytes, meta: FeedMeta) -> bytes:
    if not meta.stylesheet_url:
        return document
    declaration, _, rest = document.partition(b"?>")
    href = meta.stylesheet_url.replace("&", "&amp;").replace('"', "&quot;")
    return declaration + b'?>\n<?xml-stylesheet type="text/xsl" href="' + href.encode() + b'"?>' + rest


def render_atom(meta: FeedMeta, items: Sequence[StoredItem]) -> bytes:
    return _with_stylesheet(_generator(meta, items, ATOM_TYPE).atom_str(pretty=False, encoding="UTF-8"), meta)


def render_rss(meta: FeedMeta, items: Sequence[StoredItem]) -> bytes:
    return _with_stylesheet(_generator(meta, items, RSS_TYPE).rss_str(pretty=False, encoding="UTF-8"), meta)
