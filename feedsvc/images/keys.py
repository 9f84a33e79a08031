"""The image proxy's signing key: FEEDSVC_SECRET_KEY, or one generated at
first start and kept in the store, so the web processes that sign and the
images process that verifies agree without configuration."""

from __future__ import annotations

from feedsvc.images.tokens import KEY_NAME, Signer, new_key
from feedsvc.store.store import Store


def image_signer(config, store: Store) -> Signer:
    return Signer(config.get("SECRET_KEY") or store.shared_secret(KEY_NAME, new_key))
