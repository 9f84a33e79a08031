"""The one orchestrator: fetch → parse → store for a source. The
scheduler's tick, the CLI and POST /refresh all call
`Refresher.refresh_source`; nothing else chains those steps."""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urljoin

from sqlalchemy.exc import SQLAlchemyError

from feedsvc.core.errors import FeedsvcError, FetchAuthRequired, FetchHTTPStatus, InternalError, LeaseLost, RecipeMismatch, StoreError
from feedsvc.fetch.page import FetchedPage, FetchSettings
from feedsvc.store.item_merge import bounded
from feedsvc.ingest.leases import LeaseHeartbeat, heartbeat_seconds
from feedsvc.core.models import DETAIL_ARTICLE, DETAIL_LISTING, DETAIL_PAGE, Article, ItemRecord, ListingEntry, RefreshReport
from feedsvc.parsers import parse_feed
from feedsvc.fetch.politeness import PoliteFetcher
from feedsvc.extract.reading import PageReading, read_article, read_auto, read_listing
from feedsvc.fetch.recipe_fetch import RecipeFetcher
from feedsvc.sources.recipes import Recipe
from feedsvc.store.retention import cap_source, within_retention
from feedsvc.sources.rules import RuleSet, sift
from feedsvc.store.store import Store, utcnow

log = logging.getLogger(__name__)

BACKOFF_CAP = timedelta(hours=6)
# A Retry-After beyond this is a misconfigured server, not a plan.
RETRY_AFTER_CAP = timedelta(days=7)
_GONE_STATUSES = (404, 410)
_SLOW_DOWN_STATUSES = (429, 503)


def next_run_after(now: datetime, interval: timedelta, jitter_ratio: float, rng: random.Random) -> datetime:
    """Spread sources that share an interval so they don't all fire at once."""
    return now + interval + interval * (jitter_ratio * rng.random())


def backoff_delay(failures: int, interval: timedelta) -> timedelta:
    """The interval, doubled for each further failure in a row, capped."""
    return min(interval * (2 ** max(failures - 1, 0)), max(BACKOFF_CAP, interval))


def retry_delay(failures: int, interval: timedelta, retry_after: timedelta | None) -> timedelta:
    """Backoff, or the server's Retry-After when that asks for longer."""
    delay = backoff_delay(failures, interval)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP))
    return delay


def store_error(exc: SQLAlchemyError) -> StoreError:
    """The driver's own words ("attempt to write a readonly database",
    "database or disk is full"), without the SQL and its parameters."""
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return StoreError(f"store error: {cause[0] if cause else type(exc).__name__}")


def _unrecorded(source_id: str, kind: str, error: str, duration_seconds: float) -> RefreshReport:
    """A failure the store could not keep: logged and reported only."""
    log.error("refresh_failed source=%s error_kind=%s recorded=false error=%s", source_id, kind, error)
    return RefreshReport(source_id, "error", duration_seconds=duration_seconds, error=error, error_kind=kind)


