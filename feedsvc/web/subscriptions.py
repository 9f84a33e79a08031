"""What the OPML subscription lists offer, at canonical feed URLs.

The outlet feeds partition the store (every item has one outlet), so
`/feeds.opml` lists only them: a reader subscribing to everything gets
each item once. The feeds that overlap them (everything, per source) are
in a second list."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from feedsvc.core.outlets import OutletDirectory
from feedsvc.render import OpmlOutline

OPML_OUTLETS_MAX = 500


def count_words(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def outlet_url(base: str, slug: str, fmt: str = "atom") -> str:
    """An outlet feed's canonical URL: by slug."""
    return f"{base}/feeds/outlet/{quote(slug)}.{fmt}"


def opml_groups(base: str, directory: OutletDirectory, recipes: Mapping) -> tuple[list, list]:
    """(outlet outlines, the other groups as (title, outlines))."""
    home = f"{base}/"
    # The outlets with the most items, at most OPML_OUTLETS_MAX: a reader
    # imports the whole file, and /api/outlets pages through the rest.
    biggest = sorted(directory, key=lambda o: -o.count)[:OPML_OUTLETS_MAX]
    outlets = [OpmlOutline(o.name, outlet_url(base, o.slug), home, count_words(o.count))
               for o in sorted(biggest, key=lambda o: o.name)]
    everything = [OpmlOutline("全部", f"{base}/feeds/all.atom", home)]
    # A start URL holding FEEDSVC_RECIPE_VARIABLES values (a private mirror, a key) is not published.
    sources = [OpmlOutline(r.name, f"{base}/feeds/source/{quote(r.id)}.atom",
                           None if r.placeholders_filled else r.start_urls[0]) for r in recipes.values()]
    return outlets, [("All items", everything), ("Sources", sources)]
