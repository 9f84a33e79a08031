"""Rendered feeds cached per normalized request, until the store changes.

A cache hit costs a clock read and a dict lookup: the store's version stamp
is read at most every `check_interval_seconds`, so a change made by any
process shows within that time without a query per request. After a
change, concurrent requests for one feed wait for a single render."""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)


class VersionWatcher:
    """The store's version stamp, read at most every `check_interval_seconds`.

    When the store cannot be read, the last version read stays current, so
    what is cached keeps being served (stale, for the outage's length); the
    outage is logged once as it starts and once as it ends. One thread reads
    at a time; the others go on with the version they have."""

    def __init__(self, read_version: Callable[[], int], check_interval_seconds: float = 0.25):
        self._read = read_version
        self._interval = check_interval_seconds
        self._checked_at = float("-inf")
        self._version = -1
        self._lock = threading.Lock()
        self.unreachable_since: float | None = None  # time.monotonic() of the first failed read

    def current(self) -> int:
        if time.monotonic() - self._checked_at < self._interval:
            return self._version
        if not self._lock.acquire(blocking=self._version < 0):
            return self._version  # another thread is reading it
        try:
            if time.monotonic() - self._checked_at >= self._interval:
                self._check()
        finally:
            self._lock.release()
        return self._version

    def _check(self) -> None:
        try:
            self._version = self._read()
        except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the store is away
            if self.unreachable_since is None:
                self.unreachable_since = time.monotonic()
                log.error("store_unreachable serving=cached_feeds error_kind=%s error=%s", type(exc).__name__,
                          (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0])
        else:
            if self.unreachable_since is not None:
                log.warning("store_reachable outage_seconds=%.1f", time.monotonic() - self.unreachable_since)
                self.unreachable_since = None
        self._checked_at = time.monotonic()


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    content_type: str
    last_modified: datetime
    max_age_seconds: int
    etag: str = field(init=False)
    _gzip: list = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # Strong validator: the same bytes always get the same tag.
        object.__setattr__(self, "etag", hashlib.sha256(self.body).hexdigest()[:32])
        object.__setattr__(self, "_gzip", [threading.Lock(), None])

    @property
    def gzip_body(self) -> bytes:
        """Compressed when a client first takes gzip, once: a feed rendered
        again after a change costs no compression until one asks."""
        lock, body = self._gzip
        if body is None:
            with lock:
                body = self._gzip[1]
                if body is None:
                    body = self._gzip[1] = gzip.compress(self.body, compresslevel=6, mtime=0)
        return body


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    renders: int = 0


class FeedCache:
    def __init__(self, watcher: VersionWatcher, max_entries: int = 1024):
        self.watcher = watcher
        self.max_entries = max_entries
        self.stats = CacheStats()
        self._entries: OrderedDict[Any, tuple[int, Any]] = OrderedDict()
        self._key_locks: dict[Any, threading.Lock] = {}
        self._lock = threading.Lock()
        self._newest = -1

    def get(self, key, build: Callable[[], Any]) -> Any:
        """The cached value for `key` at the store's current version, built
        once per version however many requests ask at the same time."""
        version = self.watcher.current()
        cached = self._lookup(key, version)
        if cached is not None:
            self.stats.hits += 1
            return cached
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            cached = self._lookup(key, version)
            if cached is not None:
                self.stats.hits += 1
                return cached
            self.stats.misses += 1
            value = build()
            self.stats.renders += 1
            with self._lock:
                if version > self._newest:
                    # Entries of older versions are never served again: let
                    # their bodies go now rather than when pushed out.
                    self._newest = version
                    for stale in [k for k, (v, _) in self._entries.items() if v < version]:
                        del self._entries[stale]
                        self._key_locks.pop(stale, None)
                self._entries[key] = (version, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    old_key, _ = self._entries.popitem(last=False)
                    self._key_locks.pop(old_key, None)
            return value

    def holds(self, key, entry: tuple[int, Any]) -> bool:
        """Whether `entry` (from `peek`) is still what `key` holds, at the
        version the store is at now; counts nothing."""
        return self._entries.get(key) is entry and entry[0] == self.watcher.current()

    def peek(self, key) -> tuple[int, Any] | None:
        """(version, value) of `key` as cached, whatever the store's version."""
        return self._entries.get(key)

    def _lookup(self, key, version: int):
        entry = self._entries.get(key)
        if entry is not None and entry[0] == version:
            return entry[1]
        return None
