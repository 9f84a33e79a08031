"""Slow clients against both server commands (the Procfile's `web:` line
and `feedsvc serve`): three times as many connections as the server has
request threads drip their headers one line a second, as many again send
a POST body one byte a second, and a probe meanwhile asks for a feed and
the health check. None of the probe's requests may wait more than 1 s."""

from __future__ import annotations

import re
import socket
import threading
import time
from contextlib import contextmanager

import httpx
import pytest


from tests.support.processes import feedsvc_env, free_port, procfile, running, wait_for, web_process

pytestmark = pytest.mark.slow

DRIP_SECONDS = 8
SERVE_THREADS = 8


def _procfile_threads() -> int:
    line = procfile()["web"]
    workers = int(re.search(r"--workers[ =](\d+)", line).group(1))
    threads = int(re.search(r"--blocking-threads[ =](\d+)", line).group(1))
    return workers * threads


class SlowClient(threading.Thread):
    """One connection that sends its request a little at a time, then
    reads the answer."""

    def __init__(self, port: int, head: bytes, drips: list[bytes], tail: bytes):
        super().__init__(daemon=True)
        self.port, self.head, self.drips, self.tail = port, head, drips, tail
        self.dripped = 0
        self.answer = b""
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
                try:
                    sock.sendall(self.head)
                    for drip in self.drips:
                        time.sleep(1)
                        sock.sendall(drip)
                        self.dripped += 1
                    sock.sendall(self.tail)
                except BrokenPipeError:
                    pass  # answered before the whole request was sent: read that answer
                self.answer = sock.recv(200)
        except OSError as exc:
            self.error = exc


def slow_clients(port: int, count: int) -> tuple[list[SlowClient], list[SlowClient]]:
    headers = [SlowClient(port, b"GET /feeds/all.atom HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                          [b"X-Drip-%d: 1\r\n" % n for n in range(DRIP_SECONDS)], b"Connection: close\r\n\r\n")
               for _ in range(count)]
    body = b"x" * (DRIP_SECONDS + 1)
    bodies = [SlowClient(port, b"POST /refresh HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                               b"Content-Length: %d\r\n\r\n" % len(body), [body[:1]] * DRIP_SECONDS, body[:1])
              for _ in range(count)]
    return headers, bodies


def probe_while(base_url: str, headers: list[SlowClient], bodies: list[SlowClient]) -> list[float]:
    """Start the slow clients, then time a feed and a health request every
    0.2 s until the header drippers are done."""
    clients = headers + bodies
    for client in clients:
        client.start()
    time.sleep(1.5)  # every slow connection open and part-way through its request
    latencies = []
    with httpx.Client(base_url=base_url, timeout=30) as http:
        while any(c.dripped < DRIP_SECONDS for c in headers if c.error is None and c.is_alive()):
            for path in ("/feeds/all.atom", "/healthz"):
                started = time.monotonic()
                assert http.get(path).status_code == 200
                latencies.append(time.monotonic() - started)
            time.sleep(0.2)
    for client in clients:
        client.join(30)
    return latencies


def check(latencies: list[float], headers: list[SlowClient], bodies: list[SlowClient]) -> None:
    print(f"slow_clients headers={len(headers)} bodies={len(bodies)} probes={len(latencies)} "
          f"p50_ms={sorted(latencies)[len(latencies) // 2] * 1000:.1f} max_ms={max(latencies) * 1000:.1f}")
    assert len(latencies) >= 20, latencies
    assert max(latencies) < 1.0, sorted(latencies)[-5:]
    assert [c.error for c in headers + bodies if c.error] == []
    # Header drippers were held to their last line and then served.
    assert all(c.dripped == DRIP_SECONDS and c.answer.startswith(b"HTTP/1.1 200") for c in headers), \
        [(c.dripped, c.answer[:30]) for c in headers]
    # No view reads a POST body: each is answered, at the latest when its body is in.
    assert all(c.answer.startswith(b"HTTP/1.1 ") for c in bodies), [(c.dripped, c.answer[:30]) for c in bodies]


@contextmanager
def _env(tmp_path):
    recipes = tmp_path / "feeds"
    recipes.mkdir()
    yield feedsvc_env(tmp_path, f"sqlite:///{tmp_path / 'store.db'}", recipes, ADMIN_RATE_LIMIT_PER_MINUTE=0)


def test_slow_clients_do_not_hold_up_the_procfile_web_process(tmp_path):
    with _env(tmp_path) as env, web_process(env) as web:
        port = int(web.base_url.rsplit(":", 1)[1])
        headers, bodies = slow_clients(port, max(3 * _procfile_threads(), 3 * SERVE_THREADS))
        latencies = probe_while(web.base_url, headers, bodies)
    check(latencies, headers, bodies)


def test_slow_clients_do_not_hold_up_feedsvc_serve(tmp_path):
    port = free_port()
    with _env(tmp_path) as env, running(["serve", "--port", str(port), "--threads", str(SERVE_THREADS)], env) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", proc=proc)
        headers, bodies = slow_clients(port, 3 * SERVE_THREADS)
        latencies = probe_while(base, headers, bodies)
    check(latencies, headers, bodies)
