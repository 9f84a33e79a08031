"""feedsvc as real processes: `python -m feedsvc ...` started and
stopped, a free port and a wait for it to answer, the Procfile's lines, a
command run to its end with its peak memory measured, and the Procfile's
web process with its workers'."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.paths import REPO

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code < 500:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@contextmanager
def running(args: list[str], env: dict[str, str], cwd=None):
    """Run `python -m feedsvc ARGS`; stop it with SIGTERM on the way out."""
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "feedsvc", *args], env=full_env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        yield proc
    finally:
        stop(proc, read_output=False)


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, read_output: bool = True) -> str:
    """Stop a process group (SIGKILL after 20 s); return what it printed."""
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.stdout.read() if read_output and proc.stdout else ""


def procfile() -> dict[str, str]:
    """The Procfile's processes: {name: command line}."""
    lines = (REPO / "Procfile").read_text(encoding="utf-8").splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


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


def start_feedsvc(args: list[str], env: dict) -> subprocess.Popen:
    """`python -m feedsvc ARGS` in a session of its own, output captured."""
    return subprocess.Popen([sys.executable, "-m", "feedsvc", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def upgrade_store(env: dict) -> None:
    subprocess.run([sys.executable, "-m", "feedsvc", "db", "upgrade"], env=env, check=True, capture_output=True)


@contextmanager
def served_demo(folder: Path, snapshot_url: str):
    """`feedsvc serve` on the demo recipe pointed at `snapshot_url`, after
    one `feedsvc refresh`: the base URL, while the server runs."""
    from feedsvc.snapshot import RECIPES_DIR

    recipes = folder / "feeds"
    recipes.mkdir()
    text = (RECIPES_DIR / "iqilu-shandong.toml").read_text(encoding="utf-8")
    (recipes / "iqilu-shandong.toml").write_text(text.replace("{snapshot}", snapshot_url), encoding="utf-8")
    env = {"FEEDSVC_INSTANCE_PATH": str(folder / "instance"), "FEEDSVC_RECIPES_PATH": str(recipes),
           "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0"}
    subprocess.run([sys.executable, "-m", "feedsvc", "refresh"], env={**os.environ, **env}, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    with running(["serve", "--port", str(port)], env) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", proc=proc)
        yield base
