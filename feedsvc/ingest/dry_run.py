"""A recipe tried against the live site without touching the store:
`feedsvc recipes test`. The pages go through the same fetcher, settings
and readers as a refresh; what the store would need to know (validators,
articles already read) comes from a scratch store that starts empty, so
every page is read in full, and is deleted afterwards."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from feedsvc.fetch.page import FetchSettings
from feedsvc.core.models import ItemRecord, ListingEntry, Timestamp
from feedsvc.extract.reading import PageReading, describe_read_stats
from feedsvc.sources.recipes import Recipe
from feedsvc.ingest.refresh import Refresher
from feedsvc.store.store import Store


@dataclass(frozen=True)
class DryRun:
    readings: tuple[PageReading, ...]
    records: tuple[ItemRecord, ...]
    read_stats: dict
    pages: int
    warnings: tuple[str, ...]


def dry_run(recipe: Recipe, settings: FetchSettings) -> DryRun:
    with tempfile.TemporaryDirectory(prefix="feedsvc-dry-run-") as folder:
        store = Store.from_url(f"sqlite:///{Path(folder) / 'scratch.sqlite3'}")
        store.upgrade_schema()
        store.sync_sources([recipe])
        refresher = Refresher(store, [recipe], settings)
        try:
            harvest = refresher.harvest(recipe)
        finally:
            refresher.close()
            store.engine.dispose()
    return DryRun(tuple(harvest.readings), tuple(harvest.records), harvest.read_stats(), harvest.pages,
                  tuple(harvest.warnings))


def _when(stamp: Timestamp | None) -> str:
    if stamp is None:
        return "—"
    return stamp.value.strftime("%Y-%m-%d" if stamp.precision == "day" else "%Y-%m-%d %H:%M %z")


def _entry_line(entry: ListingEntry) -> str:
    return f"    - {entry.title} | {entry.outlet or '—'} | {_when(entry.published)} | {entry.link}"


def report_lines(run: DryRun) -> list[str]:
    """What would be stored, page by page, for people."""
    lines = []
    for reading in run.readings:
        if reading.listing is not None:
            lines.append(f"listing {reading.listing.url}: {len(reading.listing.entries)} entries")
            lines += [_entry_line(e) for e in reading.listing.entries]
            continue
        article = reading.article
        lines += [f"article {article.url}", f"  title:   {article.title}", f"  outlet:  {article.outlet or '—'}",
                  f"  author:  {article.author or '—'}", f"  time:    {_when(article.published)}",
                  f"  body:    {len(article.body_text or '')} characters",
                  f"  editors: {'、'.join(article.editors) or '—'}", f"  related: {len(article.related)}"]
        lines += [_entry_line(e) for e in article.related]
    lines.append(f"fields: {describe_read_stats(run.read_stats) or '—'}")
    lines += [f"warning: {w}" for w in run.warnings]
    urls = {record.url for record in run.records}
    lines.append(f"{run.pages} page(s) fetched; {len(urls)} item(s) would be stored; nothing was written")
    return lines
