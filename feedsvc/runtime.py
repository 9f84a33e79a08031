"""The service's state for one Flask app: recipes, store and refresher,
kept in `app.extensions["feedsvc"]` rather than module globals."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from feedsvc.fetch import DEFAULT_USER_AGENT, FetchSettings
from feedsvc.metrics import Metrics
from feedsvc.ssrf import parse_networks
from feedsvc.recipes import Recipe, load_recipes
from feedsvc.refresh import Refresher
from feedsvc.store import Store

EXTENSION = "feedsvc"
log = logging.getLogger(__name__)


@dataclass
class Runtime:
    recipes: dict[str, Recipe]
    store: Store
    refresher: Refresher
    metrics: Metrics

    def zones(self) -> dict[str, ZoneInfo]:
        return {r.id: r.zone for r in self.recipes.values()}


def fetch_settings(config) -> FetchSettings:
    return FetchSettings(
        timeout_seconds=float(config["FETCH_TIMEOUT_SECONDS"]),
        connect_timeout_seconds=float(config["FETCH_CONNECT_TIMEOUT_SECONDS"]),
        max_bytes=int(config["FETCH_MAX_BYTES"]),
        max_redirects=int(config["FETCH_MAX_REDIRECTS"]),
        user_agent=config["USER_AGENT"] or DEFAULT_USER_AGENT,
        allowed_networks=parse_networks(config["FETCH_ALLOWED_NETWORKS"]),
        host_delay_seconds=float(config["FETCH_HOST_DELAY_SECONDS"]),
    )


def database_url_for(settings) -> str:
    # The demo keeps its own file so its snapshot items never mix with real ones.
    name = "demo.sqlite3" if settings.get("DEMO") else "feedsvc.sqlite3"
    return settings["DATABASE_URL"] or f"sqlite:///{Path(settings['INSTANCE_PATH']) / name}"


def _listeners(app: Flask) -> list:
    """What hears about every refresh: the WebSub hub, when configured."""
    hub = app.config["WEBSUB_HUB"]
    if not hub:
        return []
    if not app.config["BASE_URL"]:
        log.warning("websub_disabled reason=%s", "FEEDSVC_WEBSUB_HUB needs FEEDSVC_BASE_URL for the topic URLs")
        return []
    from feedsvc.websub import Publisher

    return [Publisher(hub, app.config["BASE_URL"])]


def init_app(app: Flask) -> Runtime:
    """Load recipes (refusing broken ones), open the store, make sure its
    schema and source rows exist."""
    recipes = load_recipes(app.config["RECIPES_PATH"], app.config.get("RECIPE_VARIABLES"))
    store = Store.from_url(database_url_for(app.config))
    # The embedded SQLite store upgrades itself; a shared PostgreSQL store is
    # upgraded once, by `feedsvc db upgrade`, before new code starts on it.
    if store.is_sqlite or app.config["DB_AUTO_UPGRADE"]:
        store.upgrade_schema()
    else:
        store.check_schema()
    store.sync_sources(recipes)
    metrics = Metrics()
    refresher = Refresher(store, recipes, fetch_settings(app.config),
                          jitter_ratio=float(app.config["REFRESH_JITTER_RATIO"]),
                          concurrency=int(app.config["REFRESH_CONCURRENCY"]),
                          lease_seconds=float(app.config["LEASE_SECONDS"]),
                          listeners=[metrics.observe_refresh, *_listeners(app)])
    runtime = Runtime({r.id: r for r in recipes}, store, refresher, metrics)
    app.extensions[EXTENSION] = runtime
    return runtime


def runtime() -> Runtime:
    return current_app.extensions[EXTENSION]
