from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import feedparser
import pytest

from feedsvc.app import create_app
from feedsvc.snapshot import RECIPES_DIR, SITE_DIR, SnapshotServer

TESTS_DIR = Path(__file__).parent
ATOM_SCHEMA = TESTS_DIR / "spec" / "atom.rnc"


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
def demo_app(tmp_path, snapshot):
    """The app on the demo recipes, reading the snapshot over real HTTP."""
    app = create_app({
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RECIPES_PATH": str(RECIPES_DIR),
        "RECIPE_VARIABLES": {"snapshot": snapshot.base_url},
        "TESTING": True,
        "CACHE_CHECK_INTERVAL_SECONDS": 0,  # see store changes at once; the cache has its own tests
    })
    yield app
    app.extensions["feedsvc"].refresher.close()
    app.extensions["feedsvc"].store.engine.dispose()


@pytest.fixture
def refreshed_app(demo_app):
    reports = demo_app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    assert [r.status for r in reports] == ["ok"], reports
    return demo_app


def parse_strict(body: bytes):
    """Parse a feed and fail on any well-formedness problem."""
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def validate_atom(body: bytes, tmp_path: Path) -> None:
    """Validate against the RFC 4287 RELAX NG schema with jing. Skipped
    only outside CI when jing is not installed."""
    jing = shutil.which("jing")
    if jing is None:
        if os.environ.get("CI"):
            pytest.fail("jing is not installed (apt-get install jing)")
        pytest.skip("jing is not installed (apt-get install jing)")
    path = tmp_path / "feed.atom"
    path.write_bytes(body)
    result = subprocess.run([jing, "-c", str(ATOM_SCHEMA), str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
