"""Fetching a recipe's pages as the recipe asks: with its headers, cookies,
user agent and proxy, recognising a logged-out answer, and (render =
"browser") through headless Chromium. Under every option the same
politeness (robots.txt, host delay) and limits apply."""

from __future__ import annotations

import threading

import httpx

from feedsvc.core.errors import FeedsvcError, FetchAuthRequired, FetchHTTPStatus
from feedsvc.fetch.page import FetchedPage, make_client
from feedsvc.fetch.politeness import PoliteFetcher
from feedsvc.fetch.proxying import ProxyTransport, environment_proxy, target_guard
from feedsvc.sources.recipes import Recipe
from feedsvc.sources.request_options import FilledRequest, logged_out_reason, redact

_AUTH_STATUSES = (401, 403)


class RecipeFetcher:
    def __init__(self, polite: PoliteFetcher):
        self.polite = polite
        self.settings = polite.settings
        self._proxied: dict[str, httpx.Client] = {}
        self._lock = threading.Lock()
        self._browser = None  # feedsvc.fetch.browser.BrowserPool, started by the first browser recipe

    def fetch(self, recipe: Recipe, url: str, validators=None) -> FetchedPage:
        """GET one of `recipe`'s pages. A logged-out answer raises
        FetchAuthRequired; no error message carries a filled-in secret."""
        filled = recipe.request.filled
        try:
            page = self._get(recipe, url, validators, filled)
            reason = logged_out_reason(filled, url, page.final_url, page.content) if page.content else None
            if reason:
                raise FetchAuthRequired(url, f"not logged in: {reason}; renew the recipe's cookies or headers")
            return page
        except FetchHTTPStatus as exc:
            # A start page that refuses us, or any page once we send
            # credentials, means the login is missing or has expired.
            if exc.status in _AUTH_STATUSES and (url in recipe.start_urls or recipe.request.sends_credentials):
                raise FetchAuthRequired(url, f"not logged in: the site answered HTTP {exc.status}; "
                                             "check the recipe's cookies and headers") from None
            raise _redacted(exc, filled) from None
        except FeedsvcError as exc:
            raise _redacted(exc, filled) from None

    def _get(self, recipe: Recipe, url: str, validators, filled: FilledRequest) -> FetchedPage:
        if recipe.render == "browser":
            self.polite.allow(url, recipe.obey_robots_txt)
            return self._browser_pool().render(url, filled)
        return self.polite.fetch(url, validators, obey_robots=recipe.obey_robots_txt,
                                 client=self._client_for(url, filled), headers=filled.request_headers())

    def _client_for(self, url: str, filled: FilledRequest) -> httpx.Client | None:
        proxy = filled.proxy or (environment_proxy(url) if self.settings.proxy_from_environment else None)
        if not proxy:
            return None
        with self._lock:
            client = self._proxied.get(proxy)
            if client is None:
                client = self._proxied[proxy] = make_client(
                    self.settings, transport=ProxyTransport(proxy),
                    event_hooks={"request": [target_guard(self.settings.allowed_networks)]})
            return client

    def _browser_pool(self):
        with self._lock:
            if self._browser is None:
                from feedsvc.fetch.browser import BrowserPool

                self._browser = BrowserPool(self.settings, self.settings.browser_pages)
            return self._browser

    def close(self) -> None:
        with self._lock:
            for client in self._proxied.values():
                client.close()
            self._proxied.clear()
            if self._browser is not None:
                self._browser.close()
                self._browser = None


def _redacted(exc: FeedsvcError, filled: FilledRequest) -> FeedsvcError:
    if exc.args and isinstance(exc.args[0], str):
        exc.args = (redact(exc.args[0], filled), *exc.args[1:])
    if getattr(exc, "url", None):
        exc.url = redact(exc.url, filled)
    return exc
