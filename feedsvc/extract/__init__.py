"""Automatic extraction: article fields and listings from a page nobody
wrote selectors for. Pure like the parsers: bytes in, dataclasses out.

Order of belief: structured data (JSON-LD, OpenGraph, <time>), then the
labelled lines around the headline (来源/作者/责任编辑), then page-wide
heuristics (text density for the body, repeated blocks for listings)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from feedsvc.extract.analysis import Extracted, analyse
from feedsvc.extract.listing import entries, find_groups, own_groups
from feedsvc.parsers.outlet_names import KnownOutlets, load_outlets
from feedsvc.extract.tree import strip_noise
from feedsvc.core.models import DEFAULT_ZONE, ListingEntry
from feedsvc.parsers.dom import canonical_url, load_document

__all__ = ["DEFAULT_ZONE", "Extracted", "KnownOutlets", "extract_listing", "extract_page", "load_outlets"]


def extract_page(data: bytes, url: str | None = None, *, zone: tzinfo | None = None, charset: str | None = None,
                 now: datetime | None = None, outlets: KnownOutlets | None = None) -> Extracted:
    """Every article field found in `data` (bytes in any encoding). `url`
    is where the page came from; `now` anchors relative times (3小时前).
    `outlets` recognises outlet names: the shipped directory by default;
    `load_outlets(paths, names)` adds a user's files and the names a store
    has seen."""
    return analyse(data, url, zone or DEFAULT_ZONE, charset, now, known=outlets).extracted


def extract_listing(data: bytes, url: str | None = None, *, zone: tzinfo | None = None, charset: str | None = None,
                    now: datetime | None = None) -> tuple[ListingEntry, ...]:
    """The entries of an index page's main listing, in page order (never
    its hot list of 排行/热点/热门 when it has another)."""
    root = load_document(data, url or "page", charset)
    base = canonical_url(root, url or "")
    strip_noise(root)
    return entries(own_groups(find_groups(root)), base, zone or DEFAULT_ZONE, now)
