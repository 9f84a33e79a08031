"""Scheduled refreshes: one short periodic tick refreshes the sources whose
next run time (kept in the store) has come. One job, not one per source,
so several schedulers can later share the same schedule."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from feedsvc.retention import prune_sources
from feedsvc.runtime import EXTENSION

log = logging.getLogger(__name__)
SCHEDULER_EXTENSION = "feedsvc.scheduler"


def tick(app: Flask) -> int:
    """Refresh every due source; return how many were refreshed."""
    reports = app.extensions[EXTENSION].refresher.refresh_due()
    if reports:
        failed = sum(r.status == "error" for r in reports)
        log.info("tick_done refreshed=%d failed=%d", len(reports), failed)
    return len(reports)


def prune(app: Flask) -> int:
    """Apply every recipe's retention; return how many items were deleted."""
    rt = app.extensions[EXTENSION]
    return sum(prune_sources(rt.store, list(rt.recipes.values())).values())


def make_scheduler(app: Flask, blocking: bool = False) -> BaseScheduler:
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=timezone.utc)
    scheduler.add_job(
        tick, "interval", args=[app], id="refresh-tick",
        seconds=float(app.config["SCHEDULER_TICK_SECONDS"]),
        next_run_time=datetime.now(timezone.utc),  # first tick at start, not one interval later
        max_instances=1, coalesce=True, misfire_grace_time=None,
    )
    prune_seconds = float(app.config["PRUNE_INTERVAL_SECONDS"])
    if prune_seconds > 0:
        # Its own job, so a long prune never delays refreshes.
        scheduler.add_job(prune, "interval", args=[app], id="prune", seconds=prune_seconds,
                          max_instances=1, coalesce=True, misfire_grace_time=None)
    return scheduler


def init_app(app: Flask) -> BaseScheduler:
    """Start a background scheduler inside this process (`feedsvc serve`)."""
    scheduler = make_scheduler(app)
    scheduler.start()
    app.extensions[SCHEDULER_EXTENSION] = scheduler
    return scheduler
