"""Listings: a channel's index page, or the related list on an article."""

from __future__ import annotations

from datetime import tzinfo

from feedsvc.core.errors import RecipeMismatch
from feedsvc.core.models import Listing, ListingEntry
from feedsvc.parsers.dates import parse_timestamp
from feedsvc.parsers.dom import (
    absolute_http, canonical_url, element_text, link_of, load_document, select, select_one, text_of, time_text,
)
from feedsvc.parsers.labels import outlet_of, own_part
from feedsvc.parsers.text import shorten, strip_more_link
from feedsvc.sources.recipes import ListingSelectors


def _entry(element, selectors: ListingSelectors, base: str, zone: tzinfo) -> ListingEntry | None:
    title_el = select_one(element, selectors.title)
    title = element_text(title_el)
    href = link_of(select_one(element, selectors.link) if selectors.link else title_el)
    link = absolute_http(href, base)
    if not title or not link:
        return None
    return ListingEntry(
        title=title,
        link=link,
        href=href.strip(),
        summary=shorten(strip_more_link(text_of(element, selectors.summary))),
        outlet=outlet_of(text_of(element, selectors.outlet)),
        published=parse_timestamp(own_part(time_text(select_one(element, selectors.date)), "published"), zone),
    )


def extract_entries(root, selectors: ListingSelectors, base: str, zone: tzinfo) -> tuple[ListingEntry, ...]:
    """Entries in page order; an entry without title or link is skipped, and
    a link listed twice keeps its first entry."""
    entries: dict[str, ListingEntry] = {}
    for element in select(root, selectors.item):
        entry = _entry(element, selectors, base, zone)
        if entry is not None and entry.link not in entries:
            entries[entry.link] = entry
    return tuple(entries.values())


# Recipe field → ListingEntry attribute, for `required`.
_ENTRY_FIELDS = {"title": "title", "link": "link", "summary": "summary", "outlet": "outlet", "date": "published"}


def check_required(entries: tuple[ListingEntry, ...], selectors: ListingSelectors, url: str) -> None:
    """Raise RecipeMismatch when entries lack a field the recipe requires."""
    for name in selectors.required:
        missing = sum(getattr(e, _ENTRY_FIELDS[name]) in (None, "") for e in entries)
        if missing:
            raise RecipeMismatch(url, f"{missing} of {len(entries)} entries have no {name} "
                                      f"(selector {getattr(selectors, name)!r})")


def parse_listing(
    content: bytes,
    url: str,
    selectors: ListingSelectors,
    *,
    zone: tzinfo,
    charset: str | None = None,
    encoding: str | None = None,
) -> Listing:
    """A channel index. No entries at all, or entries without a required
    field, mean the recipe no longer fits the page: RecipeMismatch."""
    root = load_document(content, url, charset, encoding)
    canonical = canonical_url(root, url)
    entries = extract_entries(root, selectors, canonical, zone)
    if not entries:
        raise RecipeMismatch(url, f"no entries with a title and link for [listing] item {selectors.item!r} "
                                  f"and title {selectors.title!r}")
    check_required(entries, selectors, url)
    return Listing(url=canonical, entries=entries)
