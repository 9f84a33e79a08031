"""Fixtures shared by every folder; helpers live in tests/support/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from feedsvc.app import create_app
from feedsvc.snapshot import SITE_DIR, SnapshotServer
from tests.support.stores import PG_ADMIN_URL, create_database, demo_settings, drop_database, reset_postgres

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
    """An empty store on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    url = request.getfixturevalue("pg_database")
    reset_postgres(url)
    return url


@pytest.fixture
def site_dir(tmp_path) -> Path:
    """A private copy of the snapshot site that a test may edit."""
    target = tmp_path / "site"
    shutil.copytree(SITE_DIR, target)
    return target


@pytest.fixture
def snapshot(site_dir):
    with SnapshotServer(site_dir) as server:
        yield server


@pytest.fixture
def demo_app(tmp_path, snapshot, database_url):
    """The app on the demo recipes, reading the snapshot over real HTTP,
    on each store backend."""
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
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.sqlite3'}"
        return
    request.getfixturevalue("pg_database")  # skips (or fails in CI) without a server
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture(scope="module")
def seeded_app(module_database_url, tmp_path_factory):
    """The demo app after one refresh, built once per test module and
    backend, for tests that only read it: a module's read-only cases share
    one crawl of the snapshot instead of one each."""
    folder = tmp_path_factory.mktemp("seeded")
    with SnapshotServer(SITE_DIR) as snapshot:
        app = create_app(demo_settings(folder / "instance", module_database_url, snapshot.base_url))
        reports = app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
        assert [r.status for r in reports] == ["ok"], reports
    yield app
    app.extensions["feedsvc"].close()
