"""Feed renderers: stored items and feed metadata in, bytes out. Pure,
but for the cache of rendered entries an app may hand in."""

from feedsvc.core.models import OUTLET_SCHEME
from feedsvc.render.formats import FORMATS, Format
from feedsvc.render.fragments import FragmentCache, render_feed
from feedsvc.render.json import JSON_TYPE, render_json
from feedsvc.render.meta import ATOM_TYPE, RSS_TYPE, FeedMeta, feed_updated
from feedsvc.render.opml import OPML_TYPE, OpmlOutline, render_opml
from feedsvc.render.xml import render_atom, render_rss

__all__ = ["ATOM_TYPE", "FORMATS", "JSON_TYPE", "OPML_TYPE", "OUTLET_SCHEME", "RSS_TYPE", "FeedMeta", "Format", "FragmentCache",
           "OpmlOutline", "feed_updated", "render_atom", "render_feed", "render_json", "render_opml", "render_rss"]
