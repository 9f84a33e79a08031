"""Fixtures shared by every folder; helpers live in tests/support/."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# pytest keeps each test module it rewrites (asserts) as bytecode beside it,
# unless PYTHONDONTWRITEBYTECODE is set: then every worker parses, rewrites
# and compiles the 80 test modules (and feedsvc's) again on every run, ~2 s
# before its first test. The cache is in the git-ignored __pycache__ folders.
sys.dont_write_bytecode = False

import pytest
from hypothesis import settings

# The app and the stores are imported by the fixtures that use them: the
# xdist controller loads this file too, runs no fixture, and starts the
# workers only once it has (importing the app here costs each run ~1 s).

# The suite replays the same generated inputs every run, so a landing never
# fails on an input no one has seen before; "explore" draws new ones (and
# ten times as many, see tests.support.checks.examples) to look for bugs.
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("FEEDSVC_TEST_HYPOTHESIS", "default"))


@pytest.fixture(scope="session")
def pg_database():
    """A fresh database for this test run (each xdist worker its own),
    dropped at the end."""
    from tests.support.stores import PG_ADMIN_URL, create_database, drop_database

    try:
        url = create_database()
    except Exception as exc:  # no server: a skip locally, a failure in CI
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    yield url
    drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """An empty store on each backend, at the newest revision."""
    from tests.support.stores import empty_store

    if request.param == "sqlite":
        return empty_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    return empty_store(request.getfixturevalue("pg_database"))


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_database_url(request, tmp_path) -> str:
    """A database on each backend without any table, for tests of migrating."""
    from tests.support.stores import reset_postgres

    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    url = request.getfixturevalue("pg_database")
    reset_postgres(url)
    return url


@pytest.fixture
def site_dir(tmp_path) -> Path:
    """A private copy of the snapshot site that a test may edit."""
    from feedsvc.snapshot import SITE_DIR

    target = tmp_path / "site"
    shutil.copytree(SITE_DIR, target)
    return target


@pytest.fixture
def snapshot(site_dir):
    from feedsvc.snapshot import SnapshotServer

    with SnapshotServer(site_dir) as server:
        yield server


@pytest.fixture
def demo_app(tmp_path, snapshot, database_url):
    """The app on the demo recipes, reading the snapshot over real HTTP,
    on each store backend."""
    from feedsvc.app import create_app
    from tests.support.stores import demo_settings

    app = create_app(demo_settings(tmp_path / "instance", database_url, snapshot.base_url))
    yield app
    app.extensions["feedsvc"].refresher.close()
    app.extensions["feedsvc"].store.engine.dispose()


@pytest.fixture
def refreshed_app(demo_app):
    reports = demo_app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    assert [r.status for r in reports] == ["ok"], reports
    return demo_app


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database_url(request, tmp_path_factory) -> str:
    """An empty store on each backend for a whole test module, for stores
    that are built once and then only read. On PostgreSQL it is a database
    of its own, so function-scoped stores reset beside it leave it be."""
    from tests.support.stores import create_database, drop_database

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.sqlite3'}"
        return
    request.getfixturevalue("pg_database")  # skips (or fails in CI) without a server
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def seeded_stores(tmp_path_factory):
    """What the demo's one refresh stores, crawled once per worker and
    backend: (store URL, snapshot URL) by backend, copied for each module."""
    from feedsvc.app import create_app
    from feedsvc.snapshot import SITE_DIR, SnapshotServer
    from tests.support.stores import create_database, demo_settings, drop_database

    made: dict[str, tuple[str, str]] = {}

    def seeded(backend: str) -> tuple[str, str]:
        if backend not in made:
            folder = tmp_path_factory.mktemp(f"seed-{backend}")
            url = f"sqlite:///{folder / 'store.sqlite3'}" if backend == "sqlite" else create_database()
            with SnapshotServer(SITE_DIR) as snapshot:
                app = create_app(demo_settings(folder / "instance", url, snapshot.base_url))
                reports = app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
                app.extensions["feedsvc"].close()
                assert [r.status for r in reports] == ["ok"], reports
                made[backend] = (url, snapshot.base_url)
        return made[backend]

    yield seeded
    for url, _ in made.values():
        if not url.startswith("sqlite"):
            drop_database(url)


@pytest.fixture(scope="module")
def seeded_app(module_database_url, seeded_stores, tmp_path_factory):
    """The demo app after one refresh, for tests that only read it: each
    module and backend gets its own copy of a store crawled once per
    worker, instead of a crawl each."""
    from feedsvc.app import create_app
    from tests.support.stores import copy_store, demo_settings

    backend = "sqlite" if module_database_url.startswith("sqlite") else "postgresql"
    seeded_url, snapshot_url = seeded_stores(backend)
    copy_store(seeded_url, module_database_url)
    folder = tmp_path_factory.mktemp("seeded")
    app = create_app(demo_settings(folder / "instance", module_database_url, snapshot_url))
    yield app
    app.extensions["feedsvc"].close()
