"""Feed URLs: /feeds/all.<fmt>, /feeds/outlet/<outlet>.<fmt>,
/feeds/source/<id>.<fmt> and /feeds.opml, with filters, validators,
gzip and the regeneration cache."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, request, url_for

from feedsvc.auth import client_address
from feedsvc.feedcache import RenderedFeed
from feedsvc.filtered_feed import query_feed_matching
from feedsvc.query import QueryError, encode_cursor, known_args, parse_feed_request
from feedsvc.render import ATOM_TYPE, FORMATS, OPML_TYPE, RSS_TYPE, FeedMeta, OpmlOutline, feed_updated, render_feed, render_opml
from feedsvc.web.images import with_proxied_images
from feedsvc.web.ratelimit import client_key, retry_after_header
from feedsvc.web.state import (FEED_RESPONSE, RENDER_LIMITER, TRUSTED_PROXIES, base_url, feed_cache, fragment_cache,
                               outlet_directory, runtime)

RENDER_LIMITED_BODY = b"too many feeds rendered for this client; retry later\n"

bp = Blueprint("feeds", __name__)

MAX_AGE_BOUNDS_SECONDS = (60, 3600)
OPML_OUTLETS_MAX = 500


def _text(status: int, message: str) -> Response:
    return Response(message.rstrip("\n") + "\n", status, mimetype="text/plain")


@lru_cache(maxsize=2)
def _converter(config: str):
    import opencc  # loaded on first use: its dictionaries take a moment

    return opencc.OpenCC(config)


def converted(items, convert: str | None, directory):
    """Items with their text converted (`convert=t2s|s2t`) and their outlet
    shown under its display name, as every feed and the API show them."""
    convert_text = _converter(convert).convert if convert else (lambda text: text)
    return with_proxied_images([replace(i, title=convert_text(i.title),
                                        summary=convert_text(i.summary) if i.summary else None,
                                        outlet=directory.display_name(i.outlet)) for i in items])


def max_age(source_ids) -> int:
    """Cache-Control max-age for a response drawn from these sources: a
    quarter of their shortest refresh interval, within the bounds."""
    recipes = runtime().recipes
    minutes = [recipes[s].refresh_interval_minutes for s in source_ids if s in recipes] or [
        r.refresh_interval_minutes for r in recipes.values()] or [60]
    low, high = MAX_AGE_BOUNDS_SECONDS
    return max(low, min(high, min(minutes) * 60 // 4))


def _feed_urls(path_stem: str, args: list[tuple[str, str]]) -> dict[str, str]:
    query = ("?" + urlencode(args)) if args else ""
    return {fmt: f"{base_url()}{quote(path_stem)}.{fmt}{query}" for fmt in FORMATS}


def _entries(fmt: str, feed_request, directory):
    """The feed's items as (ref, item) pairs, the item only where no entry
    for its current revision is rendered yet; those are in `reused`."""
    fragments = fragment_cache()
    convert = feed_request.convert

    def key(ref):
        return fmt, ref.seq, ref.revision, convert, directory.display_name(ref.outlet)

    reused: dict[int, bytes] = {}

    def lacking(ref) -> bool:
        fragment = fragments.get(key(ref))
        if fragment is None:
            return True
        reused[ref.seq] = fragment
        return False

    if feed_request.items.patterns or feed_request.items.exclude_patterns:
        pairs = query_feed_matching(runtime().store, feed_request.items,
                                    current_app.config["FEED_REGEX_SCAN_MAX_ITEMS"])
    else:
        pairs = runtime().store.query_feed(feed_request.items, lacking)
    fresh = iter(converted([item for _, item in pairs if item is not None], convert, directory))
    return [(ref, None if item is None else next(fresh)) for ref, item in pairs], reused, key


def _build(fmt: str, title: str, path_stem: str, feed_request, source_id: str | None) -> RenderedFeed:
    rt = runtime()
    directory = outlet_directory()
    entries, reused, key = _entries(fmt, feed_request, directory)
    items = [ref for ref, _ in entries]  # what the head needs: times, sources, the paging cursor
    args = [(k, v) for k, v in known_args(request.args) if k != "before"]
    urls = _feed_urls(path_stem, args)
    next_url = None
    if len(items) == feed_request.items.limit:
        next_url = _feed_urls(path_stem, [*args, ("before", encode_cursor(items[-1]))])[fmt]
    recipes = [rt.recipes[s] for s in dict.fromkeys(i.source_id for i in items) if s in rt.recipes]
    single = rt.recipes.get(source_id) if source_id else (recipes[0] if len(recipes) == 1 else None)
    languages = {r.language for r in recipes} or ({single.language} if single else set())
    site = current_app.config["SITE_TITLE"]
    meta = FeedMeta(
        feed_id=f"tag:feedsvc,2026:{quote(path_stem)}",
        title=f"{title} · {site}",
        self_url=_feed_urls(path_stem, known_args(request.args))[fmt],
        alternate_url=f"{base_url()}{url_for('pages.index')}",
        author=single.name if single else site,
        language=languages.pop() if len(languages) == 1 else None,
        zones=rt.zones(),
        formats=[(FORMATS[f].media_type, u) for f, u in urls.items()],
        next_url=next_url,
        hub_url=current_app.config["WEBSUB_HUB"] or None,
        stylesheet_url=f"{base_url()}{url_for('static', filename='feed.xsl')}",
    )
    body = render_feed(fmt, meta, entries, reused, fragment_cache(), key)
    return RenderedFeed(body, f"{FORMATS[fmt].media_type}; charset=utf-8", feed_updated(items),
                        max_age([source_id] if source_id else [i.source_id for i in items]))


def _wants_page(content_type: str) -> bool:
    """A browser: it prefers HTML to the feed's own type. Feed readers name
    feed types (or only */*) and get the feed's own type."""
    media_type = content_type.split(";", 1)[0]
    if media_type not in (ATOM_TYPE, RSS_TYPE):
        return False
    return request.accept_mimetypes.best_match([media_type, "text/html"]) == "text/html"


def respond(rendered: RenderedFeed, cache_key=None) -> Response:
    """Serve cached bytes with validators; gzip when the client takes it.
    With the feed cache's `cache_key`, the response is offered to the fast
    path (feedsvc.web.fastpath), which answers the same request again
    without Flask while that cache entry stays current."""
    gzipped = request.accept_encodings["gzip"] > 0
    content_type, tag = rendered.content_type, rendered.etag + ("-gz" if gzipped else "")
    if _wants_page(content_type):
        # Browsers show application/atom+xml as plain text but apply the
        # feed's XSLT to application/xml: same bytes, readable page.
        content_type, tag = "application/xml; charset=utf-8", tag + "-x"
    body = rendered.gzip_body if gzipped else rendered.body
    response = Response(body, content_type=content_type)
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    # Different bytes or type, different strong tag.
    response.set_etag(tag)
    response.vary.add("Accept")
    response.last_modified = rendered.last_modified
    response.cache_control.public = True
    response.cache_control.max_age = rendered.max_age_seconds
    response.vary.add("Accept-Encoding")
    if cache_key is not None:
        request.environ[FEED_RESPONSE] = (cache_key, rendered, body, metric_format(request.path))
    return response.make_conditional(request)


def _serve(filename: str, kind: str):
    name, dot, fmt = filename.rpartition(".")
    if not dot or fmt not in FORMATS or not name:
        return _text(404, f"no such feed; feeds end in {', '.join('.' + f for f in FORMATS)}")
    rt = runtime()
    directory = outlet_directory()
    outlet = source_id = None
    stem = request.path.rpartition(".")[0]
    if kind == "outlet":
        found = directory.resolve(name)
        if found is None:
            return _text(404, f"unknown outlet {name[:80]!r}; known outlets: {directory.summary()}")
        outlet, title = found.slug, found.name
        # The feed names itself by its slug, however it was asked for.
        stem = url_for("feeds.outlet_items", filename=f"{found.slug}.{fmt}").rpartition(".")[0]
    elif kind == "source":
        if name not in rt.recipes:
            return _text(404, f"unknown source {name!r}; known sources: {', '.join(sorted(rt.recipes))}")
        source_id, title = name, rt.recipes[name].name
    else:
        title = "全部"
    now = datetime.now(timezone.utc)
    try:
        feed_request = parse_feed_request(request.args, directory, now, outlet=outlet, source_id=source_id,
                                          known_sources=rt.recipes)
    except QueryError as exc:
        return _text(400, str(exc))
    args = known_args(request.args)
    relative = any(v[-1:] in "smhdw" for k, v in args if k in ("since", "until"))
    # A relative window moves with the clock: let such entries age out.
    bucket = int(time.time() // 60) if relative else None
    key = (fmt, base_url(), request.path, tuple(args), bucket)

    def build() -> RenderedFeed:
        _take_render_token()
        return _build(fmt, title, stem, feed_request, source_id)

    try:
        rendered = feed_cache().get(key, build)
    except RenderLimited as limited:
        response = _text(429, RENDER_LIMITED_BODY.decode())
        response.headers["Retry-After"] = retry_after_header(limited.wait_seconds)
        return response
    # A relative window's entry changes with the minute: not worth a fast path.
    return respond(rendered, None if relative else key)


class RenderLimited(Exception):
    def __init__(self, wait_seconds: float):
        super().__init__(f"retry after {wait_seconds:.1f} s")
        self.wait_seconds = wait_seconds


def _take_render_token() -> None:
    """A render costs a token of the client's bucket; cached feeds cost none."""
    limiter = current_app.extensions[RENDER_LIMITER]
    if limiter.enabled:
        wait = limiter.take(client_key(client_address(request, current_app.extensions[TRUSTED_PROXIES])))
        if wait:
            raise RenderLimited(wait)


def metric_format(path: str) -> str:
    """The format label a feed request is counted under."""
    fmt = path.rpartition(".")[2] if path.startswith("/feeds") else ""
    return fmt if fmt in (*FORMATS, "opml") else "unknown"


@bp.after_request
def _count(response: Response) -> Response:
    runtime().metrics.observe_feed_request(metric_format(request.path), response.status_code)
    return response


@bp.get("/feeds/all.<fmt>")
def all_items(fmt: str):
    return _serve(f"all.{fmt}", "all")


@bp.get("/feeds/outlet/<path:filename>")
def outlet_items(filename: str):
    return _serve(filename, "outlet")


@bp.get("/feeds/source/<filename>")
def source_items(filename: str):
    return _serve(filename, "source")


@bp.get("/feeds.opml")
def opml():
    def build() -> RenderedFeed:
        rt = runtime()
        home = f"{base_url()}{url_for('pages.index')}"
        # The outlets with the most items, at most OPML_OUTLETS_MAX: a reader
        # imports the whole file, and /api/outlets pages through the rest.
        biggest = sorted(outlet_directory(), key=lambda o: -o.count)[:OPML_OUTLETS_MAX]
        outlets = [OpmlOutline(o.name, f"{base_url()}{url_for('feeds.outlet_items', filename=o.slug + '.atom')}",
                               home, f"{o.count} items") for o in sorted(biggest, key=lambda o: o.name)]
        sources = [OpmlOutline(r.name, f"{base_url()}{url_for('feeds.source_items', filename=r.id + '.atom')}",
                               None if r.placeholders_filled else r.start_urls[0]) for r in rt.recipes.values()]
        created = datetime.now(timezone.utc)
        body = render_opml(current_app.config["SITE_TITLE"], created, [("Outlets", outlets), ("Sources", sources)])
        latest = max((o.latest for o in outlet_directory() if o.latest), default=created)
        return RenderedFeed(body, f"{OPML_TYPE}; charset=utf-8", latest.replace(microsecond=0), 300)

    key = ("opml", base_url())
    return respond(feed_cache().get(key, build), key)
