"""Stores and the apps and refreshers over them: PostgreSQL databases of
their own, the settings a test app reads loopback sites with, and a
Refresher on a real SQLite file for recipes written inline."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import sqlite3
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from feedsvc.app import create_app
from feedsvc.fetch.page import FetchSettings
from feedsvc.sources.recipes import parse_recipe
from feedsvc.ingest.refresh import Refresher
from feedsvc.snapshot import RECIPES_DIR
from feedsvc.core.networks import parse_networks
from feedsvc.fetch.ssrf import LOOPBACK_NETWORKS
from feedsvc.service import database_url_for
from feedsvc.store import migrate
from feedsvc.store.store import Store
from tests.support.sites import listing_recipe

# PostgreSQL for the tests that run on both backends: trust auth on loopback.
PG_ADMIN_URL = os.environ.get("FEEDSVC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LOOPBACK = parse_networks(LOOPBACK_NETWORKS)

# What every in-process app of the tests needs to read loopback sites at once.
LOOPBACK_FETCHING = {"FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FETCH_HOST_DELAY_SECONDS": 0}


def create_database() -> str:
    """A new, empty PostgreSQL database; its URL."""
    name = f"feedsvc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def copy_store(source: str, target: str) -> None:
    """Make the store at `target` a copy of the one at `source` (same
    backend; a PostgreSQL source must have no open connections)."""
    if source.startswith("sqlite"):
        with sqlite3.connect(source.removeprefix("sqlite:///")) as src, \
                sqlite3.connect(target.removeprefix("sqlite:///")) as dst:
            src.backup(dst)
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.rsplit("/", 1)[1]}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.rsplit("/", 1)[1]}" TEMPLATE "{source.rsplit("/", 1)[1]}"'))
    admin.dispose()


def reset_postgres(url: str) -> None:
    """An empty schema: no tables, no revision (for tests of migrating)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def empty_store(url: str) -> str:
    """Make the store at `url` what a first migration leaves: the newest
    revision, no items, no sources. Migrating takes ~40 ms of Python a
    store and most tests want only an empty one, so SQLite copies a file
    migrated once per process, and PostgreSQL empties the tables and puts
    back the rows the migrations write (a database at another revision or
    with other tables is rebuilt by migrating). Returns `url`."""
    if url.startswith("sqlite"):
        copy_store(_migrated_sqlite(), url)
        return url
    engine = create_engine(url)
    try:
        if not _refill_postgres(engine):
            reset_postgres(url)
            migrate.upgrade(engine)
            with engine.connect() as conn:
                _SEEDED.update({name: [dict(row._mapping) for row in conn.execute(text(f'SELECT * FROM "{name}"'))]
                                for name in _public_tables(conn) - {"alembic_version"}})
    finally:
        engine.dispose()
    return url


def _public_tables(conn) -> set[str]:
    return set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())


def _refill_postgres(engine) -> bool:
    """Empty a database at the newest revision, with the tables a first
    migration makes, and put back what it writes; False for any other."""
    with engine.begin() as conn:
        tables = _public_tables(conn)
        if not (_SEEDED and tables == set(_SEEDED) | {"alembic_version"} and conn.execute(
                text("SELECT version_num FROM alembic_version")).scalar() == migrate.head_revision()):
            return False
        conn.execute(text(f"TRUNCATE {', '.join(sorted(_SEEDED))} RESTART IDENTITY CASCADE"))
        for table, rows in _SEEDED.items():
            for row in rows:
                conn.execute(text(f"INSERT INTO {table} ({', '.join(row)}) VALUES "
                                  f"({', '.join(':' + column for column in row)})"), row)
    return True


def sqlite_store(path: Path) -> str:
    """The URL of the SQLite store at `path`; an empty one at the newest
    revision is put there first when there is none."""
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    path.parent.mkdir(parents=True, exist_ok=True)  # as the store makes its folder
    return empty_store(url)


def sqlite_only():
    """(module_database_url, database_url) fixtures on SQLite only, for a
    module whose tests are not about the store: assign them to those two
    names in the module, and its cases run once instead of per backend."""

    @pytest.fixture(scope="module", name="module_database_url")
    def module_url(tmp_path_factory) -> str:
        return sqlite_store(tmp_path_factory.mktemp("store") / "store.sqlite3")

    @pytest.fixture(name="database_url")
    def case_url(tmp_path) -> str:
        return sqlite_store(tmp_path / "store.sqlite3")

    return module_url, case_url


