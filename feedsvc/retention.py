"""Retention: pruning each source's old items, as a scheduled job of its own.

What a default feed (all, per outlet, per source, at the default limit)
still shows is never pruned, so no subscriber loses an item it can see."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from feedsvc.models import ItemRecord
from feedsvc.query import LIMIT_DEFAULT
from feedsvc.recipes import Recipe
from feedsvc.store import Store

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


def within_retention(records: list[ItemRecord], recipe: Recipe, now: datetime) -> list[ItemRecord]:
    """Drop records already past the recipe's age limit, so a listing that
    still links to old articles does not bring pruned items back."""
    age = max_age(recipe)
    if age is None:
        return records
    cutoff = now - age
    return [r for r in records if r.published is None or r.published.value >= cutoff]