def outlets_refused_warning(names: set[str], limit: int | None, default: str | None) -> str:
    shown = ", ".join(sorted(names)[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    where = f"filed under the source's outlet {default!r}" if default else "filed under no outlet"
    return (f"{len(names)} new outlet name(s) not taken, as the source already names {limit} outlets "
            f"(FEEDSVC_OUTLETS_PER_SOURCE_MAX): {shown}; their items are {where}")


def _article_records(article: Article, source_id: str, detail: int = DETAIL_ARTICLE) -> list[ItemRecord]:
    own = ItemRecord(url=article.url, source_id=source_id, title=article.title, detail=detail,
                     summary=article.summary, body_html=article.body_html, author=article.author,
                     outlet=article.outlet, editors=article.editors, published=article.published,
                     image=article.image, author_email=article.author_email)
    related = [_entry_record(e, source_id) for e in article.related if e.link != article.url]
    return [own, *reversed(related)]


def _entry_record(entry: ListingEntry, source_id: str) -> ItemRecord:
    return ItemRecord(url=entry.link, source_id=source_id, title=entry.title, detail=DETAIL_LISTING,
                      summary=entry.summary, outlet=entry.outlet, published=entry.published)


def own_outlet(recipe: Recipe) -> str:
    """The outlet of a source's items that no page names one for (the
    store gives it, see Store.upsert_items), so every item has one and the
    outlet feeds together hold each item once: the recipe's `outlet`, else
    the source's name."""
    return recipe.outlet or recipe.name


@dataclass
class _Harvest:
    """Records in the order pages were read, each page's entries bottom-up:
    the store numbers items as it first sees them, so the top of a listing
    gets the highest number and leads among items of the same time.

    Validators and gone URLs are written only after the records are
    stored, so a failed refresh never leaves a validator that would make
    the next one skip a page whose items were never kept."""

    records: list[ItemRecord] = field(default_factory=list)
    pages: int = 0
    warnings: list[str] = field(default_factory=list)
    stored_validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)
    conditional: bool = True  # False when forced: no validators are sent
    origins: Counter = field(default_factory=Counter)  # (field, "selector" | "extractor" | "recipe") -> count
    parsed: int = 0  # pages read (not 304)
    linked_read: int = 0  # full_text: entries' own pages read, and failed
    linked_failed: int = 0
    readings: list[PageReading] = field(default_factory=list)  # every page read, in order

    def remember(self, page: FetchedPage) -> None:
        """Keep a parsed page's validators for the next conditional GET."""
        fresh = (page.etag, page.last_modified)
        if fresh != self.stored_validators.get(page.url, (None, None)):
            self.validators[page.url] = fresh

    def read(self, reading: PageReading) -> PageReading:
        self.parsed += 1
        self.readings.append(reading)
        self.origins.update(reading.origins)
        return reading

    def read_stats(self) -> dict:
        """The source status of this refresh: where each field came from."""
        fields: dict[str, dict[str, int]] = {}
        for (name, origin), count in sorted(self.origins.items()):
            if count > 0:
                fields.setdefault(name, {})[origin] = count
        return {"fields": fields, "pages_read": self.linked_read, "page_failures": self.linked_failed}


@dataclass
class _FollowTally:
    parsed: int = 0
    mismatches: list[RecipeMismatch] = field(default_factory=list)


class Refresher:
    def __init__(self, store: Store, recipes: Iterable[Recipe], fetch_settings: FetchSettings | None = None,
                 jitter_ratio: float = 0.1, rng: random.Random | None = None, concurrency: int = 4,
                 listeners: Iterable[Callable[[RefreshReport], None]] = (), lease_seconds: float = 30,
                 lease_heartbeat_seconds: float = 10, outlets_per_source_max: int | None = None,
                 rules: RuleSet | None = None):
        self.store = store
        self.outlets_per_source_max = outlets_per_source_max
        self.rules = rules or RuleSet()  # the service's, applied with each recipe's own
        # Leases in the store make "one refresh of a source at a time" hold
        # across processes and machines; the in-process locks below order
        # this process's own threads before they ask the store.
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.lease_ttl = timedelta(seconds=lease_seconds)
        self.heartbeat = LeaseHeartbeat(store, self.holder, self.lease_ttl,
                                        heartbeat_seconds(lease_seconds, lease_heartbeat_seconds))
        # Called with every report (e.g. feedsvc.ingest.websub.Publisher); a failing
        # listener is logged and never fails the refresh.
        self.listeners = list(listeners)
        self.recipes = {r.id: r for r in recipes}
        self.fetch_settings = fetch_settings or FetchSettings()
        self.jitter_ratio = jitter_ratio
        self.concurrency = max(1, concurrency)
        self.rng = rng or random.Random()
        self.fetcher = PoliteFetcher(self.fetch_settings)
        self.recipe_fetcher = RecipeFetcher(self.fetcher)  # a recipe's request options over the fetcher
        self.client = self.fetcher.client
        self._locks = {source_id: threading.Lock() for source_id in self.recipes}
        self._stopping = threading.Event()
        self._claiming = threading.Lock()  # held while refresh_due runs, so stop() can wait for it

    def close(self) -> None:
        self.recipe_fetcher.close()
        self.fetcher.close()

    def stop(self, wait: bool = False) -> None:
        """Claim no more due sources. The refreshes already claimed finish
        (with `wait`, before this returns), so a stopping process neither
        leaves leases behind nor starts threads while the interpreter shuts
        down."""
        self._stopping.set()
        if wait:
            with self._claiming:
                pass

    def use_recipes(self, recipes: Iterable[Recipe]) -> None:
        """Run a reloaded set of recipes from now on. One assignment swaps
        them, so a refresh already running keeps the recipe it started with."""
        recipes = {r.id: r for r in recipes}
        for source_id in recipes:
            self._locks.setdefault(source_id, threading.Lock())
        self.recipes = recipes

    # -- the orchestrator ----------------------------------------------------

    def refresh_source(self, source_id: str, force: bool = False, wait_seconds: float = 0,
                       leased: bool = False) -> RefreshReport:
        """Refresh one source now. A source backing off after failures is
        skipped unless `force`. Two refreshes of a source never overlap: in
        this process a second call waits for the first; a source another
        process is refreshing is waited for up to `wait_seconds`, then
        reported "busy". `leased`: the caller already holds the lease."""
        recipe = self.recipes.get(source_id)
        try:
            if recipe is None:  # removed by a recipe reload after it was asked for
                if leased:
                    self.store.release_lease(source_id, self.holder)
                return RefreshReport(source_id, "skipped", error="its recipe was removed", error_kind="removed")
            with self._locks[source_id]:
                report = self._refresh_leased(recipe, force, wait_seconds, leased)
        except SQLAlchemyError as exc:  # read-only, full or down: the error cannot be kept, only told
            error = store_error(exc)
            report = _unrecorded(source_id, error.kind, str(error), 0.0)
        self._notify(report)
        return report

    def _refresh_leased(self, recipe: Recipe, force: bool, wait_seconds: float, leased: bool) -> RefreshReport:
        if not leased and not self._take_lease(recipe.id, wait_seconds):
            return self._busy_report(recipe.id)
        self.heartbeat.hold(recipe.id)
        try:
            report = None if force else self._backoff_report(recipe.id)
            return report or self._refresh_locked(recipe, force)
        finally:
            self.heartbeat.release(recipe.id)
            self.store.release_lease(recipe.id, self.holder)

    def _take_lease(self, source_id: str, wait_seconds: float) -> bool:
        deadline = time.monotonic() + wait_seconds
        while not self.store.try_lease(source_id, self.holder, self.lease_ttl):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)
        return True

    def _renew_lease(self, source_id: str) -> None:
        """Keep the lease through a long refresh; losing it means another
        process has taken the source over, so stop."""
        if not self.store.try_lease(source_id, self.holder, self.lease_ttl):
            raise LeaseLost(f"another process took over {source_id}")

    def _busy_report(self, source_id: str) -> RefreshReport:
        state = self.store.source_state(source_id)
        until = state.lease_expires_at.isoformat(timespec="seconds") if state and state.lease_expires_at else "?"
        holder = state.lease_holder if state else "?"
        return RefreshReport(source_id, "busy", error=f"being refreshed by {holder} (lease until {until})",
                             error_kind="busy", lease_holder=holder, lease_expires_at=until)

    def _notify(self, report: RefreshReport) -> None:
        for listener in self.listeners:
            try:
                listener(report)
            except Exception:  # noqa: BLE001 - a listener must not fail the refresh
                log.exception("refresh_listener_failed source=%s listener=%r", report.source_id, listener)

    def refresh_many(self, source_ids: Iterable[str], force: bool = False, wait_seconds: float = 0,
                     leased: bool = False) -> list[RefreshReport]:
        """Refresh several sources, up to `concurrency` at once, so one slow
        site does not hold up the others. Reports keep the given order."""
        ids = list(dict.fromkeys(source_ids))

        def one(source_id: str) -> RefreshReport:
            return self.refresh_source(source_id, force, wait_seconds, leased)

        if len(ids) <= 1 or self.concurrency == 1:
            return [one(source_id) for source_id in ids]
        with ThreadPoolExecutor(min(self.concurrency, len(ids)), thread_name_prefix="refresh") as pool:
            return list(pool.map(one, ids))

    def refresh_due(self, now: datetime | None = None) -> list[RefreshReport]:
        """Refresh every source whose next run time has come. Sources are
        claimed a few at a time, so several schedulers share them out and a
        lease never runs out while its source waits in a queue."""
        reports: list[RefreshReport] = []
        with self._claiming:
            while not self._stopping.is_set():
                claimed = self.store.claim_due(self.holder, self.lease_ttl, list(self.recipes),
                                               self.concurrency, now)
                if not claimed:
                    break
                # Renewed on the heartbeat from the claim on, waiting in the pool included.
                self.heartbeat.hold(*claimed)
                try:
                    reports += self.refresh_many(claimed, leased=True)
                finally:
                    for source_id in claimed:
                        self.heartbeat.release(source_id)
                if now is not None:  # a fixed clock (tests) would see the same sources due again
                    break
        return reports

    def _backoff_report(self, source_id: str) -> RefreshReport | None:
        state = self.store.source_state(source_id)
        now = utcnow()
        if not state or not state.consecutive_failures or not state.next_run_at or state.next_run_at <= now:
            return None
        message = (f"backing off after {state.consecutive_failures} failed refresh(es) until "
                   f"{state.next_run_at.isoformat(timespec='seconds')}; last error: {state.last_error}")
        return RefreshReport(source_id, "skipped", error=message, error_kind="backoff")

    def _refresh_locked(self, recipe: Recipe, force: bool = False) -> RefreshReport:
        started, clock = utcnow(), time.monotonic()
        interval = timedelta(minutes=recipe.refresh_interval_minutes)
        try:
            harvest = self._harvest(recipe, conditional=not force)
            records, blocked = sift((self.rules, recipe.rules), harvest.records)
            self._renew_lease(recipe.id)  # still ours before anything is written
            records, date_warnings = bounded(records, started)
            harvest.warnings.extend(date_warnings)
            for warning in date_warnings:
                log.info("time_refused source=%s detail=%s", recipe.id, warning)
            result = self.store.upsert_items(within_retention(records, recipe, started),
                                             outlets_max=self.outlets_per_source_max,
                                             default_outlet=own_outlet(recipe))
            cap_source(self.store, recipe)
        except LeaseLost as exc:
            log.warning("refresh_abandoned source=%s error=%s", recipe.id, exc)
            return RefreshReport(recipe.id, "busy", duration_seconds=time.monotonic() - clock, error=str(exc),
                                 error_kind=exc.kind)
        except FeedsvcError as exc:
            return self._failed(recipe, exc, started, clock, interval)
        except SQLAlchemyError as exc:
            return self._failed(recipe, store_error(exc), started, clock, interval)
        except Exception as exc:  # noqa: BLE001 - a bug: this source only
            log.exception("refresh_crashed source=%s", recipe.id)
            return self._failed(recipe, InternalError(f"{type(exc).__name__}: {exc}"), started, clock, interval)
        self.store.mark_gone(harvest.gone, started)
        self._keep_reading_state(recipe, harvest, started)
        if harvest.records:
            self._count_blocked(recipe, blocked)
        self.store.record_success(recipe.id, started, next_run_after(started, interval, self.jitter_ratio, self.rng))
        if result.outlets_refused:
            harvest.warnings.append(outlets_refused_warning(result.outlets_refused, self.outlets_per_source_max,
                                                            own_outlet(recipe)))
            log.warning("outlets_refused source=%s count=%d limit=%s", recipe.id, len(result.outlets_refused),
                        self.outlets_per_source_max)
        report = RefreshReport(recipe.id, "ok", new=result.new, updated=result.updated,
                               duration_seconds=time.monotonic() - clock, pages=harvest.pages,
                               warnings=harvest.warnings, outlets_changed=result.outlets_changed)
        log.info("refresh_done source=%s new=%d updated=%d pages=%d gone=%d warnings=%d duration_seconds=%.3f",
                 recipe.id, report.new, report.updated, report.pages, len(harvest.gone), len(report.warnings),
                 report.duration_seconds)
        return report

    def _count_blocked(self, recipe: Recipe, blocked: list[ItemRecord]) -> None:
        urls = list(dict.fromkeys(r.url for r in blocked))  # a listing entry and its article are one item
        self.store.set_blocked(recipe.id, len(urls))
        if urls:
            log.info("items_blocked source=%s count=%d first=%s", recipe.id, len(urls), urls[0])

    def _failed(self, recipe: Recipe, exc: FeedsvcError, started: datetime, clock: float,
                interval: timedelta) -> RefreshReport:
        kind = getattr(exc, "kind", "error")
        try:
            failures = (self.store.source_state(recipe.id).consecutive_failures or 0) + 1
            delay = retry_delay(failures, interval, getattr(exc, "retry_after", None))
            failures = self.store.record_failure(recipe.id, started, str(exc), kind, started + delay)
        except SQLAlchemyError as not_kept:  # a read-only or full store: told, not kept
            return _unrecorded(recipe.id, kind, f"{exc}; not recorded: {store_error(not_kept)}",
                               time.monotonic() - clock)
        log.warning("refresh_failed source=%s error_kind=%s failures=%d retry_in_seconds=%d error=%s",
                    recipe.id, kind, failures, delay.total_seconds(), exc)
        return RefreshReport(recipe.id, "error", duration_seconds=time.monotonic() - clock,
                             error=str(exc), error_kind=kind)

    # -- fetch and parse -------------------------------------------------------

    def _fetch(self, recipe: Recipe, url: str, harvest: _Harvest) -> FetchedPage:
        """A conditional GET when this recipe read the URL before, unless
        the refresh is forced."""
        validators = self.store.validators(url, recipe.fingerprint)
        harvest.stored_validators[url] = validators
        if harvest.pages:
            self._renew_lease(recipe.id)
        send = validators if harvest.conditional and any(validators) else None
        page = self.recipe_fetcher.fetch(recipe, url, send)
        harvest.pages += 1
        return page

    def _harvest(self, recipe: Recipe, conditional: bool = True) -> _Harvest:
        harvest = _Harvest(conditional=conditional)
        for url in recipe.start_urls:
            page = self._fetch(recipe, url, harvest)
            if page.not_modified:  # unchanged since the last refresh: nothing to parse
                continue
            if recipe.kind == "feed":
                self._harvest_feed(recipe, page, harvest)
            elif recipe.kind == "article_page":
                harvest.records.extend(_article_records(self._read_article(recipe, page, harvest), recipe.id))
            elif recipe.kind == "auto":
                self._harvest_auto(recipe, page, harvest)
            else:
                self._harvest_listing(recipe, page, harvest)
            harvest.remember(page)
        return harvest

    def _harvest_feed(self, recipe: Recipe, page: FetchedPage, harvest: _Harvest) -> None:
        parsed = parse_feed(page.content, page.final_url, headers=page.headers, outlet=recipe.outlet)
        if parsed.warning:
            harvest.warnings.append(f"{parsed.warning} ({page.url})")
        if recipe.full_text:
            self._harvest_full_texts(recipe, parsed.articles, harvest)
            return
        for article in parsed.articles:
            harvest.records.extend(_article_records(article, recipe.id))

    def _read_article(self, recipe: Recipe, page: FetchedPage, harvest: _Harvest) -> Article:
        return harvest.read(read_article(page.content, page.final_url, recipe, page.charset)).article

    def _harvest_listing(self, recipe: Recipe, page: FetchedPage, harvest: _Harvest) -> None:
        listing = harvest.read(read_listing(page.content, page.final_url, recipe, page.charset)).listing
        harvest.records.extend(reversed([_entry_record(e, recipe.id) for e in listing.entries]))
        if recipe.follow_links:
            self._follow(recipe, page, listing.entries, harvest)

    def _follow(self, recipe: Recipe, page: FetchedPage, entries: tuple[ListingEntry, ...],
                harvest: _Harvest) -> None:
        """Read the listed articles (depth 1): up to `max_follow` not read
        before, then up to as many already read ones again, conditionally,
        to notice changes and pages that are gone."""
        known = self.store.article_urls([e.link for e in entries])
        fresh = [e for e in entries if e.link not in known][: recipe.max_follow]
        again = [e for e in entries if known.get(e.link) is False][: recipe.max_follow]
        tally = _FollowTally()
        for entry in fresh + again:
            if not self._follow_one(recipe, page, entry, entry.link in known, harvest, tally):
                break
        if tally.parsed and len(tally.mismatches) == tally.parsed:
            raise tally.mismatches[0]  # not one article matched: the recipe, not the pages, is wrong

    def _follow_one(self, recipe: Recipe, page: FetchedPage, entry: ListingEntry, known: bool,
                    harvest: _Harvest, tally: _FollowTally) -> bool:
        """Read one listed article; False when the site asks us to stop."""
        # Follow the href as written, from where we actually fetched the
        # listing, not from its canonical host.
        target = urljoin(page.final_url, entry.href)
        try:
            article_page = self._fetch(recipe, target, harvest)
            if article_page.not_modified:
                return True
            tally.parsed += 1
            harvest.records.extend(_article_records(self._read_article(recipe, article_page, harvest), recipe.id))
            harvest.remember(article_page)
        except FetchAuthRequired:
            raise  # the login is gone: every page would fail the same way
        except RecipeMismatch as exc:
            tally.mismatches.append(exc)
            harvest.warnings.append(str(exc))
        except FetchHTTPStatus as exc:
            if known and exc.status in _GONE_STATUSES:
                harvest.gone.append(entry.link)
            harvest.warnings.append(str(exc))
            log.info("follow_failed source=%s url=%s status=%d gone=%s", recipe.id, target, exc.status,
                     known and exc.status in _GONE_STATUSES)
            return exc.status not in _SLOW_DOWN_STATUSES
        except FeedsvcError as exc:
            # The listing entry is still stored; the article is retried on
            # the next refresh.
            harvest.warnings.append(str(exc))
            log.info("follow_failed source=%s url=%s error=%s", recipe.id, target, exc)
        return True

    # -- pages without selectors, full text for feeds, what a refresh read ------

    def harvest(self, recipe: Recipe) -> _Harvest:
        """Fetch and read a recipe's pages as a forced refresh would (no
        validators sent), storing nothing: for `feedsvc recipes test`."""
        return self._harvest(recipe, conditional=False)

    def _harvest_auto(self, recipe: Recipe, page: FetchedPage, harvest: _Harvest) -> None:
        """kind = "auto": an article page gives its article and related list;
        a channel page its listing, whose articles are followed as a
        listing_page recipe's are."""
        reading = harvest.read(read_auto(page.content, page.final_url, recipe, page.charset))
        if reading.article is not None:
            harvest.records.extend(_article_records(reading.article, recipe.id))
            return
        entries = reading.listing.entries
        harvest.records.extend(reversed([_entry_record(e, recipe.id) for e in entries]))
        if recipe.follow_links:
            self._follow(recipe, page, entries, harvest)

    def _harvest_full_texts(self, recipe: Recipe, articles: tuple[Article, ...], harvest: _Harvest) -> None:
        """full_text: each entry's own page, read for its body, author and
        outlet. Up to `max_follow` entries whose page was never read, then as
        many read ones again, conditionally; an entry whose page fails keeps
        the feed's text and counts as a failure on the source."""
        known = self.store.article_urls([a.url for a in articles], DETAIL_PAGE)
        fresh = [a.url for a in articles if a.url not in known][: recipe.max_follow]
        again = [a.url for a in articles if known.get(a.url) is False][: recipe.max_follow]
        wanted, stopped = set(fresh + again), False
        for article in articles:
            completed = None
            if article.url in wanted and not stopped:
                completed, stopped = self._full_text(recipe, article, harvest)
            if completed is not None:
                harvest.records.extend(_article_records(completed, recipe.id, DETAIL_PAGE))
            else:  # a page read before and unchanged keeps what it gave: the feed's copy only fills gaps
                harvest.records.extend(_article_records(article, recipe.id))

    def _full_text(self, recipe: Recipe, article: Article, harvest: _Harvest) -> tuple[Article | None, bool]:
        """(the entry completed from its page or None, whether the site asked
        us to stop)."""
        try:
            page = self._fetch(recipe, article.url, harvest)
            if page.not_modified:
                return None, False
            found = harvest.read(read_article(page.content, page.final_url, recipe, page.charset)).article
            if not found.body_html:
                raise RecipeMismatch(page.url, "no article body found on the entry's page")
        except (LeaseLost, FetchAuthRequired):
            raise  # lost the source, or the login: every page would fail the same way
        except FeedsvcError as exc:
            harvest.linked_failed += 1
            harvest.warnings.append(str(exc))
            log.info("full_text_failed source=%s url=%s error=%s", recipe.id, article.url, exc)
            return None, isinstance(exc, FetchHTTPStatus) and exc.status in _SLOW_DOWN_STATUSES
        harvest.linked_read += 1
        harvest.remember(page)
        completed = replace(article, body_html=found.body_html, body_text=found.body_text,
                            author=found.author or article.author,
                            outlet=recipe.outlet or found.outlet or article.outlet,
                            summary=article.summary or found.summary, published=article.published or found.published,
                            editors=found.editors, image=article.image or found.image, related=())
        return completed, False

    def _keep_reading_state(self, recipe: Recipe, harvest: _Harvest, at: datetime) -> None:
        """After the records are stored: the pages' validators, under the
        recipe's fingerprint, and where the fields came from."""
        for url, (etag, last_modified) in harvest.validators.items():
            self.store.save_validators(url, etag, last_modified, at, recipe.fingerprint)
        if harvest.parsed:
            self.store.save_read_stats(recipe.id, harvest.read_stats())
