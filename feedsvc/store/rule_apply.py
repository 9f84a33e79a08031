"""Applying block/keep rules again to items already stored: rules act at
ingest, so an item stored before a rule was written stays until an
operator runs `feedsvc rules apply`."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from feedsvc.sources.recipes import Recipe
from feedsvc.sources.rules import RuleSet, blocked_by
from feedsvc.store.store import Store

log = logging.getLogger(__name__)


def apply_rules(store: Store, service_rules: RuleSet, recipes: Iterable[Recipe],
                dry_run: bool = False) -> dict[str, int]:
    """Delete each source's stored items that its rules (and the service's)
    block now; returns how many per source (would go, with `dry_run`)."""
    removed: dict[str, int] = {}
    for recipe in recipes:
        rule_sets = (service_rules, recipe.rules)
        if not any(rule_sets):
            continue
        doomed, after = [], 0
        while batch := store.item_records(recipe.id, after):
            doomed += [item_id for item_id, record in batch if blocked_by(rule_sets, record)]
            after = batch[-1][0]
        removed[recipe.id] = len(doomed) if dry_run else store.delete_items(doomed)
        log.info("rules_applied source=%s removed=%d dry_run=%s", recipe.id, removed[recipe.id], dry_run)
    return removed
