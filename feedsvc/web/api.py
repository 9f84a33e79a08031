"""The read-only JSON API: /api/sources, /api/outlets, /api/items and
/api/openapi.json, described by feedsvc.web.openapi.

Items go through the very same parse_feed_request and store query as the
feeds, so a filter means the same thing in both; responses reuse the
feeds' validators (ETag, 304, gzip) and CORS header (feedsvc.web.security) and their regeneration cache."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request, url_for

from feedsvc.core.auth import Decision, check_bearer
from feedsvc.web.feedcache import RenderedFeed
from feedsvc.web.filtered_feed import query_items_matching
from feedsvc.core.models import DEFAULT_ZONE, StoredItem
from feedsvc.store.query import QueryError, encode_cursor, known_args, parse_feed_request, parse_page
from feedsvc.render import FORMATS, feed_updated
from feedsvc.render.meta import UnshowableTime, rendered_or_none
from feedsvc.core.times import shown_in
from feedsvc.web import openapi
from feedsvc.web.admin import take_admin_budget
# Shared with the feeds, so the API converts text, folds outlet aliases,
# picks max-age and answers validators exactly as the feeds do.
from feedsvc.web.feeds import MAX_AGE_BOUNDS_SECONDS, converted, max_age, respond
from feedsvc.web.state import base_url, feed_cache, outlet_directory, refused_recipes, runtime

bp = Blueprint("api", __name__, url_prefix="/api")

JSON_TYPE = "application/json"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
STATUS_TIMES = ("last_attempt_at", "last_success_at", "last_error_at", "next_run_at", "lease_expires_at")


def _dump(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _utc(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).replace(microsecond=0).isoformat() if value else None


def _error(message: str, parameter: str | None, status: int = 400) -> Response:
    return Response(_dump({"error": message, "parameter": parameter}), status, content_type=JSON_TYPE)


@bp.errorhandler(UnicodeDecodeError)
def _undecodable(_error_):
    # The app-wide handler answers text/plain; API clients get the JSON error.
    return _error("query string is not valid UTF-8", None)


def _feed_links(endpoint: str, name: str) -> dict[str, str]:
    return {fmt: f"{base_url()}{url_for(endpoint, filename=f'{name}.{fmt}')}" for fmt in FORMATS}


# -- sources -----------------------------------------------------------------

def _status(state) -> str:
    if getattr(state, "consecutive_failures", 0):
        return "failing"
    return "ok" if getattr(state, "last_success_at", None) else "waiting"


def _source(recipe, state, count: int, private: bool) -> dict:
    status = {name: _utc(getattr(state, name, None)) for name in STATUS_TIMES}
    read = getattr(state, "read_stats", None) or {}
    data = {
        "id": recipe.id, "name": recipe.name, "kind": recipe.kind, "status": _status(state),
        "refresh_interval_minutes": recipe.refresh_interval_minutes, "timezone": recipe.timezone,
        "item_count": count,
        "last_attempt_at": status["last_attempt_at"], "last_success_at": status["last_success_at"],
        "last_error_kind": getattr(state, "last_error_kind", None),
        "consecutive_failures": getattr(state, "consecutive_failures", 0),
        "next_run_at": status["next_run_at"],
        # From the last refresh that read pages: per field, how many came
        # from selectors and how many from the extractor.
        "fields": read.get("fields", {}),
        "linked_pages": {"read": read.get("pages_read", 0), "failed": read.get("page_failures", 0)},
        "feeds": _feed_links("feeds.source_items", recipe.id),
    }
    if private:
        # Start URLs with FEEDSVC_RECIPE_VARIABLES filled in, error messages
        # naming them, and the refreshing process's host name and pid.
        data.update({
            "start_urls": list(recipe.start_urls), "last_error": getattr(state, "last_error", None),
            "last_error_at": status["last_error_at"], "lease_holder": getattr(state, "lease_holder", None),
            "lease_expires_at": status["lease_expires_at"],
        })
    return data


def _token_holder() -> bool | Response:
    """Whether the caller sent the refresh token (Authorization: Bearer):
    False without the header; the 401/403/429 answer for a wrong one."""
    header = request.headers.get("Authorization")
    if header is None:
        return False
    limited = take_admin_budget()
    if limited:
        body, status, headers = limited
        response = _error(body["error"], None, status)
        response.headers.update(headers)
        return response
    token = current_app.config["REFRESH_TOKEN"]
    decision = (check_bearer(header, token, "REFRESH_TOKEN") if token
                else Decision(403, "no FEEDSVC_REFRESH_TOKEN is set, so only public facts are shown"))
    if decision.status == 200:
        return True
    response = _error(decision.reason, None, decision.status)
    if decision.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="feedsvc"'
    return response


@bp.get("/sources")
def sources():
    """The sources the service runs (its recipes; rows of removed recipes
    stay in the store but are not sources any more). Not cached: a refresh
    that finds nothing new changes the status without bumping the store's
    version, so the FeedCache would serve a stale status. Anyone sees the
    public facts; the holder of the refresh token sees the rest."""
    private = _token_holder()
    if isinstance(private, Response):
        return private
    rt = runtime()
    states = {state.id: state for state in rt.store.source_states()}
    counts = rt.store.source_item_counts()
    data = [_source(r, states.get(r.id), counts.get(r.id, 0), private)
            for r in sorted(rt.recipes.values(), key=lambda r: r.id)]
    changed = [getattr(states.get(r.id), name, None) for r in rt.recipes.values() for name in STATUS_TIMES[:3]]
    last_modified = max((t for t in changed if t), default=EPOCH).replace(microsecond=0)
    # Files refused at the last reload: their previous version (if any) still runs.
    refused = [{"file": file, "key": key, "reason": reason} for file, key, reason in refused_recipes()]
    response = respond(RenderedFeed(_dump({"sources": data, "recipe_errors": refused}), JSON_TYPE, last_modified,
                                    MAX_AGE_BOUNDS_SECONDS[0]))
    response.vary.add("Authorization")
    if private:  # never kept by a shared cache
        response.cache_control.public = False
        response.cache_control.private = True
        response.cache_control.no_store = True
    return response


# -- outlets -----------------------------------------------------------------

def _outlet(outlet) -> dict:
    return {
        "name": outlet.name, "slug": outlet.slug,
        "aliases": [m for m in outlet.members if m != outlet.name], "members": list(outlet.members),
        "count": outlet.count, "latest": _utc(outlet.latest),
        "feeds": _feed_links("feeds.outlet_items", outlet.slug),
    }


@bp.get("/outlets")
def outlets():
    """Outlets by name, a page at a time (OUTLETS_PAGE_SIZE), each page
    linking to the next."""
    try:
        page = parse_page(request.args)
    except QueryError as exc:
        return _error(str(exc), exc.param)

    def build() -> RenderedFeed:
        directory = outlet_directory()
        shown = directory.page(page)
        latest = max((o.latest for o in directory if o.latest), default=EPOCH).replace(microsecond=0)
        next_url = f"{base_url()}{url_for('api.outlets', page=page + 1)}" if page < directory.pages() else None
        body = {"outlets": [_outlet(o) for o in shown], "total": len(directory), "page": page,
                "pages": directory.pages(), "next_url": next_url}
        return RenderedFeed(_dump(body), JSON_TYPE, latest, max_age([]))

    return respond(feed_cache().get(("api-outlets", base_url(), page), build))


# -- items -------------------------------------------------------------------

def _item(item: StoredItem, zones) -> dict:
    zone = zones.get(item.source_id, DEFAULT_ZONE)

    def local(value: datetime | None) -> str | None:
        # The source's offset, as the feeds show it.
        if value is None:
            return None
        shown = shown_in(value, zone)
        if shown is None:
            raise UnshowableTime(f"{value.isoformat()} cannot be shown in the source's zone")
        return shown.isoformat()

    return {
        "id": item.guid, "url": item.url, "title": item.title, "summary": item.summary,
        "body_html": item.body_html, "author": item.author, "outlet": item.outlet, "editors": list(item.editors),
        "image": item.image, "published": local(item.published),
        "published_precision": item.precision if item.published else None,
        "updated": local(item.updated), "source": item.source_id,
    }


def _build_items(feed_request, args: list[tuple[str, str]]) -> RenderedFeed:
    rt = runtime()
    scan = current_app.config["FEED_REGEX_SCAN_MAX_ITEMS"]
    found = converted(query_items_matching(rt.store, feed_request.items, scan), feed_request.convert,
                      outlet_directory())
    cursor = next_url = None
    if len(found) == feed_request.items.limit:  # a full page: there may be older items
        cursor = encode_cursor(found[-1])
        query = urlencode([*((k, v) for k, v in args if k != "before"), ("before", cursor)])
        next_url = f"{base_url()}{url_for('api.items')}?{query}"
    zones = rt.zones()
    shown = (rendered_or_none(lambda item: _item(item, zones), i, "api") for i in found)
    body = {"items": [data for data in shown if data is not None], "next": cursor, "next_url": next_url}
    return RenderedFeed(_dump(body), JSON_TYPE, feed_updated(found), max_age([i.source_id for i in found]))


@bp.get("/items")
def items():
    rt = runtime()
    try:
        feed_request = parse_feed_request(request.args, outlet_directory(), datetime.now(timezone.utc),
                                          known_sources=rt.recipes)
    except QueryError as exc:
        return _error(str(exc), exc.param)
    args = known_args(request.args)
    # As in the feeds: a relative window moves with the clock, so such
    # entries age out after a minute instead of living until the next change.
    relative = any(v[-1:] in "smhdw" for k, v in args if k in ("since", "until"))
    key = ("api-items", base_url(), tuple(args), int(datetime.now().timestamp() // 60) if relative else None)
    return respond(feed_cache().get(key, lambda: _build_items(feed_request, args)))


# -- the document ------------------------------------------------------------

@lru_cache(maxsize=1)
def _document() -> RenderedFeed:
    written = datetime.fromtimestamp(int(Path(openapi.__file__).stat().st_mtime), timezone.utc)
    return RenderedFeed(_dump(openapi.DOCUMENT), JSON_TYPE, written, 3600)


@bp.get("/openapi.json")
def openapi_document():
    return respond(_document())
