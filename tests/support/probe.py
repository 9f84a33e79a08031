"""Run one scheduler pass (`Refresher.refresh_due`, what every scheduler
tick runs) as its own process, configured by FEEDSVC_* variables, and
watch it with an audit hook: every socket connection to an address off
loopback, every urllib request (how Python's XML parsers would fetch an
external entity) and every open() of a path containing PROBE_WATCH_PATH
is recorded. Prints one line `probe_result <json>` at the end.

Run as `python probe.py`; its own peak RSS (VmHWM) is in the result.
Audit hooks see what Python code does; a C library opening a file is
caught by the test through the file's access time instead."""

from __future__ import annotations

import json
import os
import sys

WATCHED = os.environ.get("PROBE_WATCH_PATH", "")
seen: list[str] = []


def _loopback(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    return isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost") or host.startswith("/"))


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect" and not _loopback(args[1]):
        seen.append(f"connect {args[1]!r}")
    elif event == "urllib.Request":
        seen.append(f"urllib {getattr(args[0], 'full_url', args[0])!r}")
    elif event == "open" and WATCHED and isinstance(args[0], (str, bytes)):
        path = os.fsdecode(args[0])
        if WATCHED in path:
            seen.append(f"open {path!r}")


def main() -> None:
    sys.addaudithook(_audit)
    from feedsvc.app import create_app

    app = create_app()
    rt = app.extensions["feedsvc"]
    reports = rt.refresher.refresh_due()
    rt.refresher.close()
    print("probe_result " + json.dumps({"reports": [r.as_dict() for r in reports], "audit": seen,
                                        "peak_rss_mb": _peak_rss_mb()}, ensure_ascii=False), flush=True)


def _peak_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main()
