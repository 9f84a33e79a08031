"""`feedsvc scheduler` as a real process: it never imports Flask, serves
its own metrics port, and reloads recipes on SIGHUP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from feedsvc.store.store import Store
from tests.support.checks import samples, value
from tests.support.processes import free_port, running, stop
from tests.support.sites import ARTICLE, article_recipe
from tests.support.stores import demo_recipes

pytestmark = pytest.mark.slow


@pytest.fixture
def site(httpserver):
    """good.html and extra.html, articles of three items each; bad.html a 500."""
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)  # no rules
    for name in ("good", "extra"):
        httpserver.expect_request(f"/{name}.html").respond_with_data(
            ARTICLE.replace("example.org/", f"example.org/{name}/").replace("一篇文章", f"{name}的文章"),
            content_type="text/html; charset=utf-8")
    httpserver.expect_request("/bad.html").respond_with_data("down for maintenance", status=500)
    return httpserver


def recipes(folder, site, *names: str):
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / f"{name}.toml").write_text(article_recipe(name, site.url_for(f"/{name}.html")), encoding="utf-8")
    return folder


@pytest.fixture
def recipes_dir(tmp_path, site):
    return recipes(tmp_path / "feeds", site, "good", "bad")


@pytest.fixture
def folder(tmp_path, site):
    return recipes(tmp_path / "feeds", site, "good")


def test_the_scheduler_process_never_imports_flask(tmp_path, snapshot):
    """`feedsvc scheduler` as the Procfile runs it, refreshing a real site:
    at exit, not one Flask (or Werkzeug) module is in its sys.modules."""
    recipes = demo_recipes(tmp_path / "feeds", snapshot.base_url)
    probe = ("import atexit, sys\n"
             "atexit.register(lambda: print('web modules:', sorted(m for m in sys.modules\n"
             "    if m.split('.')[0] in ('flask', 'werkzeug')), flush=True))\n"
             "sys.argv = ['feedsvc', 'scheduler']\n"
             "from feedsvc.cli.commands import main\n"
             "main()\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "FEEDSVC_INSTANCE_PATH": str(tmp_path / "instance"),
           "FEEDSVC_RECIPES_PATH": str(recipes), "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
           "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0"}
    proc = subprocess.Popen([sys.executable, "-c", probe], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
        output.append(line)
        if "tick_done" in line:
            break
    output.append(stop(proc))
    printed = "".join(output)
    assert "tick_done refreshed=1 failed=0" in printed, printed
    assert "web modules: []" in printed, printed


def test_scheduler_serves_metrics_on_its_own_port(tmp_path, recipes_dir):
    port = free_port()
    env = {"FEEDSVC_INSTANCE_PATH": str(tmp_path / "instance"), "FEEDSVC_RECIPES_PATH": str(recipes_dir),
           "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0",
           "FEEDSVC_SCHEDULER_TICK_SECONDS": "0.5", "FEEDSVC_SCHEDULER_METRICS_PORT": str(port),
           "FEEDSVC_METRICS_TOKEN": "scrape-me"}
    with running(["scheduler"], env) as proc:
        deadline, m = time.monotonic() + 60, {}
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2,
                                     headers={"Authorization": "Bearer scrape-me"})
                m = samples(response.text)
            except httpx.TransportError:
                m = {}
            # Both refreshes run at once; wait for the slower one too.
            if all(value(m, "feedsvc_refresh_duration_seconds_count", source=s) for s in ("good", "bad")):
                break
            time.sleep(0.2)
        assert value(m, "feedsvc_refresh_duration_seconds_count", source="good") == 1, m
        assert value(m, "feedsvc_refresh_errors_total", source="bad", kind="http_status") == 1
        assert value(m, "feedsvc_items_ingested_total", source="good", change="new") == 3
        assert value(m, "feedsvc_source_items", source="good") == 3
        assert ("feedsvc_scheduler_lag_seconds", ()) in m
        refused = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
        assert refused.status_code == 401 and "feedsvc_" not in refused.text


def test_sighup_reloads_the_scheduler_process(tmp_path, folder, site):
    env = {"FEEDSVC_INSTANCE_PATH": str(tmp_path / "instance"), "FEEDSVC_RECIPES_PATH": str(folder),
           "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0",
           "FEEDSVC_SCHEDULER_TICK_SECONDS": "0.3", "FEEDSVC_RECIPES_RELOAD_SECONDS": "0"}
    store = None
    with running(["scheduler"], env) as proc:
        try:
            store = Store.from_url(f"sqlite:///{tmp_path / 'instance' / 'feedsvc.sqlite3'}")
            wait_until(lambda: _succeeded(store, "good"), proc)
            (folder / "extra.toml").write_text(article_recipe("extra", site.url_for("/extra.html")), encoding="utf-8")
            time.sleep(1)  # polling is off: without the signal nothing happens
            assert store.source_state("extra") is None
            os.killpg(proc.pid, signal.SIGHUP)
            wait_until(lambda: _succeeded(store, "extra"), proc)
            assert proc.poll() is None
        finally:
            if store is not None:
                store.engine.dispose()
    assert "recipes_reloaded" in proc.stdout.read()


def _succeeded(store: Store, source_id: str) -> bool:
    try:
        state = store.source_state(source_id)
    except Exception:  # noqa: BLE001 - the process may not have created the schema yet
        return False
    return bool(state and state.last_success_at)


def wait_until(condition, proc, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
