"""Feed URLs: /feeds/all.<fmt>, /feeds/outlet/<outlet>.<fmt>,
/feeds/source/<id>.<fmt>, /feeds.opml and /feeds-more.opml, with filters, validators,
gzip and the regeneration cache."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, request, url_for

from feedsvc.store.feed_ids import feed_id
from feedsvc.core.auth import client_address
from feedsvc.web.feedcache import RenderedFeed
from feedsvc.web.filtered_feed import query_feed_matching, query_items_matching
from feedsvc.core.models import DEFAULT_ZONE
from feedsvc.store.query import QueryError, encode_cursor, known_args, parse_feed_request
from feedsvc.render import FORMATS, OPML_TYPE, FeedMeta, feed_updated, render_feed, render_opml
from feedsvc.web.feed_page import PAGE_TYPE, render_page, wants_page
from feedsvc.web.images import with_proxied_images
from feedsvc.web.ratelimit import client_key, retry_after_header
from feedsvc.web.state import (FEED_RESPONSE, RENDER_LIMITER, TRUSTED_PROXIES, base_url, feed_cache, feed_id_authority,
                               fragment_cache, outlet_directory, runtime)
from feedsvc.web.subscriptions import opml_groups

RENDER_LIMITED_BODY = b"too many feeds rendered for this client; retry later\n"

bp = Blueprint("feeds", __name__)

MAX_AGE_BOUNDS_SECONDS = (60, 3600)


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


def _paging(fmt: str, path_stem: str, feed_request, refs) -> dict[str, str | None]:
    """RFC 5005 section 3 links of a paged view. Pages are cut by item
    (`?before=` the last item shown), so a page's URL shows the same items
    however many arrive later; the page before one starts `limit` items
    newer than its first (the newest page when fewer are newer)."""
    query = feed_request.items
    args = [(k, v) for k, v in known_args(request.args) if k != "before"]
    links: dict[str, str | None] = {"first_url": None, "next_url": None, "previous_url": None}
    if len(refs) == query.limit:
        links["next_url"] = _feed_urls(path_stem, [*args, ("before", encode_cursor(refs[-1]))])[fmt]
    if query.before is None:
        if links["next_url"]:
            links["first_url"] = _feed_urls(path_stem, args)[fmt]
        return links
    links["first_url"] = links["previous_url"] = _feed_urls(path_stem, args)[fmt]
    if refs:
        newer = runtime().store.newer_refs(query, refs[0], query.limit + 1)
        if len(newer) == query.limit + 1:
            links["previous_url"] = _feed_urls(path_stem, [*args, ("before", encode_cursor(newer[-1]))])[fmt]
    return links


def _last_refreshed(source_ids) -> datetime | None:
    """When the feed's sources were last refreshed: an empty feed's updated."""
    times = [s.last_attempt_at for s in runtime().store.source_states() if s.id in source_ids and s.last_attempt_at]
    return max(times, default=None)


def _meta(fmt: str, title: str, path_stem: str, feed_request, source_id: str | None, refs) -> FeedMeta:
    rt = runtime()
    recipes = [rt.recipes[s] for s in dict.fromkeys(i.source_id for i in refs) if s in rt.recipes]
    single = rt.recipes.get(source_id) if source_id else (recipes[0] if len(recipes) == 1 else None)
    shown = [single] if source_id and single else (recipes or list(rt.recipes.values()))
    languages = {r.language for r in shown}
    site = current_app.config["SITE_TITLE"]
    urls = _feed_urls(path_stem, [(k, v) for k, v in known_args(request.args) if k != "before"])
    return FeedMeta(
        feed_id=feed_id(feed_id_authority(), path_stem),
        title=f"{title} · {site}",
        # As the paging links write it, so a page's self is the URL it was fetched by.
        self_url=_feed_urls(path_stem, [*(k_v for k_v in known_args(request.args) if k_v[0] != "before"),
                                        *(("before", v) for v in request.args.getlist("before")[:1])])[fmt],
        alternate_url=f"{base_url()}{url_for('pages.index')}",
        author=single.name if single else site,
        # Sources in one language give it; a feed mixing them says the setting's.
        language=languages.pop() if len(languages) == 1 else current_app.config["FEED_LANGUAGE"],
        zones=rt.zones(),
        formats=[(FORMATS[f].media_type, u) for f, u in urls.items()],
        hub_url=current_app.config["WEBSUB_HUB"] or None,
        stylesheet_url=f"{base_url()}{url_for('static', filename='feed.xsl')}",
        updated_when_empty=None if refs else _last_refreshed({source_id} if source_id else set(rt.recipes)),
        **_paging(fmt, path_stem, feed_request, refs),
    )


def _build(fmt: str, title: str, path_stem: str, feed_request, source_id: str | None) -> RenderedFeed:
    directory = outlet_directory()
    entries, reused, key = _entries(fmt, feed_request, directory)
    items = [ref for ref, _ in entries]  # what the head needs: times, sources, the paging cursor
    meta = _meta(fmt, title, path_stem, feed_request, source_id, items)
    body = render_feed(fmt, meta, entries, reused, fragment_cache(), key)
    return RenderedFeed(body, f"{FORMATS[fmt].media_type}; charset=utf-8", feed_updated(items, meta.updated_when_empty),
                        max_age([source_id] if source_id else [i.source_id for i in items]))


def _build_page(fmt: str, title: str, path_stem: str, feed_request, source_id: str | None) -> RenderedFeed:
    """The feed as a web page, for browsers (feedsvc.web.feed_page)."""
    rt = runtime()
    found = query_items_matching(rt.store, feed_request.items, current_app.config["FEED_REGEX_SCAN_MAX_ITEMS"])
    items = converted(found, feed_request.convert, outlet_directory())
    meta = _meta(fmt, title, path_stem, feed_request, source_id, items)
    sources = {i.source_id for i in items} | ({source_id} if source_id else set())
    zones = {rt.recipes[s].zone for s in sources if s in rt.recipes}
    zone = zones.pop() if len(zones) == 1 else DEFAULT_ZONE
    return RenderedFeed(render_page(meta, items, zone), f"{PAGE_TYPE}; charset=utf-8",
                        feed_updated(items, meta.updated_when_empty),
                        max_age([source_id] if source_id else [i.source_id for i in items]))


def respond(rendered: RenderedFeed, cache_key=None, by_accept: bool = False) -> Response:
    """Serve cached bytes with validators; gzip when the client takes it.
    With the feed cache's `cache_key`, the response is offered to the fast
    path (feedsvc.web.fastpath), which answers the same request again
    without Flask while that cache entry stays current. `by_accept`: the
    URL answers a page or the feed by the Accept header."""
    gzipped = request.accept_encodings["gzip"] > 0
    body = rendered.gzip_body if gzipped else rendered.body
    response = Response(body, content_type=rendered.content_type)
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    # Different bytes, different strong tag: the page's differs from the feed's.
    response.set_etag(rendered.etag + ("-gz" if gzipped else ""))
    response.last_modified = rendered.last_modified
    response.cache_control.public = True
    response.cache_control.max_age = rendered.max_age_seconds
    if by_accept:
        response.vary.add("Accept")
    response.vary.add("Accept-Encoding")
    if cache_key is not None:
        request.environ[FEED_RESPONSE] = (cache_key, rendered, body, metric_format(request.path))
    return response.make_conditional(request)


def _moved(path: str) -> Response:
    """Name and alias URLs of an outlet feed move to its slug URL for good:
    one URL and one id per feed."""
    query = request.query_string.decode("utf-8")
    response = Response(status=301)
    response.headers["Location"] = f"{base_url()}{quote(path)}" + (f"?{query}" if query else "")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


def canonical_stem(kind: str, name: str = "") -> str:
    """A feed's canonical path without its format (outlets by slug)."""
    return "/feeds/all" if kind == "all" else f"/feeds/{kind}/{name}"


