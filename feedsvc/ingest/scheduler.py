"""Scheduled refreshes: one short periodic tick refreshes the sources whose
next run time (kept in the store) has come. One job, not one per source,
so several schedulers can later share the same schedule."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import SQLAlchemyError

from feedsvc.core.errors import StoreError
from feedsvc.ingest.refresh import store_error
from feedsvc.store.retention import prune_sources
from feedsvc.store.store import utcnow

if TYPE_CHECKING:  # the service is built above this layer
    from feedsvc.service import Service

log = logging.getLogger(__name__)
RELOAD_JOB = "recipes-reload"


def lag_seconds(states, source_ids, now: datetime) -> float:
    """How late the most overdue source is: its due time to `now`, whoever
    holds its lease (a source held by a dead process is as late as one
    nobody took). One never run is due without being late."""
    waiting = [now - s.next_run_at for s in states
               if s.id in source_ids and s.next_run_at and s.next_run_at <= now]
    return max(waiting, default=timedelta(0)).total_seconds()


def tick(rt: Service) -> int:
    """Refresh every due source; return how many were refreshed."""
    rt.reloader.check()
    try:
        rt.metrics.observe_scheduler_lag(lag_seconds(rt.store.source_states(), rt.recipes, utcnow()))
        reports = rt.refresher.refresh_due()
    except (StoreError, SQLAlchemyError) as exc:
        # A store that is down or read-only: say so in one line and try again next tick.
        error = exc if isinstance(exc, StoreError) else store_error(exc)
        log.error("tick_failed error_kind=%s error=%s", error.kind, error)
        return 0
    if reports:
        failed = sum(r.status == "error" for r in reports)
        log.info("tick_done refreshed=%d failed=%d", len(reports), failed)
    return len(reports)


def prune(rt: Service) -> int:
    """Apply every recipe's retention; return how many items were deleted."""
    return sum(prune_sources(rt.store, list(rt.recipes.values())).values())


def reload_recipes(service: Service) -> bool:
    """Load added, removed or edited recipe files (see feedsvc.sources.reloader)."""
    return service.reloader.check()


def request_reload(scheduler: BaseScheduler, service: Service) -> None:
    """Reload recipes now, changed or not (SIGHUP), in one of the
    scheduler's worker threads."""
    service.reloader.request()
    scheduler.modify_job(RELOAD_JOB, next_run_time=datetime.now(timezone.utc))


def stop_scheduler(scheduler: BaseScheduler, service: Service, wait: bool = False) -> None:
    """Stop ticking and let the running refreshes finish, so no lease is
    left behind; with `wait`, return once they have. Without it, safe from
    a signal handler: it never waits on the scheduler's own locks."""
    refresher = service.refresher
    refresher.stop()
    if scheduler.running:
        scheduler.shutdown(wait=False)
    if wait:
        refresher.stop(wait=True)


class _RunLinesAtDebug(logging.Filter):
    """APScheduler logs each run of each job at INFO, which is a line every
    few seconds for the recipe reload; the jobs log their own event when
    they do something (tick_done, recipes_reloaded), so these are DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_EXECUTOR_LOG = logging.getLogger("apscheduler.executors.default")


def make_scheduler(service: Service, blocking: bool = False) -> BaseScheduler:
    if not any(isinstance(f, _RunLinesAtDebug) for f in _EXECUTOR_LOG.filters):
        _EXECUTOR_LOG.addFilter(_RunLinesAtDebug())
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=timezone.utc)
    scheduler.add_job(
        tick, "interval", args=[service], id="refresh-tick",
        seconds=service.settings["SCHEDULER_TICK_SECONDS"],
        next_run_time=datetime.now(timezone.utc),  # first tick at start, not one interval later
        max_instances=1, coalesce=True, misfire_grace_time=None,
    )
    reload_seconds = service.settings["RECIPES_RELOAD_SECONDS"]
    # Also run on demand (SIGHUP) when polling is off: then it waits for a wake-up.
    scheduler.add_job(reload_recipes, "interval", args=[service], id=RELOAD_JOB,
                      seconds=reload_seconds if reload_seconds > 0 else 365 * 24 * 3600,
                      max_instances=1, coalesce=True, misfire_grace_time=None)
    prune_seconds = service.settings["PRUNE_INTERVAL_SECONDS"]
    if prune_seconds > 0:
        # Its own job, so a long prune never delays refreshes.
        scheduler.add_job(prune, "interval", args=[service], id="prune", seconds=prune_seconds,
                          max_instances=1, coalesce=True, misfire_grace_time=None)
    return scheduler
