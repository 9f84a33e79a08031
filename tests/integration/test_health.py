"""/healthz: 200 with details while the store answers, 503 when it does not,
without the database's own words (they can name hosts, users, paths)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.stores import reset_postgres


def test_healthz_names_failing_sources_and_turns_503_without_a_store(demo_app, database_url, site_dir):
    client = demo_app.test_client()
    runtime = demo_app.extensions["feedsvc"]
    assert client.get("/healthz").get_json() == {
        "status": "ok", "items": 0, "sources": len(runtime.recipes), "failing_sources": []}

    shutil.rmtree(site_dir)  # every page now answers 404
    site_dir.mkdir()
    [report] = runtime.refresher.refresh_many(["iqilu-shandong"])
    assert report.status == "error"
    assert client.get("/healthz").get_json()["failing_sources"] == ["iqilu-shandong"]

    runtime.store.engine.dispose()
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
    else:
        reset_postgres(database_url)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and body["store"] == "unavailable" and body["error_kind"]
    text = response.get_data(as_text=True)
    assert "no such table" not in text and "does not exist" not in text  # the database's words stay in the log
    assert database_url.rsplit("/", 1)[-1] not in text
