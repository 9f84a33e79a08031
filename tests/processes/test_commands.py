"""`feedsvc refresh` as a real process: JSON log lines, and a progress
bar on a terminal only."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading

import pytest

from tests.support.stores import demo_recipes

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path, snapshot) -> dict[str, str]:
    recipes = demo_recipes(tmp_path / "feeds", snapshot.base_url)
    return {"FEEDSVC_INSTANCE_PATH": str(tmp_path / "instance"), "FEEDSVC_RECIPES_PATH": str(recipes),
            "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0"}


def test_json_logs_from_a_real_refresh(tmp_path, snapshot):
    recipes = demo_recipes(tmp_path / "feeds", snapshot.base_url)
    env = {**os.environ, "FEEDSVC_INSTANCE_PATH": str(tmp_path / "i"), "FEEDSVC_RECIPES_PATH": str(recipes),
           "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0",
           "FEEDSVC_LOG_FORMAT": "json"}
    result = subprocess.run([sys.executable, "-m", "feedsvc", "refresh"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    done = [l for l in lines if l.get("event") == "refresh_done"]
    assert done and done[0]["source"] == "iqilu-shandong" and done[0]["new"] == 11
    assert all(line.startswith("{") for line in result.stderr.splitlines() if line.strip())


def test_refresh_shows_a_progress_bar_on_a_terminal(env):
    """stderr on a pseudo-terminal gets the bar; piped stdout gets only the table."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "feedsvc", "refresh"], env={**os.environ, **env},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    terminal = bytearray()

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the process closed its end
                return
            if not chunk:
                return
            terminal.extend(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    out, _ = proc.communicate(timeout=120)
    reader.join(timeout=10)
    os.close(master)
    assert proc.returncode == 0
    screen = terminal.decode("utf-8", "replace")
    assert "refreshing" in screen and "1/1" in screen and "iqilu-shandong" in screen and "#" in screen
    table = out.decode()
    assert table.startswith("source") and "refreshing" not in table and "#" not in table
