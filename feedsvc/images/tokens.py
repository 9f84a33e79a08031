"""Signed image URLs. A token names one image and the Referer to send for
it, and is HMAC-signed with the service's key, so the proxy fetches only
what feedsvc itself put in a feed: never an open relay."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

KEY_NAME = "image_proxy_key"
_SIGNATURE_BYTES = 16


class BadToken(ValueError):
    """Forged, altered or malformed."""


@dataclass(frozen=True)
class ImageRef:
    url: str
    referer: str | None  # None: send no Referer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> str:
    return secrets.token_urlsafe(32)


class Signer:
    def __init__(self, key: str):
        if not key:
            raise ValueError("an image proxy key is needed")
        self._key = hashlib.sha256(b"feedsvc image proxy\x00" + key.encode()).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def sign(self, ref: ImageRef) -> str:
        payload = json.dumps([ref.url, ref.referer], ensure_ascii=False, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def verify(self, token: str) -> ImageRef:
        try:
            body, _, signature = token.partition(".")
            payload, mac = _unb64(body), _unb64(signature)
        except (ValueError, UnicodeEncodeError):
            raise BadToken("malformed token") from None
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise BadToken("bad signature")
        url, referer = json.loads(payload)
        return ImageRef(url, referer)
