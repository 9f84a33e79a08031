"""HTTP: feeds, the index page, health and manual refresh. Reads the
store and asks the refresher; never fetches by itself."""

from __future__ import annotations

from flask import Flask, Response
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from feedsvc.web.feedcache import FeedCache, VersionWatcher
from feedsvc.render import FragmentCache
from feedsvc.service import EXTENSION
from feedsvc.web import admin, api, cors, feeds, images, pages, security
from feedsvc.web.ratelimit import RateLimiter
from feedsvc.web.fastpath import FeedFastPath
from feedsvc.web.state import (ADMIN_LIMITER, FEED_CACHE, FEED_ID_AUTHORITY, FRAGMENT_CACHE, RENDER_LIMITER,
                               STORE_RETRY_AFTER_SECONDS, TRUSTED_PROXIES)


def init_app(app: Flask) -> None:
    """Serve the service in `app.extensions` (see feedsvc.app.create_app)."""
    service = app.extensions[EXTENSION]
    settings = service.settings
    watcher = VersionWatcher(service.store.version, settings["CACHE_CHECK_INTERVAL_SECONDS"])
    cache = app.extensions[FEED_CACHE] = FeedCache(watcher, settings["FEED_CACHE_MAX_BYTES"])
    trusted = app.extensions[TRUSTED_PROXIES] = settings["TRUSTED_PROXIES"]
    app.extensions[ADMIN_LIMITER] = RateLimiter(settings["ADMIN_RATE_LIMIT_PER_MINUTE"],
                                                settings["ADMIN_RATE_LIMIT_BURST"])
    renders = app.extensions[RENDER_LIMITER] = RateLimiter(settings["FEED_RENDER_RATE_PER_MINUTE"],
                                                           settings["FEED_RENDER_BURST"])
    security.init_app(app)
    cors.init_app(app)
    _settle_feed_ids(app)
    for blueprint in (feeds.bp, pages.bp, admin.bp, api.bp):
        app.register_blueprint(blueprint)
    images.init_app(app)
    app.register_error_handler(UnicodeDecodeError, _undecodable_request)
    for error in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(error, _store_unavailable)
    app.extensions[FRAGMENT_CACHE] = FragmentCache()
    # Last, so it sits in front of everything Flask does for a request.
    fast = app.wsgi_app = FeedFastPath(app.wsgi_app, cache, service.metrics,
                                       host_in_key=not settings["BASE_URL"], render_limiter=renders,
                                       trusted_proxies=trusted)
    service.metrics.watch_cache(
        lambda: (cache.stats.hits, cache.stats.misses),
        lambda: {"bytes": cache.bytes, "entries": len(cache), "key_locks": cache.key_locks, "fast_answers": len(fast)})


def _settle_feed_ids(app: Flask) -> None:
    """Record the feed ids' authority at start when the settings name it
    (else at the first request: feedsvc.web.state.feed_id_authority)."""
    if app.config["FEED_ID_AUTHORITY"] or app.config["BASE_URL"]:
        from datetime import datetime, timezone

        from feedsvc.store.feed_ids import settle_authority

        app.extensions[FEED_ID_AUTHORITY] = settle_authority(
            app.extensions[EXTENSION].store, app.config["FEED_ID_AUTHORITY"], app.config["BASE_URL"],
            datetime.now(timezone.utc))


def _undecodable_request(_error) -> Response:
    # Werkzeug decodes the query string lazily and raises on bytes that are
    # not UTF-8: that is the client's mistake, not a server error.
    return Response("query string is not valid UTF-8\n", 400, mimetype="text/plain")


def _store_unavailable(error) -> Response:
    # The store is down or unreachable: what is cached is still served (see
    # feedsvc.web.feedcache.VersionWatcher, which logs the outage once);
    # anything else must wait for it.
    response = Response("the store is unavailable; try again shortly\n", 503, mimetype="text/plain")
    response.headers["Retry-After"] = str(STORE_RETRY_AFTER_SECONDS)
    return response
