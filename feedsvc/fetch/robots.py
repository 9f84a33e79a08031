"""robots.txt, fetched once per site and kept for a while (RFC 9309).

A missing robots.txt (any 4xx) allows everything; one that answers 5xx
or 429 closes the site until it is asked again, as the RFC says; a site
that cannot be reached at all fails the fetch as the page itself would."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from feedsvc.core.errors import FetchAddressRefused, FetchHTTPStatus, FetchRefused, FetchTooLarge
from feedsvc.fetch.page import FetchSettings, fetch_page

ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB
ROBOTS_TTL_SECONDS = 24 * 3600
ROBOTS_UNAVAILABLE_TTL_SECONDS = 10 * 60


@dataclass
class _Entry:
    parser: RobotFileParser | None  # None: the site is closed for now
    expires: float


def site_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _parser(text: str) -> RobotFileParser:
    parser = RobotFileParser()
    parser.parse(text.splitlines())
    return parser


def _allow_all() -> RobotFileParser:
    return _parser("")


class RobotsCache:
    """Answers "may feedsvc fetch this URL?" per site, thread-safe."""

    def __init__(self, client: httpx.Client, settings: FetchSettings, clock=time.monotonic):
        self.client = client
        self.settings = settings
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._site_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def allows(self, url: str, before_fetch=None) -> bool:
        """`before_fetch(url)` runs before robots.txt itself is requested
        (the per-host delay applies to it too)."""
        site = site_of(url)
        with self._lock:
            site_lock = self._site_locks.setdefault(site, threading.Lock())
        # One fetch of a site's robots.txt, however many sources ask at once.
        with site_lock:
            entry = self._entries.get(site)
            if entry is None or entry.expires <= self.clock():
                entry = self._entries[site] = self._load(site, before_fetch)
        if entry.parser is None:
            return False
        return entry.parser.can_fetch(self.settings.user_agent, url)

    def _load(self, site: str, before_fetch) -> _Entry:
        robots_url = f"{site}/robots.txt"
        if before_fetch:
            before_fetch(robots_url)
        settings = replace(self.settings, max_bytes=ROBOTS_MAX_BYTES)
        now = self.clock()
        try:
            page = fetch_page(self.client, robots_url, settings)
        except FetchHTTPStatus as exc:
            if exc.status == 429 or exc.status >= 500:
                return _Entry(None, now + ROBOTS_UNAVAILABLE_TTL_SECONDS)
            return _Entry(_allow_all(), now + ROBOTS_TTL_SECONDS)
        except FetchAddressRefused:
            raise
        except (FetchTooLarge, FetchRefused):  # too big, or redirected too often: as if there were none
            return _Entry(_allow_all(), now + ROBOTS_TTL_SECONDS)
        return _Entry(_parser(page.content.decode("utf-8", errors="replace")), now + ROBOTS_TTL_SECONDS)
