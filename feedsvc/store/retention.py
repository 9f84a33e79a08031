"""Retention: pruning each source's old items, as a scheduled job of its own.

An item past `retention_days` that a default feed (all, per outlet, per
source, at the default limit) still shows is not pruned, so no subscriber
loses an item it can see. `retention_max_items` is a hard bound on what a
source holds and wins over that rule: a source that gave every item an
outlet of its own would otherwise keep every item, each the newest of its
outlet. The cap is kept at every refresh, as well as by the job."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from feedsvc.core.models import ItemRecord
from feedsvc.store.query import LIMIT_DEFAULT
from feedsvc.sources.recipes import Recipe
from feedsvc.store.store import Store

log = logging.getLogger(__name__)


def max_age(recipe: Recipe) -> timedelta | None:
    return timedelta(days=recipe.retention_days) if recipe.retention_days else None


def prune_sources(store: Store, recipes: Iterable[Recipe], now: datetime | None = None) -> dict[str, int]:
    """Prune every source that has a retention rule; return deletions by source.
    A failing source is logged and the others go on."""
    deleted: dict[str, int] = {}
    for recipe in recipes:
        if recipe.retention_days is None and recipe.retention_max_items is None:
            continue
        try:
            count = store.prune(recipe.id, max_age=max_age(recipe), max_items=recipe.retention_max_items,
                                keep_newest=LIMIT_DEFAULT, now=now)
        except Exception:  # noqa: BLE001 - one source's store error must not stop the others
            log.exception("prune_failed source=%s", recipe.id)
            continue
        deleted[recipe.id] = count
        if count:
            log.info("prune_done source=%s deleted=%d", recipe.id, count)
    return deleted


def cap_source(store: Store, recipe: Recipe) -> int:
    """Hold the source to its `retention_max_items` right after a refresh."""
    if recipe.retention_max_items is None:
        return 0
    return store.prune(recipe.id, max_age=None, max_items=recipe.retention_max_items, keep_newest=LIMIT_DEFAULT)


def within_retention(records: list[ItemRecord], recipe: Recipe, now: datetime) -> list[ItemRecord]:
    """Drop records already past the recipe's age limit, and all but the
    newest `retention_max_items` pages (undated ones count as new), so a
    listing that still links to old articles does not bring pruned items
    back to be pruned again."""
    age = max_age(recipe)
    if age is not None:
        cutoff = now - age
        records = [r for r in records if r.published is None or r.published.value >= cutoff]
    cap = recipe.retention_max_items
    newest: dict[str, datetime] = {}
    for record in records:
        when = record.published.value if record.published else now
        newest[record.url] = max(when, newest.get(record.url, when))
    if cap is None or len(newest) <= cap:
        return records
    kept = set(sorted(newest, key=newest.__getitem__, reverse=True)[:cap])
    return [r for r in records if r.url in kept]
