"""A feed as a web page, for a browser that opens a feed URL: the same
items, links to subscribe, and dates people read (a day-only item as its
date, times in the feed's zone). No XSLT: browsers are removing it."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from flask import render_template, request

from feedsvc.core.models import StoredItem
from feedsvc.render import ATOM_TYPE, JSON_TYPE, RSS_TYPE, FeedMeta
from feedsvc.render.meta import local_time, rendered_or_none

PAGE_TYPE = "text/html"
FORMAT_NAMES = {ATOM_TYPE: "Atom", RSS_TYPE: "RSS", JSON_TYPE: "JSON Feed"}


def wants_page() -> bool:
    """A browser: it prefers HTML to every feed type. Feed readers name
    feed or XML types, or only */*, or send no Accept, and get the feed."""
    accept = request.accept_mimetypes
    return accept[PAGE_TYPE] > max(accept[t] for t in (ATOM_TYPE, RSS_TYPE, JSON_TYPE, "application/xml"))


def _entry(item: StoredItem, meta: FeedMeta, zone: ZoneInfo) -> dict:
    published = item.shown_published
    if item.precision == "day":
        # A date is a day where the page was written, whatever the feed's zone.
        day = local_time(published, item, meta).date().isoformat()
        shown, machine = day, day
    else:
        local = published.astimezone(zone)
        shown, machine = local.strftime("%Y-%m-%d %H:%M"), local.replace(microsecond=0).isoformat()
    updated = None
    if item.updated > published:
        updated = item.updated.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return {"item": item, "shown": shown, "machine": machine, "updated": updated}


def render_page(meta: FeedMeta, items: Sequence[StoredItem], zone: ZoneInfo) -> bytes:
    # An item whose time cannot be shown is left out, as the feeds leave it out.
    found = (rendered_or_none(lambda item: _entry(item, meta, zone), i, "page") for i in items)
    entries = [entry for entry in found if entry is not None]
    return render_template("feed.html", meta=meta, entries=entries, zone=zone, language=meta.language or "zh-CN",
                           format_names=FORMAT_NAMES).encode("utf-8")
