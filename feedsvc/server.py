"""The production WSGI server (gunicorn), embedded for `feedsvc serve`."""

from __future__ import annotations

from collections.abc import Callable

from gunicorn.app.base import BaseApplication


class _EmbeddedGunicorn(BaseApplication):
    def __init__(self, factory: Callable, options: dict):
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # newer settings are skipped on older gunicorn
                self.cfg.set(key, value)

    def load(self):
        # Built in the worker, after the fork, so no database connection or
        # thread is shared between processes.
        return self.factory()


def run_server(factory: Callable, host: str, port: int, threads: int,
               on_exit: Callable | None = None) -> None:
    """One worker process with `threads` request threads: the embedded
    default keeps one writer to SQLite and room for slow clients.
    `on_exit(app)` runs in the worker as it stops."""
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads,
        # A manual refresh answers when it is done; give it time.
        "timeout": 300,
        "graceful_timeout": 10,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        # No control socket in $HOME: one embedded worker needs no runtime control.
        "control_socket_disable": True,
    }
    if on_exit is not None:
        def worker_exit(_server, worker) -> None:
            if getattr(worker, "wsgi", None) is not None:  # None when the app failed to load
                on_exit(worker.wsgi)
        options["worker_exit"] = worker_exit
    _EmbeddedGunicorn(factory, options).run()
