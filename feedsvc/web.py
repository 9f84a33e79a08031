"""HTTP: feeds, the index page, health. Reads the store, never fetches."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request, url_for

from feedsvc.auth import authorize, parse_networks
from feedsvc.render import ATOM_TYPE, RSS_TYPE, FeedMeta, render_atom, render_rss
from feedsvc.runtime import runtime

bp = Blueprint("web", __name__)

FORMATS = {
    "atom": (render_atom, f"{ATOM_TYPE}; charset=utf-8"),
    "rss": (render_rss, f"{RSS_TYPE}; charset=utf-8"),
}
LIMIT_DEFAULT, LIMIT_MAX = 50, 500


def _limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return LIMIT_DEFAULT
    if not raw.isdigit() or not 1 <= int(raw) <= LIMIT_MAX:
        abort(Response(f"limit must be a whole number from 1 to {LIMIT_MAX}, got {raw!r}\n", 400,
                       mimetype="text/plain"))
    return int(raw)


def _base_url() -> str:
    return (current_app.config["BASE_URL"] or request.host_url).rstrip("/")


def _feed_meta(title: str, path: str, items) -> FeedMeta:
    rt = runtime()
    recipes = [rt.recipes[s] for s in dict.fromkeys(i.source_id for i in items) if s in rt.recipes]
    single = recipes[0] if len(recipes) == 1 else None
    languages = {r.language for r in recipes}
    site = current_app.config["SITE_TITLE"]
    query = ("?" + request.query_string.decode("ascii", "replace")) if request.query_string else ""
    return FeedMeta(
        feed_id=f"tag:feedsvc,2026:{quote(path)}",
        title=f"{title} · {site}",
        self_url=f"{_base_url()}{quote(path)}{query}",
        alternate_url=f"{_base_url()}{url_for('web.index')}",
        author=single.name if single else site,
        language=languages.pop() if len(languages) == 1 else None,
        zones=rt.zones(),
    )


def _feed_response(fmt: str, title: str, path: str, **filters) -> Response:
    if fmt not in FORMATS:
        abort(404)
    limit = _limit()
    items = runtime().store.query_items(limit=limit, **filters)
    renderer, content_type = FORMATS[fmt]
    response = Response(renderer(_feed_meta(title, path, items), items), content_type=content_type)
    response.add_etag()
    response.headers["Cache-Control"] = "public, max-age=60"
    return response.make_conditional(request)


@bp.get("/feeds/all.<fmt>")
def all_items(fmt: str):
    return _feed_response(fmt, "全部", request.path)


@bp.get("/feeds/outlet/<filename>")
def outlet_items(filename: str):
    name, dot, fmt = filename.rpartition(".")
    if not dot or fmt not in FORMATS:
        abort(404)
    known = [outlet for outlet, _, _ in runtime().store.outlets()]
    if name not in known:
        listing = "\n".join(f"  {o}" for o in known) or "  (none yet)"
        return Response(f"unknown outlet {name!r}; known outlets:\n{listing}\n", 404, mimetype="text/plain")
    return _feed_response(fmt, name, request.path, outlets=[name])


@bp.get("/")
def index():
    rt = runtime()
    return render_template("index.html", outlets=rt.store.outlets(), sources=rt.store.source_states(),
                           recipes=rt.recipes, site_title=current_app.config["SITE_TITLE"],
                           items=rt.store.query_items(limit=20))


@bp.post("/refresh", defaults={"source_id": None})
@bp.post("/refresh/<source_id>")
def refresh(source_id: str | None):
    """Refresh now and answer when done, with one report per source. A
    source that fails is reported in the JSON; the request still succeeds."""
    decision = authorize(request, current_app.config["REFRESH_TOKEN"], current_app.extensions[TRUSTED_PROXIES])
    if decision.status != 200:
        headers = {"WWW-Authenticate": 'Bearer realm="feedsvc"'} if decision.status == 401 else {}
        return {"error": decision.reason}, decision.status, headers
    rt = runtime()
    if source_id is not None and source_id not in rt.recipes:
        return {"error": f"unknown source {source_id!r}", "sources": sorted(rt.recipes)}, 404
    reports = rt.refresher.refresh_many([source_id] if source_id else list(rt.recipes))
    return {"results": [r.as_dict() for r in reports]}


@bp.get("/healthz")
def healthz():
    try:
        count = runtime().store.count_items()
    except Exception as exc:  # any store failure means unhealthy
        return {"status": "error", "store": str(exc)}, 503
    return {"status": "ok", "items": count}


TRUSTED_PROXIES = "feedsvc.trusted_proxies"


def init_app(app: Flask) -> None:
    app.extensions[TRUSTED_PROXIES] = parse_networks(app.config["TRUSTED_PROXIES"])
    app.register_blueprint(bp)
