from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import feedparser
import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

from feedsvc.app import create_app
from feedsvc.snapshot import RECIPES_DIR, SITE_DIR, SnapshotServer

# The suite replays the same generated inputs every run, so a landing never
# fails on an input no one has seen before; "explore" draws new ones (and
# ten times as many) to look for bugs.
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("FEEDSVC_TEST_HYPOTHESIS", "default"))


def examples(count: int) -> int:
    """How many inputs a property test draws: `count`, or ten times that
    when exploring."""
    return count * 10 if os.environ.get("FEEDSVC_TEST_HYPOTHESIS") == "explore" else count


TESTS_DIR = Path(__file__).parent
ATOM_SCHEMA = TESTS_DIR / "spec" / "atom.rnc"


# PostgreSQL for the tests that run on both backends: trust auth on loopback.
PG_ADMIN_URL = os.environ.get("FEEDSVC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_database():
    """A fresh database for this test run, dropped at the end."""
    name = f"feedsvc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server: a skip locally, a failure in CI
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


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
    app = create_app({
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "DB_AUTO_UPGRADE": True,
        "RECIPES_PATH": str(RECIPES_DIR),
        "RECIPE_VARIABLES": {"snapshot": snapshot.base_url},
        "TESTING": True,
        "CACHE_CHECK_INTERVAL_SECONDS": 0,  # see store changes at once; the cache has its own tests
        "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",  # the snapshot site is on loopback
        "FETCH_HOST_DELAY_SECONDS": 0,
    })
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
    name = f"feedsvc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def seeded_app(module_database_url, tmp_path_factory):
    """The demo app after one refresh, built once per test module and
    backend, for tests that only read it: a module's read-only cases share
    one crawl of the snapshot instead of one each."""
    folder = tmp_path_factory.mktemp("seeded")
    with SnapshotServer(SITE_DIR) as snapshot:
        app = create_app({
            "INSTANCE_PATH": str(folder / "instance"), "DATABASE_URL": module_database_url, "DB_AUTO_UPGRADE": True,
            "RECIPES_PATH": str(RECIPES_DIR), "RECIPE_VARIABLES": {"snapshot": snapshot.base_url}, "TESTING": True,
            "CACHE_CHECK_INTERVAL_SECONDS": 0, "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FETCH_HOST_DELAY_SECONDS": 0,
        })
        reports = app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
        assert [r.status for r in reports] == ["ok"], reports
    yield app
    app.extensions["feedsvc"].close()


def parse_strict(body: bytes):
    """Parse a feed and fail on any well-formedness problem."""
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def validate_atom(body: bytes, tmp_path: Path) -> None:
    """Validate against the RFC 4287 RELAX NG schema with jing. Skipped
    only outside CI when jing is not installed."""
    validate_atoms([body], tmp_path)


def validate_atoms(bodies: list[bytes], tmp_path: Path) -> None:
    """Validate many feeds with one jing process (a JVM start each is slow)."""
    jing = shutil.which("jing")
    if jing is None:
        if os.environ.get("CI"):
            pytest.fail("jing is not installed (apt-get install jing)")
        pytest.skip("jing is not installed (apt-get install jing)")
    paths = []
    for n, body in enumerate(bodies):
        paths.append(tmp_path / f"feed-{n}.atom")
        paths[-1].write_bytes(body)
    result = subprocess.run([jing, "-c", str(ATOM_SCHEMA), *map(str, paths)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
