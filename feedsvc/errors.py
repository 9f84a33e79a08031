"""Typed errors. Every failure a source can have is one of these, so the
orchestrator can record it per source in plain words and move on."""

from __future__ import annotations


class FeedsvcError(Exception):
    """Base of every error feedsvc raises on purpose."""


class RecipeError(FeedsvcError):
    """A recipe file is unusable; names the file, the key and the reason."""

    def __init__(self, file: str, key: str, reason: str):
        self.file, self.key, self.reason = file, key, reason
        super().__init__(f"{file}: {key}: {reason}")


class FetchError(FeedsvcError):
    """Base of everything that can go wrong getting bytes from a URL."""

    kind = "fetch"

    def __init__(self, url: str, message: str):
        self.url = url
        super().__init__(f"{message} ({url})")


class FetchTimeout(FetchError):
    kind = "timeout"


class FetchConnectError(FetchError):
    kind = "connect"


class FetchHTTPStatus(FetchError):
    kind = "http_status"

    def __init__(self, url: str, status: int):
        self.status = status
        super().__init__(url, f"server answered HTTP {status}")


class FetchTooLarge(FetchError):
    kind = "too_large"


class FetchRefused(FetchError):
    """The URL is not one feedsvc will open (scheme, redirects)."""

    kind = "refused"


class ParseError(FeedsvcError):
    """Bytes arrived but hold nothing usable for the recipe."""

    kind = "parse"

    def __init__(self, url: str, message: str):
        self.url = url
        super().__init__(f"{message} ({url})")
