"""The scheduler tick: due-ness lives in the store."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from feedsvc.app import create_app
from feedsvc.ingest.scheduler import make_scheduler, tick
from feedsvc.store.store import utcnow
from tests.support.stores import instance_folder

PAGES = {
    "due": "shandong/yaowen/2019/1023/4371235.shtml",
    "later": "shandong/shandonggedi/20191022/4370790.shtml",
}


@pytest.fixture
def app(tmp_path, snapshot):
    folder = tmp_path / "feeds"
    folder.mkdir()
    for source_id, page in PAGES.items():
        (folder / f"{source_id}.toml").write_text(f"""
id = "{source_id}"
name = "{source_id}"
kind = "article_page"
refresh_interval_minutes = 60
start_urls = ["{snapshot.base_url}/{page}"]
[article]
title = "h1.article-title"
published = ".article-info .time"
""", encoding="utf-8")
    app = create_app({"INSTANCE_PATH": instance_folder(tmp_path / "i"), "RECIPES_PATH": str(folder),
                      "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8,::1", "FETCH_HOST_DELAY_SECONDS": 0,
                      "REFRESH_JITTER_RATIO": 0.1, "SCHEDULER_TICK_SECONDS": 0.2})
    yield app
    app.extensions["feedsvc"].store.engine.dispose()


def test_tick_refreshes_due_sources_only(app):
    store = app.extensions["feedsvc"].store
    future = utcnow() + timedelta(minutes=5)
    store.set_next_run("later", future)
    before = utcnow()
    assert tick(app.extensions["feedsvc"]) == 1
    due, later = store.source_state("due"), store.source_state("later")
    assert due.last_success_at >= before and later.last_success_at is None
    assert later.next_run_at == future
    # The refreshed source is not due again until its interval has passed.
    assert tick(app.extensions["feedsvc"]) == 0


def test_next_run_advances_by_the_interval_with_bounded_jitter(app):
    store = app.extensions["feedsvc"].store
    offsets = set()
    for _ in range(5):
        store.set_next_run("due", utcnow() - timedelta(seconds=1))
        store.set_next_run("later", utcnow() + timedelta(days=1))
        tick(app.extensions["feedsvc"])
        state = store.source_state("due")
        offset = state.next_run_at - state.last_attempt_at
        assert timedelta(minutes=60) <= offset <= timedelta(minutes=66)
        offsets.add(offset)
    assert len(offsets) > 1  # jitter really varies


def test_failures_back_off(app, site_dir):
    store = app.extensions["feedsvc"].store
    store.set_next_run("later", utcnow() + timedelta(days=1))
    (site_dir / PAGES["due"]).unlink()
    delays = []
    for _ in range(3):
        store.set_next_run("due", utcnow() - timedelta(seconds=1))
        tick(app.extensions["feedsvc"])
        state = store.source_state("due")
        delays.append(state.next_run_at - state.last_attempt_at)
    assert delays == [timedelta(minutes=60), timedelta(minutes=120), timedelta(minutes=240)]
    assert store.source_state("due").consecutive_failures == 3


def test_apscheduler_runs_the_tick(app):
    scheduler = make_scheduler(app.extensions["feedsvc"])
    job = scheduler.get_job("refresh-tick")
    assert job.max_instances == 1 and job.coalesce is True
    scheduler.start()
    try:
        store = app.extensions["feedsvc"].store
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and store.source_state("later").last_success_at is None:
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    assert all(s.last_success_at is not None for s in store.source_states())


def test_a_read_only_store_fails_the_tick_in_one_line(app, tmp_path, caplog):
    assert tick(app.extensions["feedsvc"]) == 2
    path = app.extensions["feedsvc"].store.engine.url.database
    read_only = create_app({**{k: app.config[k] for k in ("RECIPES_PATH", "FETCH_ALLOWED_NETWORKS")},
                            "INSTANCE_PATH": str(tmp_path / "ro"),
                            "DATABASE_URL": f"sqlite:///file:{path}?mode=ro&uri=true"})
    store = read_only.extensions["feedsvc"].store
    for state in store.source_states():
        assert state.last_success_at is not None
    app.extensions["feedsvc"].store.set_next_run("due", utcnow() - timedelta(seconds=1))
    with caplog.at_level("ERROR", logger="feedsvc.ingest.scheduler"):
        assert tick(read_only.extensions["feedsvc"]) == 0
    [record] = [r for r in caplog.records if r.name == "feedsvc.ingest.scheduler" and r.levelname == "ERROR"]
    assert record.getMessage().startswith("tick_failed error_kind=store error=")
    assert "readonly" in record.getMessage() and record.exc_info is None
    store.engine.dispose()
