"""The Procfile's processes as an operator runs them: `web:` exactly as
written, with PORT set, serving what a `worker:` or `feedsvc refresh` wrote
to the same SQLite store; `images:` answering as the image proxy."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.support.checks import parse_strict
from feedsvc.snapshot import RECIPES_DIR
from tests.support.processes import free_port, procfile, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path, snapshot):
    recipes = tmp_path / "feeds"
    recipes.mkdir()
    text = (RECIPES_DIR / "iqilu-shandong.toml").read_text(encoding="utf-8")
    (recipes / "iqilu-shandong.toml").write_text(text.replace("{snapshot}", snapshot.base_url), encoding="utf-8")
    bin_dir = os.path.dirname(sys.executable)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONUNBUFFERED": "1",
            "FEEDSVC_INSTANCE_PATH": str(tmp_path / "instance"), "FEEDSVC_RECIPES_PATH": str(recipes),
            "FEEDSVC_SCHEDULER_TICK_SECONDS": "0.5",
            "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8,::1", "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0"}


def start(line: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(["bash", "-c", f"exec {line}"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
    return proc.stdout.read()


def count(base: str, path: str = "/feeds/all.atom?limit=500") -> int:
    return len(parse_strict(wait_for(base + path).content).entries)


def settled_count(base: str, expected: int, proc: subprocess.Popen, timeout: float = 30) -> int:
    """The count once `expected` has been seen and the web workers' cache
    check interval (0.25 s) has passed: each of the Procfile's web workers
    notices a store change on its own, so right after one answers with the
    new items another may still answer from before."""
    deadline = time.monotonic() + timeout
    while count(base) != expected and time.monotonic() < deadline:
        assert proc.poll() is None, stop(proc)
        time.sleep(0.2)
    time.sleep(0.6)
    return count(base)


def test_web_serves_what_the_worker_and_cli_wrote(env, site_dir):
    lines = procfile()
    assert set(lines) == {"web", "worker", "images"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = start(lines["web"], {**env, "PORT": str(port)})
    worker = None
    try:
        wait_for(f"{base}/healthz", proc=web)
        assert count(base) == 0  # the web process itself never fetches
        worker = start(lines["worker"], env)
        assert settled_count(base, 11, worker) == 11
        assert count(base, f"/feeds/outlet/luwang.atom") == 3
        # A CLI refresh while web and worker run: one more item appears.
        index = site_dir / "shandong/yaowen/index.shtml"
        html = index.read_text(encoding="utf-8")
        cut = html.index('<li class="news-item">')
        index.write_text(html[:cut] + '<li class="news-item"><h3><a href="/new.shtml">新的一条</a></h3>'
                         '<span class="pub-date">2019-10-24</span></li>' + html[cut:], encoding="utf-8")
        result = subprocess.run([sys.executable, "-m", "feedsvc", "refresh", "--json"], env=env,
                                capture_output=True, text=True, timeout=120)
        # /new.shtml does not exist: the listing entry is stored, the follow is a warning.
        assert result.returncode == 0, result.stderr
        assert '"new": 1' in result.stdout
        assert settled_count(base, 12, web) == 12
    finally:
        web_log = stop(web)
        if worker is not None:
            stop(worker)
    assert "Traceback" not in web_log, web_log


def test_the_images_line_runs_the_image_proxy(env):
    port = free_port()
    images = start(procfile()["images"], {**env, "IMAGES_PORT": str(port), "FEEDSVC_IMAGE_PROXY": "true"})
    try:
        base = f"http://127.0.0.1:{port}"
        forged = wait_for(f"{base}/img/not-a-token", proc=images)
        # Its key is the store's: a token it did not sign fetches nothing.
        assert forged.status_code == 403 and "serves only the images of its own feeds" in forged.text
        metrics = wait_for(f"{base}/metrics", proc=images).text
        assert 'feedsvc_image_refusals_total{reason="bad_token"} 1.0' in metrics
    finally:
        log = stop(images)
    assert "Traceback" not in log, log
