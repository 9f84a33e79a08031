"""Log set-up: one line per event, `event key=value …` in text, or one JSON
object per line with the same keys (FEEDSVC_LOG_FORMAT=json)."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone

_PAIR = re.compile(r"(\w+)=(\S+)")
# Free text (an error message) goes last in a line, under one of these keys.
_TRAILING_TEXT_KEYS = ("error",)


def event_fields(message: str) -> dict:
    """'refresh_done source=a new=2 error=boom: x y' → {'event': 'refresh_done',
    'source': 'a', 'new': 2, 'error': 'boom: x y'}."""
    head, _, rest = message.partition(" ")
    fields: dict = {"event": head} if head and "=" not in head else {"message": message}
    if "message" in fields:
        return fields
    for key in _TRAILING_TEXT_KEYS:
        marker = f" {key}="
        if marker in f" {rest}":
            rest, _, text = f" {rest}".partition(marker)
            fields[key] = text
    pairs = _PAIR.findall(rest)
    if not pairs and len(fields) == 1:
        return {"message": message}  # prose from a library, not an event line
    for key, value in pairs:
        fields[key] = int(value) if value.isdigit() else value
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name}
        data.update(event_fields(record.getMessage()))
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Configure the root logger once per process; a host that already set
    up logging (pytest, an embedding server) keeps its handlers."""
    root = logging.getLogger()
    if getattr(root, "_feedsvc_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    if not root.handlers:
        root.addHandler(handler)
    root.setLevel(level.upper())
    # One line per request is httpx's default; feedsvc logs each fetch and refresh itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic writes several lines, some spanning lines, per upgrade; the
    # migrations environment logs one `migration_applied` line each instead.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    root._feedsvc_configured = True
