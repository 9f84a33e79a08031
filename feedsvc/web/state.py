"""Per-app state the web layer keeps in `app.extensions`: the service it
serves and its caches."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import PurePath

from flask import current_app

from feedsvc.web.feedcache import FeedCache
from feedsvc.core.outlets import OutletDirectory
from feedsvc.render import FragmentCache
from feedsvc.service import EXTENSION, Service

FEED_CACHE = "feedsvc.feed_cache"
FRAGMENT_CACHE = "feedsvc.fragment_cache"
# WSGI environ key under which a feed response offers itself to the fast path.
FEED_RESPONSE = "feedsvc.feed_response"
TRUSTED_PROXIES = "feedsvc.trusted_proxies"
ADMIN_LIMITER = "feedsvc.admin_limiter"
FEED_ID_AUTHORITY = "feedsvc.feed_id_authority"
RENDER_LIMITER = "feedsvc.render_limiter"
# How long a client is asked to wait (Retry-After) when the store cannot be reached.
STORE_RETRY_AFTER_SECONDS = 10


def runtime() -> Service:
    """The service this app serves."""
    return current_app.extensions[EXTENSION]


def feed_cache() -> FeedCache:
    return current_app.extensions[FEED_CACHE]


def fragment_cache() -> FragmentCache:
    return current_app.extensions[FRAGMENT_CACHE]


def outlet_directory() -> OutletDirectory:
    """Outlets with aliases and slugs, rebuilt only when the store changes."""
    store = runtime().store
    aliases = current_app.config["OUTLET_ALIASES"]
    return feed_cache().get(("outlet-directory",), lambda: OutletDirectory(store.outlets(), aliases))


def feed_id_authority() -> str:
    """The tagging entity of feed ids (feedsvc.store.feed_ids), settled once per
    process; with neither setting, the first request's host is recorded."""
    authority = current_app.extensions.get(FEED_ID_AUTHORITY)
    if authority is None:
        from flask import request

        from feedsvc.store.feed_ids import settle_authority

        authority = settle_authority(runtime().store, current_app.config["FEED_ID_AUTHORITY"],
                                     current_app.config["BASE_URL"] or request.host_url, datetime.now(timezone.utc))
        current_app.extensions[FEED_ID_AUTHORITY] = authority
    return authority


def base_url() -> str:
    from flask import request

    return (current_app.config["BASE_URL"] or request.host_url).rstrip("/")


def refused_recipes() -> list[tuple[str, str, str]]:
    """Recipe files refused at the last reload as (file name, key, reason):
    file names only, as where the recipes folder lives is no visitor's business."""
    return [(PurePath(e.file).name, e.key, e.reason) for e in runtime().recipe_errors]
