"""The service's state for one Flask app: store, refresher (with the
recipes it runs), metrics and the recipe reloader, kept in
`app.extensions["feedsvc"]` rather than module globals."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from feedsvc.errors import RecipeError
from feedsvc.fetch import DEFAULT_USER_AGENT, FetchSettings
from feedsvc.metrics import Metrics
from feedsvc.recipes import Recipe, RecipeFolder, load_recipes, read_recipe_folder
from feedsvc.refresh import Refresher
from feedsvc.reloader import RecipeReloader
from feedsvc.ssrf import parse_networks
from feedsvc.store import Store

EXTENSION = "feedsvc"
log = logging.getLogger(__name__)


@dataclass
class Runtime:
    store: Store
    refresher: Refresher
    metrics: Metrics
    reloader: RecipeReloader | None = None

    @property
    def recipes(self) -> dict[str, Recipe]:
        # The refresher's, so the web and the scheduler swap to reloaded
        # recipes at the same instant.
        return self.refresher.recipes

    @property
    def recipe_errors(self) -> tuple[RecipeError, ...]:
        """Recipe files refused at the last load; their previous version runs."""
        return self.reloader.errors if self.reloader else ()

    def zones(self) -> dict[str, ZoneInfo]:
        return {r.id: r.zone for r in self.recipes.values()}

    def use_recipes(self, loaded: RecipeFolder) -> None:
        """Run a reloaded recipes folder: new sources get their store row
        (and are due at once), removed ones are no longer scheduled (their
        items stay), and feeds are rendered again."""
        old, new = self.recipes, {r.id: r for r in loaded.recipes}
        added, removed = sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys())
        changed = sorted(i for i in new.keys() & old.keys() if new[i] != old[i])
        if added or changed:
            self.store.sync_sources(loaded.recipes)
        self.refresher.use_recipes(loaded.recipes)
        if added or removed or changed:
            self.store.touch()
        self.metrics.observe_recipes(len(new), len(loaded.errors), reloaded=True)
        log.info("recipes_reloaded sources=%d added=%s removed=%s changed=%s refused=%d", len(new),
                 ",".join(added) or "-", ",".join(removed) or "-", ",".join(changed) or "-", len(loaded.errors))


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


def _load(app: Flask) -> RecipeFolder:
    """Start-up refuses a broken recipe, unless the caller only reports
    (`feedsvc sources` shows what is refused instead of failing)."""
    folder, variables = app.config["RECIPES_PATH"], app.config.get("RECIPE_VARIABLES")
    if app.config.get("LENIENT_RECIPES"):
        return read_recipe_folder(folder, variables)
    return RecipeFolder(tuple(load_recipes(folder, variables)), ())


def init_app(app: Flask) -> Runtime:
    """Load recipes (refusing broken ones), open the store, make sure its
    schema and source rows exist."""
    loaded = _load(app)
    recipes = list(loaded.recipes)
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
                          lease_heartbeat_seconds=float(app.config["LEASE_HEARTBEAT_SECONDS"]),
                          listeners=[metrics.observe_refresh, *_listeners(app)])
    runtime = Runtime(store, refresher, metrics)
    runtime.reloader = RecipeReloader(app.config["RECIPES_PATH"], app.config.get("RECIPE_VARIABLES"),
                                      runtime.use_recipes, float(app.config["RECIPES_RELOAD_SECONDS"]),
                                      recipes, loaded.errors)
    metrics.observe_recipes(len(recipes), len(loaded.errors))
    metrics.watch_sources(store, lambda: runtime.recipes, refresher.lease_ttl.total_seconds(),
                          refresher.heartbeat.interval_seconds)
    app.extensions[EXTENSION] = runtime
    return runtime


def runtime() -> Runtime:
    return current_app.extensions[EXTENSION]