def _serve(filename: str, kind: str):
    name, dot, fmt = filename.rpartition(".")
    if not dot or fmt not in FORMATS or not name:
        return _text(404, f"no such feed; feeds end in {', '.join('.' + f for f in FORMATS)}")
    rt = runtime()
    directory = outlet_directory()
    outlet = source_id = None
    if kind == "outlet":
        found = directory.resolve(name)
        if found is None:
            return _text(404, f"unknown outlet {name[:80]!r}; known outlets: {directory.summary()}")
        if name != found.slug:
            return _moved(f"{canonical_stem(kind, found.slug)}.{fmt}")
        # By slug: a name that is another outlet's slug never reaches this one.
        outlet, title = found.slug, found.name
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
    page = wants_page()
    build_one = _build_page if page else _build
    key = (fmt, base_url(), request.path, tuple(args), bucket, page)

    def build() -> RenderedFeed:
        if not feed_cache().known(key):  # rendering a known feed again after a store change is free
            _take_render_token()
        return build_one(fmt, title, canonical_stem(kind, name), feed_request, source_id)

    try:
        rendered = feed_cache().get(key, build)
    except RenderLimited as limited:
        response = _text(429, RENDER_LIMITED_BODY.decode())
        response.headers["Retry-After"] = retry_after_header(limited.wait_seconds)
        return response
    # A relative window's entry changes with the minute: not worth a fast path.
    return respond(rendered, None if relative else key, by_accept=True)


class RenderLimited(Exception):
    def __init__(self, wait_seconds: float):
        super().__init__(f"retry after {wait_seconds:.1f} s")
        self.wait_seconds = wait_seconds


def _take_render_token() -> None:
    """A render of a new variant costs a token of the client's bucket;
    cached feeds, and feeds rendered lately (again after the store
    changed), cost none: behind one proxy address every reader shares a
    bucket, and a busy store changes every few seconds."""
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


def _opml(groups_wanted: str):
    def build() -> RenderedFeed:
        outlets, others = opml_groups(base_url(), outlet_directory(), runtime().recipes)
        groups = [("Outlets", outlets)] if groups_wanted == "outlets" else others
        created = datetime.now(timezone.utc)
        body = render_opml(current_app.config["SITE_TITLE"], created, groups)
        latest = max((o.latest for o in outlet_directory() if o.latest), default=created)
        return RenderedFeed(body, f"{OPML_TYPE}; charset=utf-8", latest.replace(microsecond=0), 300)

    key = ("opml", groups_wanted, base_url())
    return respond(feed_cache().get(key, build), key)


@bp.get("/feeds.opml")
def opml():
    """Every outlet feed: together they hold each item once, so a reader
    that imports every outline (newsboat does, whatever its group) shows
    every item once, under its outlet."""
    return _opml("outlets")


@bp.get("/feeds-more.opml")
def opml_more():
    """The feeds that overlap the outlet feeds: everything, and per source."""
    return _opml("more")
