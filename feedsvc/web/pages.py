"""The HTML index, the health check, metrics, and the recipe reload
check that runs before every request."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, render_template, request

from feedsvc.core.auth import check_bearer
from feedsvc.metrics.registry import CONTENT_TYPE as METRICS_CONTENT_TYPE
from feedsvc.core.models import DEFAULT_ZONE, StoredItem
from feedsvc.render import FORMATS
from feedsvc.render.meta import UnshowableTime, rendered_or_none
from feedsvc.core.times import shown_in
from feedsvc.web.state import STORE_RETRY_AFTER_SECONDS, base_url, outlet_directory, refused_recipes, runtime
from feedsvc.core.outlets import OUTLETS_PAGE_SIZE
from feedsvc.store.query import QueryError, parse_page
from feedsvc.extract.reading import describe_read_stats

bp = Blueprint("pages", __name__)
log = logging.getLogger(__name__)


# What an error kind means, for people reading the status table.
ERROR_WORDS = {
    "timeout": "the site took too long to answer",
    "connect": "could not connect to the site",
    "http_status": "the site answered with an error",
    "too_large": "the page was larger than allowed",
    "refused": "the address is not one feedsvc will open",
    "address_refused": "the site's address is on a private network, which is not allowed",
    "robots": "the site's robots.txt asks not to fetch this page",
    "auth": "the site asks for a login: renew the recipe's cookies or headers",
    "parse": "the page could not be read",
    "recipe_mismatch": "the recipe no longer matches the page",
    "internal": "feedsvc itself failed (see its log)",
}


@bp.before_app_request
def _reload_recipes() -> None:
    # A clock read unless RECIPES_RELOAD_SECONDS have passed; then a look
    # at the recipes folder, and a reload if a file changed.
    runtime().reloader.check()


@bp.app_template_filter("local_time")
def local_time(value, zone, missing: str = "—", pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time on the page; `missing` when there is none, or when it
    cannot be written in `zone` (a time stored by an older version)."""
    shown = shown_in(value, zone) if value is not None else None
    return shown.strftime(pattern) if shown is not None else missing


def _when(item: StoredItem) -> str:
    shown = shown_in(item.published or item.first_seen, DEFAULT_ZONE)
    if shown is None:
        raise UnshowableTime(f"{(item.published or item.first_seen).isoformat()} cannot be shown")
    return shown.strftime("%Y-%m-%d" if item.precision == "day" else "%Y-%m-%d %H:%M")


@bp.get("/")
def index():
    rt = runtime()
    try:
        page = parse_page(request.args)
    except QueryError as exc:
        return Response(f"{exc}\n", status=400, content_type="text/plain; charset=utf-8")
    directory = outlet_directory()
    counts = rt.store.source_item_counts()
    sources = [s for s in rt.store.source_states() if s.id in rt.recipes]
    shown = ((item, rendered_or_none(_when, item, "index")) for item in rt.store.query_items(limit=20))
    # A page of outlets at a time, so the index stays small however many there are.
    return render_template("index.html", outlets=directory.page(page), page=page, pages=directory.pages(),
                           outlet_total=len(directory), outlet_first=(page - 1) * OUTLETS_PAGE_SIZE + 1,
                           sources=sources, counts=counts,
                           reading={s.id: describe_read_stats(s.read_stats) for s in sources},
                           recipes=rt.recipes, site_title=current_app.config["SITE_TITLE"],
                           items=[(item, when) for item, when in shown if when is not None], formats=FORMATS,
                           error_words=ERROR_WORDS,
                           base=base_url(), zone=DEFAULT_ZONE, recipe_errors=refused_recipes())


@bp.get("/metrics")
def metrics():
    token = current_app.config["METRICS_TOKEN"]
    if token:
        decision = check_bearer(request.headers.get("Authorization"), token, "METRICS_TOKEN")
        if decision.status != 200:
            return Response(decision.reason + "\n", status=decision.status, content_type="text/plain; charset=utf-8",
                            headers={"WWW-Authenticate": "Bearer"})
    return Response(runtime().metrics.exposition(), content_type=METRICS_CONTENT_TYPE)


@bp.get("/healthz")
def healthz():
    rt = runtime()
    try:
        count = rt.store.count_items()
        failing = sorted(s.id for s in rt.store.source_states() if s.consecutive_failures and s.id in rt.recipes)
    except Exception as exc:  # any store failure means unhealthy
        # The database's own message can name hosts and users: it goes to
        # the log, and the public answer says only what failed.
        log.error("healthz_failed error_kind=%s error=%s", type(exc).__name__, exc)
        return ({"status": "error", "store": "unavailable", "error_kind": type(exc).__name__}, 503,
                {"Retry-After": str(STORE_RETRY_AFTER_SECONDS)})
    return {"status": "ok", "items": count, "sources": len(rt.recipes), "failing_sources": failing}
