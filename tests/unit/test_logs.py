from __future__ import annotations

import json
import logging

from feedsvc.core.logs import JsonFormatter, event_fields


def test_event_fields():
    assert event_fields("refresh_done source=iqilu new=2 updated=0 duration_seconds=0.069") == {
        "event": "refresh_done", "source": "iqilu", "new": 2, "updated": 0, "duration_seconds": "0.069"}
    fields = event_fields("refresh_failed source=a error_kind=timeout error=timed out (http://x/ a=b)")
    assert fields["error"] == "timed out (http://x/ a=b)" and fields["error_kind"] == "timeout" and "a" not in fields
    assert event_fields("Booting worker with pid: 9") == {"message": "Booting worker with pid: 9"}


def test_json_lines():
    record = logging.LogRecord("feedsvc.ingest.refresh", logging.INFO, __file__, 1, "refresh_done source=%s new=%d",
                               ("s", 3), None)
    data = json.loads(JsonFormatter().format(record))
    assert data["event"] == "refresh_done" and data["source"] == "s" and data["new"] == 3
    assert data["level"] == "info" and data["ts"].endswith("+00:00")
