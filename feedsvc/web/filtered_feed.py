"""Feeds filtered by `regex:` patterns (q=regex:…, exclude=regex:…). No
store can run RE2, so the items the store's own conditions select are read
newest first, a batch at a time, and matched here, up to a bounded number
of items read: a pattern matching nothing costs at most that scan."""

from __future__ import annotations

from dataclasses import replace

from feedsvc.store.item_rows import ItemRef
from feedsvc.core.models import ItemQuery, StoredItem
from feedsvc.sources.rules import matches_all, matches_any
from feedsvc.store.store import Store

SCAN_BATCH = 200


def wanted(query: ItemQuery, item: StoredItem) -> bool:
    """A feed's regex filters read title and summary, as q reads them, each
    on its own: `^` and `$` are a field's start and end."""
    texts = (item.title, item.summary or "")
    return (all(any(matches_all((p,), t) for t in texts) for p in query.patterns)
            and not any(matches_any(query.exclude_patterns, t) for t in texts))


def query_feed_matching(store: Store, query: ItemQuery, scan_max_items: int) -> list[tuple[ItemRef, StoredItem]]:
    """Up to `query.limit` items that the store's conditions and the
    patterns select, newest first, reading at most `scan_max_items`."""
    page = replace(query, patterns=(), exclude_patterns=(), limit=min(SCAN_BATCH, max(1, scan_max_items)))
    found: list[tuple[ItemRef, StoredItem]] = []
    scanned = 0
    while scanned < scan_max_items:
        pairs = store.query_feed(page, lambda ref: True)  # whole items: the patterns read their texts
        scanned += len(pairs)
        for ref, item in pairs:
            if wanted(query, item):
                found.append((ref, item))
                if len(found) == query.limit:
                    return found
        if len(pairs) < page.limit:
            break
        last = pairs[-1][0]
        page = replace(page, before=(last.sort_at, last.seq))
    return found


def query_items_matching(store: Store, query: ItemQuery, scan_max_items: int) -> list[StoredItem]:
    """store.query_items, with the query's patterns applied when it has any."""
    if not (query.patterns or query.exclude_patterns):
        return store.query_items(query)
    return [item for _, item in query_feed_matching(store, query, scan_max_items)]
