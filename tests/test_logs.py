from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

from feedsvc.logs import JsonFormatter, event_fields


def test_event_fields():
    assert event_fields("refresh_done source=iqilu new=2 updated=0 duration_seconds=0.069") == {
        "event": "refresh_done", "source": "iqilu", "new": 2, "updated": 0, "duration_seconds": "0.069"}
    fields = event_fields("refresh_failed source=a error_kind=timeout error=timed out (http://x/ a=b)")
    assert fields["error"] == "timed out (http://x/ a=b)" and fields["error_kind"] == "timeout" and "a" not in fields
    assert event_fields("Booting worker with pid: 9") == {"message": "Booting worker with pid: 9"}


def test_json_lines():
    record = logging.LogRecord("feedsvc.refresh", logging.INFO, __file__, 1, "refresh_done source=%s new=%d",
                               ("s", 3), None)
    data = json.loads(JsonFormatter().format(record))
    assert data["event"] == "refresh_done" and data["source"] == "s" and data["new"] == 3
    assert data["level"] == "info" and data["ts"].endswith("+00:00")


def test_json_logs_from_a_real_refresh(tmp_path, snapshot):
    from feedsvc.snapshot import RECIPES_DIR

    recipes = tmp_path / "feeds"
    recipes.mkdir()
    text = (RECIPES_DIR / "iqilu-shandong.toml").read_text(encoding="utf-8")
    (recipes / "iqilu-shandong.toml").write_text(text.replace("{snapshot}", snapshot.base_url), encoding="utf-8")
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
