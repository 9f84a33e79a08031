"""The service's web face: `create_app(service)` wraps a Service for HTTP."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from feedsvc import web
from feedsvc.service import EXTENSION, Service, open_service

SCHEDULER_EXTENSION = "feedsvc.ingest.scheduler"


def create_app(service: Service | Mapping[str, object] | None = None) -> Flask:
    """The web app serving `service`. Given settings instead (tests, older
    callers), the service is opened from them first."""
    if not isinstance(service, Service):
        service = open_service(service)
    app = Flask(__name__, instance_path=service.settings["INSTANCE_PATH"])
    app.config.update(service.settings)
    app.extensions[EXTENSION] = service
    web.init_app(app)
    return app


def start_scheduler(app: Flask):
    """`feedsvc serve` is web and worker in one: a background scheduler
    for the app's service, stopped by stop_scheduler."""
    from feedsvc.ingest.scheduler import make_scheduler

    scheduler = make_scheduler(app.extensions[EXTENSION])
    scheduler.start()
    app.extensions[SCHEDULER_EXTENSION] = scheduler
    return scheduler


def stop_scheduler(app: Flask) -> None:
    """Stop the scheduler started by start_scheduler and wait for its
    running refreshes (the web server's worker is exiting)."""
    from feedsvc.ingest import scheduler

    running = app.extensions.get(SCHEDULER_EXTENSION)
    if running is not None:
        scheduler.stop_scheduler(running, app.extensions[EXTENSION], wait=True)
