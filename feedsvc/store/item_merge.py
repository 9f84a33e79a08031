"""What a write does to a stored item: the row a new record becomes, and
the changes a record makes to a known one. The store applies them."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from feedsvc.core.models import FIRST_SEEN, ItemRecord
from feedsvc.store.outlet_stats import OutletTally
from feedsvc.parsers.text import OUTLET_NAME_MAX_CHARS, clean_name
from feedsvc.store.search import author_keys, search_text
from feedsvc.core.times import describe, plausible, window_text

# A change to these is a change readers see: it moves updated_at.
CONTENT_FIELDS = ("title", "summary", "body_html")
MERGED_FIELDS = ("title", "summary", "body_html", "author", "author_email", "outlet", "editors", "image_url",
                 "published_at", "published_precision")
# How one source read an item's outlet is kept from other sources' readings
# of it: overlapping feeds must not move each other's items between outlets.
SOURCE_OWNED_FIELDS = ("outlet",)


def entry_updated(published: datetime | None, first_seen: datetime, changed: datetime | None) -> datetime:
    """An entry's `updated`: the later of its published time (first seen
    when the page gave none) and its last content change after that, so an
    unchanged 2019 item says 2019 in both."""
    shown = published or first_seen
    return max(shown, changed) if changed else shown


def mint_guid(url: str) -> str:
    """Computed once at first insert and stored: later changes to URL
    handling must never change an id readers already have."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url)}"


def bounded(records: list[ItemRecord], now: datetime) -> tuple[list[ItemRecord], list[str]]:
    """The store's door for times: a record dated outside the plausible
    window (feedsvc.core.times) keeps its other fields and loses its time, with
    a warning naming it; the other records pass as they are."""
    kept, warnings = [], []
    for record in records:
        if record.published is not None and not plausible(record.published.value, now):
            warnings.append(f"{record.url}: publication time {describe(record.published.value)} is outside "
                            f"{window_text(now)}; stored without a time")
            record = replace(record, published=None)
        kept.append(record)
    return kept, warnings


def new_row(record: ItemRecord, now: datetime) -> dict:
    """The columns a record is inserted with (the store adds the id)."""
    values = record_values(record)
    if values["published_at"] is None:
        values["published_precision"] = FIRST_SEEN  # the store says the time shown is first seen
    values.update(guid=mint_guid(record.url), url=record.url, source_id=record.source_id, detail=record.detail,
                  first_seen_at=now, updated_at=values["published_at"] or now, sort_at=values["published_at"] or now,
                  search_text=search_text(values["title"], values["summary"]),
                  author_keys=author_keys(values["author"]))
    return values


def cleaned(record: ItemRecord) -> ItemRecord:
    """The record with its names cleaned (see clean_name): what is stored,
    counted and keyed is never a spoofable name."""
    names = (clean_name(name) for name in record.editors)
    return replace(record, title=clean_name(record.title) or record.url, author=clean_name(record.author) or None,
                   outlet=clean_name(record.outlet, OUTLET_NAME_MAX_CHARS) or None,
                   editors=tuple(name for name in names if name))


def record_values(record: ItemRecord) -> dict:
    published = record.published
    return {
        "title": record.title,
        "summary": record.summary,
        "body_html": record.body_html,
        "author": record.author,
        "author_email": record.author_email,
        "outlet": record.outlet,
        "editors": list(record.editors),
        "image_url": record.image,
        "published_at": published.value if published else None,
        "published_precision": published.precision if published else None,
    }


def merge_changes(row: dict, record: ItemRecord) -> dict:
    """Fields to change. A page with less detail than the stored item (a
    listing entry after the full article) only fills gaps."""
    incoming = record_values(record)
    outranks = record.detail >= row["detail"]
    other_source = record.source_id != row["source_id"]
    changes = {}
    for name in MERGED_FIELDS:
        new = incoming[name]
        if other_source and name in SOURCE_OWNED_FIELDS and row[name]:
            continue
        if new in (None, "", []) or new == row[name]:
            continue
        if outranks or row[name] in (None, "", []):
            changes[name] = new
    if "published_at" not in changes:
        changes.pop("published_precision", None)
    elif "published_precision" not in changes:
        changes["published_precision"] = incoming["published_precision"]
    if record.detail > row["detail"]:
        changes["detail"] = record.detail
    return changes


def date_changes(row: dict, changes: dict, now: datetime, revised: bool) -> None:
    """What `changes` do to the item's times: a content change is recorded
    as changed_at when it `revised` what readers were shown (the same kind
    of page saying something new; not the article read for the first time
    after its listing entry); the entry's updated follows published and
    changed_at; the feed order follows published."""
    if revised and any(name in changes for name in CONTENT_FIELDS):
        changes["changed_at"] = now
    if "published_at" in changes:
        changes["sort_at"] = changes["published_at"]
    if "changed_at" in changes or "published_at" in changes:
        merged = {**row, **changes}
        changes["updated_at"] = entry_updated(merged["published_at"], merged["first_seen_at"], merged.get("changed_at"))


def derive_search_columns(changes: dict, merged: dict) -> None:
    if "title" in changes or "summary" in changes:
        changes["search_text"] = search_text(merged["title"], merged["summary"])
    if "author" in changes:
        changes["author_keys"] = author_keys(merged["author"])


def tally_change(tally: OutletTally, row: dict, changes: dict) -> None:
    """What an update does to the outlet statistics: an item moving to
    another outlet, or to another time."""
    visible = row.get("gone_at") is None
    if "outlet" in changes:
        if visible:
            tally.removed(row["outlet"])
        tally.added(changes["outlet"], row["id"], visible)
    elif "sort_at" in changes and visible:
        tally.moved(row["outlet"])