def instance_folder(path: Path) -> str:
    """`path`, made, with a store where an app looks for one when no
    DATABASE_URL is set, so that the app opens it instead of migrating a
    store of its own."""
    path.mkdir(parents=True, exist_ok=True)
    sqlite_store(Path(database_url_for({"INSTANCE_PATH": path, "DATABASE_URL": None}).removeprefix("sqlite:///")))
    return str(path)


# What a first migration writes on PostgreSQL, by table (learnt the first
# time this process migrates a database).
_SEEDED: dict[str, list[dict]] = {}


@functools.cache
def _migrated_sqlite() -> str:
    folder = Path(tempfile.mkdtemp(prefix="feedsvc-empty-store-"))
    atexit.register(shutil.rmtree, folder, True)
    url = f"sqlite:///{folder / 'store.sqlite3'}"
    migrate.upgrade(engine := create_engine(url))
    engine.dispose()
    return url


def demo_recipes(folder: Path, snapshot_url: str) -> Path:
    """The demo's recipe in `folder`, reading the snapshot site at `snapshot_url`."""
    folder.mkdir(parents=True, exist_ok=True)
    recipe = (RECIPES_DIR / "iqilu-shandong.toml").read_text(encoding="utf-8")
    (folder / "iqilu-shandong.toml").write_text(recipe.replace("{snapshot}", snapshot_url), encoding="utf-8")
    return folder


def demo_settings(instance: Path, database_url: str, snapshot_url: str) -> dict:
    """The app on the demo recipes, reading the snapshot over real HTTP."""
    return {
        "INSTANCE_PATH": str(instance), "DATABASE_URL": database_url, "DB_AUTO_UPGRADE": True,
        "RECIPES_PATH": str(RECIPES_DIR), "RECIPE_VARIABLES": {"snapshot": snapshot_url}, "TESTING": True,
        "CACHE_CHECK_INTERVAL_SECONDS": 0,  # see store changes at once; the cache has its own tests
        **LOOPBACK_FETCHING,  # the snapshot site is on loopback
    }


def make_app(tmp_path: Path, database_url: str, recipes: Path | None = None, **settings):
    """An app on the recipes in `recipes` (tmp_path/feeds by default)."""
    return create_app({
        "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database_url, "DB_AUTO_UPGRADE": True,
        "RECIPES_PATH": str(recipes or tmp_path / "feeds"), "TESTING": True, "CACHE_CHECK_INTERVAL_SECONDS": 0,
        **LOOPBACK_FETCHING, **settings,
    })


def close(app) -> None:
    app.extensions["feedsvc"].refresher.close()
    app.extensions["feedsvc"].store.engine.dispose()


def write_recipe(folder: Path, url: str, retention: str = "", outlet: str = 'outlet = "测试日报"\n') -> None:
    """A feed recipe "daily" on `url`."""
    folder.mkdir(exist_ok=True)
    (folder / "daily.toml").write_text(
        f'id = "daily"\nname = "Daily"\nkind = "feed"\nstart_urls = ["{url}"]\n'
        f'{outlet}obey_robots_txt = false\n{retention}', encoding="utf-8")


def settings(**overrides) -> FetchSettings:
    """Fetch settings for loopback sites: short timeouts, no per-host delay."""
    values = {"timeout_seconds": 5, "connect_timeout_seconds": 2, "allowed_networks": LOOPBACK,
              "host_delay_seconds": 0}
    return FetchSettings(**{**values, **overrides})


def refresher(tmp_path: Path, *recipe_texts: str, **fetch_overrides) -> Refresher:
    recipes = [parse_recipe(text, f"r{i}.toml") for i, text in enumerate(recipe_texts)]
    store = Store.from_url(sqlite_store(tmp_path / "store.sqlite3"))
    store.upgrade_schema()
    store.sync_sources(recipes)
    return Refresher(store, recipes, settings(**fetch_overrides), concurrency=2)


def image_proxy_settings(tmp_path: Path, site, **overrides) -> dict:
    """An app with the image proxy on, reading `image_site`'s listing."""
    folder = tmp_path / "recipes"
    folder.mkdir(exist_ok=True)
    (folder / "news.toml").write_text(listing_recipe(site.url("/list")), encoding="utf-8")
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "RECIPES_PATH": str(folder),
            "DATABASE_URL": sqlite_store(tmp_path / "store.sqlite3"), "TESTING": True,
            "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FETCH_HOST_DELAY_SECONDS": 0,
            "CACHE_CHECK_INTERVAL_SECONDS": 0, "FETCH_TIMEOUT_SECONDS": 5, "IMAGE_PROXY": True, **overrides}
