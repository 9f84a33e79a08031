"""Typed errors. Every failure a source can have is one of these, so the
orchestrator can record it per source in plain words and move on."""

from __future__ import annotations

from datetime import timedelta


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

    def __init__(self, url: str, status: int, retry_after: timedelta | None = None):
        # retry_after: the server's Retry-After (on 429 and 503), honoured
        # as the earliest next attempt.
        self.status, self.retry_after = status, retry_after
        wait = f"; retry after {int(retry_after.total_seconds())} s" if retry_after is not None else ""
        super().__init__(url, f"server answered HTTP {status}{wait}")


class FetchAuthRequired(FetchError):
    """The site answered as to a reader who is not logged in: a 401/403, a
    redirect to its login page, or its logged-out marker (a recipe's
    `request.logged_out`). Nothing from that answer is stored."""

    kind = "auth"


class FetchTooLarge(FetchError):
    kind = "too_large"


class FetchRefused(FetchError):
    """The URL is not one feedsvc will open (scheme, redirects)."""

    kind = "refused"


class FetchAddressRefused(FetchRefused):
    """The host resolves to a private, loopback or link-local address that
    configuration does not allow (the SSRF guard)."""

    kind = "address_refused"


class RobotsDisallowed(FetchRefused):
    """The site's robots.txt does not let feedsvc fetch this URL."""

    kind = "robots"


class ParseError(FeedsvcError):
    """Bytes arrived but hold nothing usable for the recipe."""

    kind = "parse"

    def __init__(self, url: str, message: str):
        self.url = url
        super().__init__(f"{message} ({url})")


class RecipeMismatch(ParseError):
    """The page answered but the recipe's selectors no longer find what
    they should: the site changed, the recipe has to follow."""

    kind = "recipe_mismatch"

    def __init__(self, url: str, message: str):
        super().__init__(url, f"recipe no longer matches: {message}")


class LeaseLost(FeedsvcError):
    """Another process took over a source whose lease this one let run out."""

    kind = "lease_lost"


class StoreError(FeedsvcError):
    """The store refused a read or a write: read-only, disk full, down.
    Carries the database's own words, not the SQL statement."""

    kind = "store"


class InternalError(FeedsvcError):
    """Something feedsvc did not expect (a bug, the store failing) while
    refreshing one source: recorded on that source like any other error."""

    kind = "internal"
