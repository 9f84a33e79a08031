"""The HTML index and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from feedsvc.runtime import runtime
from feedsvc.web.feeds import FORMATS
from feedsvc.web.state import outlet_directory

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    rt = runtime()
    return render_template("index.html", outlets=list(outlet_directory()), sources=rt.store.source_states(),
                           recipes=rt.recipes, site_title=current_app.config["SITE_TITLE"],
                           items=rt.store.query_items(limit=20), formats=FORMATS)


@bp.get("/healthz")
def healthz():
    try:
        count = runtime().store.count_items()
    except Exception as exc:  # any store failure means unhealthy
        return {"status": "error", "store": str(exc)}, 503
    return {"status": "ok", "items": count}
