"""The service without its web face: settings (parsed once), the store,
the refresher (with the recipes it runs), metrics and the recipe reloader,
assembled in one place. The scheduler and the command line use it as it
is; `feedsvc.app.create_app` wraps it for HTTP. No Flask here, so a worker
process never loads the web stack."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from feedsvc.core import logs
from feedsvc.core.config import Settings, load_settings
from feedsvc.core.errors import RecipeError
from feedsvc.fetch.page import DEFAULT_USER_AGENT, FetchSettings
from feedsvc.metrics.registry import Metrics
from feedsvc.sources.recipes import Recipe, RecipeFolder, load_recipes, read_recipe_folder
from feedsvc.ingest.refresh import Refresher
from feedsvc.sources.reloader import RecipeReloader
from feedsvc.sources.rules import RuleSet, parse_rule_set
from feedsvc.store.store import Store

EXTENSION = "feedsvc"
log = logging.getLogger(__name__)


@dataclass
class Service:
    settings: Settings
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

    def close(self) -> None:
        """Let go of the fetch client and the store's connections."""
        self.refresher.close()
        self.store.engine.dispose()

    @classmethod
    def from_settings(cls, settings: Settings) -> Service:
        """Load recipes (refusing broken ones), open the store, make sure its
        schema and source rows exist."""
        loaded = _load(settings)
        recipes = list(loaded.recipes)
        store = Store.from_url(database_url_for(settings))
        # The embedded SQLite store upgrades itself; a shared PostgreSQL store is
        # upgraded once, by `feedsvc db upgrade`, before new code starts on it.
        if store.is_sqlite or settings["DB_AUTO_UPGRADE"]:
            store.upgrade_schema()
        else:
            store.check_schema()
        store.sync_sources(recipes)
        metrics = Metrics()
        refresher = Refresher(store, recipes, fetch_settings(settings),
                              jitter_ratio=settings["REFRESH_JITTER_RATIO"],
                              concurrency=settings["REFRESH_CONCURRENCY"],
                              lease_seconds=settings["LEASE_SECONDS"],
                              lease_heartbeat_seconds=settings["LEASE_HEARTBEAT_SECONDS"],
                              outlets_per_source_max=settings["OUTLETS_PER_SOURCE_MAX"],
                              rules=service_rules(settings),
                              listeners=[metrics.observe_refresh, *_listeners(settings, store)])
        service = cls(settings, store, refresher, metrics)
        service.reloader = RecipeReloader(settings["RECIPES_PATH"], settings.get("RECIPE_VARIABLES"),
                                          service.use_recipes, settings["RECIPES_RELOAD_SECONDS"],
                                          recipes, loaded.errors)
        metrics.observe_recipes(len(recipes), len(loaded.errors))
        metrics.watch_sources(store, lambda: service.recipes, refresher.lease_ttl.total_seconds(),
                              refresher.heartbeat.interval_seconds)
        return service


def open_service(overrides: Mapping[str, object] | None = None) -> Service:
    """The service of this process: settings from the environment and
    `overrides`, the instance folder made, logging set up."""
    settings = load_settings(overrides)
    os.makedirs(settings["INSTANCE_PATH"], exist_ok=True)
    logs.configure(settings["LOG_LEVEL"], settings["LOG_FORMAT"])
    return Service.from_settings(settings)


def fetch_settings(settings: Settings) -> FetchSettings:
    return FetchSettings(
        timeout_seconds=settings["FETCH_TIMEOUT_SECONDS"],
        connect_timeout_seconds=settings["FETCH_CONNECT_TIMEOUT_SECONDS"],
        max_bytes=settings["FETCH_MAX_BYTES"],
        max_redirects=settings["FETCH_MAX_REDIRECTS"],
        user_agent=settings["USER_AGENT"] or DEFAULT_USER_AGENT,
        allowed_networks=settings["FETCH_ALLOWED_NETWORKS"],
        host_delay_seconds=settings["FETCH_HOST_DELAY_SECONDS"],
        proxy_from_environment=settings["FETCH_PROXY_FROM_ENVIRONMENT"],
        browser_pages=settings["BROWSER_PAGES"],
    )


def service_rules(settings: Mapping[str, object]) -> RuleSet:
    """FEEDSVC_RULES, or a start-up error naming the rule at fault."""
    try:
        return parse_rule_set(settings.get("RULES") or {})
    except ValueError as exc:
        raise ValueError(f"FEEDSVC_RULES: {exc}") from None


def database_url_for(settings: Mapping[str, object]) -> str:
    # The demo keeps its own file so its snapshot items never mix with real ones.
    name = "demo.sqlite3" if settings.get("DEMO") else "feedsvc.sqlite3"
    return settings["DATABASE_URL"] or f"sqlite:///{Path(settings['INSTANCE_PATH']) / name}"


def _listeners(settings: Settings, store: Store) -> list:
    """What hears about every refresh: the WebSub hub, when configured."""
    hub = settings["WEBSUB_HUB"]
    if not hub:
        return []
    if not settings["BASE_URL"]:
        log.warning("websub_disabled reason=%s", "FEEDSVC_WEBSUB_HUB needs FEEDSVC_BASE_URL for the topic URLs")
        return []
    from feedsvc.core.outlets import OutletDirectory
    from feedsvc.ingest.websub import Publisher

    aliases = settings["OUTLET_ALIASES"]
    return [Publisher(hub, settings["BASE_URL"], lambda: OutletDirectory(store.outlets(), aliases))]


def _load(settings: Settings) -> RecipeFolder:
    """Start-up refuses a broken recipe, unless the caller only reports
    (`feedsvc sources` shows what is refused instead of failing)."""
    folder, variables = settings["RECIPES_PATH"], settings.get("RECIPE_VARIABLES")
    if settings.get("LENIENT_RECIPES"):
        return read_recipe_folder(folder, variables)
    return RecipeFolder(tuple(load_recipes(folder, variables)), ())
