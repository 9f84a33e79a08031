"""Application factory."""

from __future__ import annotations

import logging
import os

from flask import Flask

from feedsvc import runtime, web
from feedsvc.config import DEFAULTS, ENV_PREFIX, from_environment, from_file


def instance_settings(config: dict | None = None) -> dict:
    """Settings from DEFAULTS, then the FEEDSVC_CONFIG file, then FEEDSVC_*
    environment variables, then `config`, with INSTANCE_PATH resolved."""
    settings = {**DEFAULTS, **from_file(os.environ.get(f"{ENV_PREFIX}CONFIG")), **from_environment(),
                **(config or {})}
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
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        # One line per request is httpx's default; feedsvc logs each refresh itself.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    runtime.init_app(app)
    web.init_app(app)
    return app
