"""Application factory."""

from __future__ import annotations

import os

from flask import Flask

from feedsvc import logs, runtime, web
from feedsvc.config import configured


def instance_settings(config: dict | None = None) -> dict:
    """Settings from DEFAULTS, then the FEEDSVC_CONFIG file, then FEEDSVC_*
    environment variables, then `config`, with INSTANCE_PATH resolved."""
    settings = configured(config)
    path = settings["INSTANCE_PATH"]
    settings["INSTANCE_PATH"] = os.path.abspath(path) if path else Flask(__name__).instance_path
    return settings


def create_app(config: dict | None = None) -> Flask:
    """Build the web app. Settings come from DEFAULTS, then FEEDSVC_*
    environment variables, then `config` (tests and the CLI)."""
    settings = instance_settings(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    os.makedirs(app.instance_path, exist_ok=True)
    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    runtime.init_app(app)
    web.init_app(app)
    return app
