"""The one orchestrator: fetch → parse → store for a source. The
scheduler's tick, the CLI and POST /refresh all call
`Refresher.refresh_source`; nothing else chains those steps."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urljoin

from feedsvc.errors import FeedsvcError, ParseError
from feedsvc.fetch import FetchSettings, fetch_page, make_client
from feedsvc.models import DETAIL_ARTICLE, DETAIL_LISTING, Article, ItemRecord, ListingEntry, RefreshReport
from feedsvc.parsers import parse_article, parse_feed, parse_listing
from feedsvc.recipes import Recipe
from feedsvc.store import Store, utcnow

log = logging.getLogger(__name__)

BACKOFF_CAP = timedelta(hours=6)


def next_run_after(now: datetime, interval: timedelta, jitter_ratio: float, rng: random.Random) -> datetime:
    """Spread sources that share an interval so they don't all fire at once."""
    return now + interval + interval * (jitter_ratio * rng.random())


def backoff_delay(failures: int, interval: timedelta) -> timedelta:
    """The interval, doubled for each further failure in a row, capped."""
    return min(interval * (2 ** max(failures - 1, 0)), max(BACKOFF_CAP, interval))


def _article_records(article: Article, source_id: str) -> list[ItemRecord]:
    own = ItemRecord(url=article.url, source_id=source_id, title=article.title, detail=DETAIL_ARTICLE,
                     summary=article.summary, body_html=article.body_html, author=article.author,
                     outlet=article.outlet, editors=article.editors, published=article.published,
                     image=article.image)
    related = [_entry_record(e, source_id) for e in article.related if e.link != article.url]
    return [own, *reversed(related)]


def _entry_record(entry: ListingEntry, source_id: str) -> ItemRecord:
    return ItemRecord(url=entry.link, source_id=source_id, title=entry.title, detail=DETAIL_LISTING,
                      summary=entry.summary, outlet=entry.outlet, published=entry.published)


@dataclass
class _Harvest:
    """Records in the order pages were read, each page's entries bottom-up:
    the store numbers items as it first sees them, so the top of a listing
    gets the highest number and leads among items of the same time."""

    records: list[ItemRecord] = field(default_factory=list)
    pages: int = 0
    warnings: list[str] = field(default_factory=list)


class Refresher:
    def __init__(self, store: Store, recipes: Iterable[Recipe], fetch_settings: FetchSettings | None = None,
                 jitter_ratio: float = 0.1, rng: random.Random | None = None, concurrency: int = 4):
        self.store = store
        self.recipes = {r.id: r for r in recipes}
        self.fetch_settings = fetch_settings or FetchSettings()
        self.jitter_ratio = jitter_ratio
        self.concurrency = max(1, concurrency)
        self.rng = rng or random.Random()
        self.client = make_client(self.fetch_settings)
        self._locks = {source_id: threading.Lock() for source_id in self.recipes}

    def close(self) -> None:
        self.client.close()

    # -- the orchestrator ----------------------------------------------------

    def refresh_source(self, source_id: str) -> RefreshReport:
        """Refresh one source now. A second call for the same source waits
        for the first to finish: two refreshes of a source never overlap."""
        recipe = self.recipes[source_id]
        with self._locks[source_id]:
            return self._refresh_locked(recipe)

    def refresh_many(self, source_ids: Iterable[str]) -> list[RefreshReport]:
        """Refresh several sources, up to `concurrency` at once, so one slow
        site does not hold up the others. Reports keep the given order."""
        ids = list(dict.fromkeys(source_ids))
        if len(ids) <= 1 or self.concurrency == 1:
            return [self.refresh_source(source_id) for source_id in ids]
        with ThreadPoolExecutor(min(self.concurrency, len(ids)), thread_name_prefix="refresh") as pool:
            return list(pool.map(self.refresh_source, ids))

    def refresh_due(self, now: datetime | None = None) -> list[RefreshReport]:
        """Refresh every source whose next run time has come."""
        due = [s for s in self.store.due_source_ids(now or utcnow()) if s in self.recipes]
        return self.refresh_many(due)

    def _refresh_locked(self, recipe: Recipe) -> RefreshReport:
        started, clock = utcnow(), time.monotonic()
        interval = timedelta(minutes=recipe.refresh_interval_minutes)
        try:
            harvest = self._harvest(recipe)
            result = self.store.upsert_items(harvest.records)
        except FeedsvcError as exc:
            kind = getattr(exc, "kind", "error")
            delay = backoff_delay((self.store.source_state(recipe.id).consecutive_failures or 0) + 1, interval)
            failures = self.store.record_failure(recipe.id, started, str(exc), kind, started + delay)
            log.warning("refresh_failed source=%s error_kind=%s failures=%d retry_in_seconds=%d error=%s",
                        recipe.id, kind, failures, delay.total_seconds(), exc)
            return RefreshReport(recipe.id, "error", duration_seconds=time.monotonic() - clock,
                                 error=str(exc), error_kind=kind)
        self.store.record_success(recipe.id, started, next_run_after(started, interval, self.jitter_ratio, self.rng))
        report = RefreshReport(recipe.id, "ok", new=result.new, updated=result.updated,
                               duration_seconds=time.monotonic() - clock, pages=harvest.pages,
                               warnings=harvest.warnings)
        log.info("refresh_done source=%s new=%d updated=%d pages=%d warnings=%d duration_seconds=%.3f",
                 recipe.id, report.new, report.updated, report.pages, len(report.warnings),
                 report.duration_seconds)
        return report

    # -- fetch and parse -------------------------------------------------------

    def _harvest(self, recipe: Recipe) -> _Harvest:
        harvest = _Harvest()
        for url in recipe.start_urls:
            page = fetch_page(self.client, url, self.fetch_settings)
            harvest.pages += 1
            if recipe.kind == "feed":
                for article in parse_feed(page.content, page.final_url, charset=page.charset, outlet=recipe.outlet):
                    harvest.records.extend(_article_records(article, recipe.id))
            elif recipe.kind == "article_page":
                harvest.records.extend(_article_records(self._parse_article(recipe, page), recipe.id))
            else:
                self._harvest_listing(recipe, page, harvest)
        return harvest

    def _parse_article(self, recipe: Recipe, page) -> Article:
        article = parse_article(page.content, page.final_url, recipe.article, recipe.related, zone=recipe.zone,
                                charset=page.charset, encoding=recipe.encoding, language=recipe.language)
        if recipe.outlet and not article.outlet:
            article = replace(article, outlet=recipe.outlet)
        return article

    def _harvest_listing(self, recipe: Recipe, page, harvest: _Harvest) -> None:
        listing = parse_listing(page.content, page.final_url, recipe.listing, zone=recipe.zone,
                                charset=page.charset, encoding=recipe.encoding)
        if not listing.entries:
            raise ParseError(page.final_url, f"no listing entries matched selector {recipe.listing.item!r}")
        harvest.records.extend(reversed([_entry_record(e, recipe.id) for e in listing.entries]))
        if not recipe.follow_links:
            return
        for entry in listing.entries[: recipe.max_follow]:
            # Follow the href as written, from where we actually fetched the
            # listing, not from its canonical host.
            target = urljoin(page.final_url, entry.href)
            try:
                article_page = fetch_page(self.client, target, self.fetch_settings)
                harvest.pages += 1
                harvest.records.extend(_article_records(self._parse_article(recipe, article_page), recipe.id))
            except FeedsvcError as exc:
                # The listing entry is still stored; the article is retried
                # on the next refresh.
                harvest.warnings.append(str(exc))
                log.info("follow_failed source=%s url=%s error=%s", recipe.id, target, exc)

