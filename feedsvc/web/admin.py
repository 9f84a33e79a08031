"""POST /refresh: the manual refresh. Every endpoint here is guarded by
`_guard`: a rate limit per client, then the token (or loopback) rule."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, request

from feedsvc.core.auth import authorize, client_address
from feedsvc.store.query import QueryError, parse_number
from feedsvc.web.ratelimit import client_key, retry_after_header
from feedsvc.web.state import ADMIN_LIMITER, TRUSTED_PROXIES, runtime

bp = Blueprint("admin", __name__)
log = logging.getLogger(__name__)
MAX_WAIT_SECONDS = 300


def take_admin_budget():
    """One request from the client's admin budget: None, or the 429 answer
    once it is spent. Anything that checks the refresh token takes it
    first, so the token cannot be guessed faster anywhere."""
    key = client_key(client_address(request, current_app.extensions[TRUSTED_PROXIES]))
    wait = current_app.extensions[ADMIN_LIMITER].take(key)
    if not wait:
        return None
    log.warning("admin_rate_limited client=%s endpoint=%s retry_after_seconds=%.1f", key, request.endpoint, wait)
    return {"error": "too many requests to admin endpoints; retry later"}, 429, {
        "Retry-After": retry_after_header(wait)}


@bp.before_request
def _guard():
    """The limit comes first, so refused attempts use up tokens too: a
    token cannot be guessed faster than the limit allows."""
    limited = take_admin_budget()
    if limited:
        return limited
    trusted = current_app.extensions[TRUSTED_PROXIES]
    key = client_key(client_address(request, trusted))
    decision = authorize(request, current_app.config["REFRESH_TOKEN"], trusted)
    if decision.status != 200:
        log.warning("admin_refused client=%s endpoint=%s status=%d", key, request.endpoint, decision.status)
        headers = {"WWW-Authenticate": 'Bearer realm="feedsvc"'} if decision.status == 401 else {}
        return {"error": decision.reason}, decision.status, headers
    return None


@bp.post("/refresh", defaults={"source_id": None})
@bp.post("/refresh/<source_id>")
def refresh(source_id: str | None):
    """Refresh now and answer when done, with one report per source. A
    source that fails is reported in the JSON; the request still succeeds."""
    rt = runtime()
    if source_id is not None and source_id not in rt.recipes:
        return {"error": f"unknown source {source_id!r}", "sources": sorted(rt.recipes)}, 404
    # A source backing off after failures is skipped unless force=1.
    force = request.args.get("force", "").lower() in ("1", "true", "yes")
    try:
        wait = parse_number("wait", request.args.get("wait"), 0, MAX_WAIT_SECONDS, 0)
    except QueryError as exc:
        return {"error": f"{exc} (seconds)", "parameter": exc.param}, 400
    reports = rt.refresher.refresh_many([source_id] if source_id else list(rt.recipes), force=force,
                                        wait_seconds=wait)
    if source_id is not None and reports[0].status == "busy":
        # Another process is refreshing it: say who, and until when.
        return {"results": [reports[0].as_dict()], "error": reports[0].error}, 409
    return {"results": [r.as_dict() for r in reports]}
