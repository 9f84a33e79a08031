"""Processes for the reliability tests: a command run to its end with its
peak memory measured, and the Procfile's web process with its workers'."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from procs import free_port, stop, wait_for
from test_processes import procfile

HERE = Path(__file__).parent


def feedsvc_env(tmp_path: Path, database_url: str, recipes: Path, **settings: object) -> dict[str, str]:
    """The environment of a feedsvc process on loopback test sites:
    no per-host delay, no jitter, short fetch timeouts."""
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONUNBUFFERED": "1",
           "FEEDSVC_DATABASE_URL": database_url, "FEEDSVC_RECIPES_PATH": str(recipes),
           "FEEDSVC_INSTANCE_PATH": str(tmp_path / "instance"), "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
           "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0", "FEEDSVC_REFRESH_JITTER_RATIO": "0",
           "FEEDSVC_FETCH_TIMEOUT_SECONDS": "2", "FEEDSVC_FETCH_CONNECT_TIMEOUT_SECONDS": "1"}
    env.update({f"FEEDSVC_{name}": str(value) for name, value in settings.items()})
    return env


@dataclass
class Finished:
    returncode: int
    output: str
    peak_rss_mb: float
    seconds: float
    timed_out: bool


def run_measured(args: list[str], env: dict[str, str], timeout: float) -> Finished:
    """Run `args` to its end (killed after `timeout` s), sampling its peak
    resident memory (VmHWM, children included) every 20 ms. The kernel's
    rusage of a child is no use here: its ru_maxrss starts from the copy
    of this (large) test process that fork made before exec."""
    started = time.monotonic()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    expired = threading.Event()
    peak = [0.0]

    def watch() -> None:
        deadline = started + timeout
        while proc.poll() is None:
            if _runs(proc.pid, args[0]):  # not the fork's copy of this process before exec
                peak[0] = max(peak[0], peak_rss_mb(proc.pid))
            if time.monotonic() > deadline:
                expired.set()
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    output = proc.communicate()[0]
    watcher.join()
    return Finished(proc.returncode, output.decode("utf-8", "replace"), peak[0], time.monotonic() - started,
                    expired.is_set())


def _runs(pid: int, program: str) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == os.fsencode(program)
    except OSError:
        return False


def probe(env: dict[str, str], timeout: float = 30) -> Finished:
    """One scheduler pass in its own process (see probe.py)."""
    return run_measured([sys.executable, str(HERE / "probe.py")], env, timeout)


def peak_rss_mb(pid: int) -> float:
    """Highest peak resident memory (VmHWM) of a process and its children."""
    def children(p: int) -> list[int]:
        found = []
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                found += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
        return found

    peak = 0.0
    for p in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            pass
    return peak


@dataclass
class Web:
    base_url: str
    proc: subprocess.Popen
    log: str = ""  # what it printed, once stopped


@contextmanager
def web_process(env: dict[str, str], line: str | None = None):
    """The Procfile's `web:` line (granian on create_app), as deployed.
    Its output (an access log line per request) goes to a file: a pipe
    nobody reads would fill up and stall the server."""
    port = free_port()
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(["bash", "-c", "exec " + (line or procfile()["web"])], env={**env, "PORT": str(port)},
                                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        web = Web(f"http://127.0.0.1:{port}", proc)
        try:
            wait_for(f"{web.base_url}/healthz", proc=proc)
            yield web
        finally:
            stop(proc)
            output.seek(0)
            web.log = output.read().decode("utf-8", "replace")

