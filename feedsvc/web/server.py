"""The production WSGI server (granian, as the Procfile runs it), embedded
for `feedsvc serve`.

Granian reads requests in its Rust core and hands the app only complete
ones: a client dripping its headers or its body holds a socket, not one of
the Python threads, so slow clients cannot starve the others."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable

from granian.constants import Interfaces, RuntimeModes
from granian.server import MPServer

# How long a stopping worker may take to finish its running refreshes.
STOP_TIMEOUT_SECONDS = 60


def run_server(factory: Callable, host: str, port: int, threads: int,
               on_exit: Callable | None = None) -> None:
    """One worker process with `threads` request threads: the embedded
    default keeps one writer to SQLite. `factory()` builds the app in the
    worker, after the fork, so no database connection or thread is shared
    between processes; `on_exit(app)` runs in the worker as it stops."""
    built: list = []

    def load_app():
        built.append(factory())
        return built[-1]

    # granian's own WSGI worker, wrapped so the app's shutdown runs in the
    # worker as it stops: the spawner is granian's internal API, hence the
    # narrow version range in pyproject.toml.
    def serve_worker(*args, **kwargs):
        try:
            MPServer._spawn_wsgi_worker(*args, **kwargs)
        finally:
            if on_exit is not None and built:
                on_exit(built[-1])

    # The worker inherits `factory` (a closure) by forking: spawning would
    # have to pickle it.
    multiprocessing.set_start_method("fork", force=True)
    server = MPServer("feedsvc", address=host, port=port, interface=Interfaces.WSGI, workers=1,
                      blocking_threads=max(1, threads), runtime_mode=RuntimeModes.st, log_access=True,
                      websockets=False, workers_kill_timeout=STOP_TIMEOUT_SECONDS)
    server.serve(spawn_target=serve_worker, target_loader=load_app, wrap_loader=False)
