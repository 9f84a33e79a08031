"""The images process as a child of `feedsvc serve`: one command serves
feeds and images on one address, the web app passing /img/ on to it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx

from feedsvc.core.config import DEFAULTS, ENV_PREFIX


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_environment(value: object) -> str:
    """A setting's value as its environment variable would hold it:
    typed values (networks, flags) included."""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


class ImagesProcess:
    def __init__(self, process: subprocess.Popen, url: str):
        self.process, self.url = process, url

    @classmethod
    def start(cls, config: dict | None, ready_seconds: float = 30) -> ImagesProcess:
        port = _free_port()
        env = dict(os.environ)
        # The child builds its settings as the web app does; the settings
        # `serve` was given (the demo's) travel as the environment.
        for key, value in (config or {}).items():
            if key in DEFAULTS and value is not None:
                env[ENV_PREFIX + key] = _as_environment(value)
        process = subprocess.Popen([sys.executable, "-m", "feedsvc", "images", "--host", "127.0.0.1",
                                    "--port", str(port)], env=env)
        images = cls(process, f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + ready_seconds
        while time.monotonic() < deadline and process.poll() is None:
            try:
                httpx.get(f"{images.url}/img/", timeout=1, trust_env=False)
                return images
            except httpx.HTTPError:
                time.sleep(0.1)
        images.stop()
        raise RuntimeError("the images process did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
