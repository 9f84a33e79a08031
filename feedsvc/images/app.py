"""`create_image_app`: the images process's ASGI app, built from the same
settings as the web app (granian --interface asgi --factory)."""

from __future__ import annotations

import os

from feedsvc.core import logs
from feedsvc.core.config import load_settings
from feedsvc.images.cache import ImageCache
from feedsvc.images.keys import image_signer
from feedsvc.images.proxy import ImageProxy, image_settings
from feedsvc.service import database_url_for
from feedsvc.store.store import Store


def image_cache_path(settings) -> str:
    return settings["IMAGE_CACHE_PATH"] or os.path.join(settings["INSTANCE_PATH"], "images")


def create_image_app(config: dict | None = None) -> ImageProxy:
    settings = load_settings(config)
    os.makedirs(settings["INSTANCE_PATH"], exist_ok=True)
    logs.configure(settings["LOG_LEVEL"], settings["LOG_FORMAT"])
    store = Store.from_url(database_url_for(settings))
    try:
        if store.is_sqlite or settings["DB_AUTO_UPGRADE"]:
            store.upgrade_schema()
        signer = image_signer(settings, store)
    finally:
        store.engine.dispose()  # the key is all this process needs from the store
    cache = ImageCache(image_cache_path(settings), settings["IMAGE_CACHE_MAX_BYTES"])
    return ImageProxy(signer, cache, image_settings(settings), settings["METRICS_TOKEN"])
