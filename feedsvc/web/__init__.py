"""HTTP: feeds, the index page, health and manual refresh. Reads the
store and asks the refresher; never fetches by itself."""

from __future__ import annotations

from flask import Flask

from feedsvc.auth import parse_networks
from feedsvc.feedcache import FeedCache, VersionWatcher
from feedsvc.runtime import EXTENSION
from feedsvc.web import admin, feeds, pages
from feedsvc.web.state import FEED_CACHE, TRUSTED_PROXIES


def init_app(app: Flask) -> None:
    store = app.extensions[EXTENSION].store
    watcher = VersionWatcher(store.version, float(app.config["CACHE_CHECK_INTERVAL_SECONDS"]))
    app.extensions[FEED_CACHE] = FeedCache(watcher)
    app.extensions[TRUSTED_PROXIES] = parse_networks(app.config["TRUSTED_PROXIES"])
    for blueprint in (feeds.bp, pages.bp, admin.bp):
        app.register_blueprint(blueprint)
