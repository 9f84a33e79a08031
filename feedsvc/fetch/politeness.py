"""Being a good citizen of the web: a minimum delay between requests to
one host, and robots.txt before every page a recipe has not opted out of.
Everything a refresh fetches goes through PoliteFetcher."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from feedsvc.core.errors import RobotsDisallowed
from feedsvc.fetch.page import FetchedPage, FetchSettings, fetch_page, make_client
from feedsvc.fetch.robots import RobotsCache


class HostThrottle:
    """Spaces request starts to one host at least `delay_seconds` apart,
    across all threads of the process. Each caller reserves the next free
    slot under the lock and sleeps outside it."""

    def __init__(self, delay_seconds: float, clock=time.monotonic, sleep=time.sleep):
        self.delay = max(0.0, delay_seconds)
        self.clock, self.sleep = clock, sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, url: str) -> float:
        """Block until `url`'s host may be asked again; returns the wait."""
        if not self.delay:
            return 0.0
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            now = self.clock()
            slot = max(now, self._next.get(host, now))
            self._next[host] = slot + self.delay
        if slot > now:
            self.sleep(slot - now)
        return slot - now


class PoliteFetcher:
    def __init__(self, settings: FetchSettings):
        self.settings = settings
        self.client = make_client(settings)
        self.throttle = HostThrottle(settings.host_delay_seconds)
        self.robots = RobotsCache(self.client, settings)

    def fetch(self, url: str, validators: tuple[str | None, str | None] | None = None,
              obey_robots: bool = True, client=None, headers: dict[str, str] | None = None) -> FetchedPage:
        """GET `url` after robots.txt and the host's delay allow it;
        `client` and `headers`: a recipe's proxy and request options."""
        self.allow(url, obey_robots)
        return fetch_page(client or self.client, url, self.settings, validators, headers)

    def allow(self, url: str, obey_robots: bool = True) -> None:
        """Wait for robots.txt and the host's delay to let `url` be fetched."""
        if obey_robots and not self.robots.allows(url, before_fetch=self.throttle.wait):
            raise RobotsDisallowed(url, "robots.txt disallows fetching this URL")
        self.throttle.wait(url)

    def close(self) -> None:
        self.client.close()
