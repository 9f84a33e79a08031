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
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# What a cached value other than a rendered feed (an outlet directory) is counted as.
SMALL_ENTRY_BYTES = 16 * 1024
# A rendered feed's own fields and headers, beside its bodies.
_FEED_OVERHEAD_BYTES = 1024


class VersionWatcher:
    """The store's version stamp, read at most every `check_interval_seconds`.

    When the store cannot be read, the last version read stays current, so
    what is cached keeps being served (stale, for the outage's length); the
    outage is logged once as it starts and once as it ends. One thread reads
    at a time; during an outage the others go on with the version they have."""

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
        # During an outage a read can take the connect timeout: one thread
        # waits for it, the others serve what they have.
        if not self._lock.acquire(blocking=self.unreachable_since is None):
            return self._version
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
    def nbytes(self) -> int:
        """What keeping it costs: its bodies (the gzip one once made)."""
        gzipped = self._gzip[1]
        return len(self.body) + (len(gzipped) if gzipped is not None else 0) + _FEED_OVERHEAD_BYTES

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


KNOWN_KEYS = 4096  # keys of a few hundred bytes each: at most a few MB


class FeedCache:
    """Values per key at the store's version, least recently used first out
    once they hold more than `max_bytes` (a RenderedFeed counts its bodies,
    anything else SMALL_ENTRY_BYTES). What others keep for an entry (the
    fast path's answers) is charged to it with `charge`, so one budget
    bounds both; `evicted` callbacks hear of every key let go."""

    def __init__(self, watcher: VersionWatcher, max_bytes: int = DEFAULT_MAX_BYTES):
        self.watcher = watcher
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self.evicted: list[Callable[[list], None]] = []
        self.bytes = 0
        self._entries: OrderedDict[Any, tuple[int, Any]] = OrderedDict()
        self._sizes: dict[Any, int] = {}
        self._extra: dict[Any, int] = {}
        # Only keys being built have a lock, shared by everyone waiting for that build.
        self._key_locks: dict[Any, list] = {}  # key -> [lock, users]
        self._lock = threading.Lock()
        self._newest = -1
        # Keys rendered lately, whatever version: a render after the store
        # changed is the service's own work, not a client asking for new
        # variants, so it is not rate-limited (see `known`).
        self._rendered: OrderedDict[Any, None] = OrderedDict()

    def known(self, key) -> bool:
        """Whether `key` was rendered lately (at most KNOWN_KEYS remembered)."""
        with self._lock:
            return key in self._rendered

    @property
    def key_locks(self) -> int:
        return len(self._key_locks)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key, build: Callable[[], Any]) -> Any:
        """The cached value for `key` at the store's current version, built
        once per version however many requests ask at the same time."""
        version = self.watcher.current()
        cached = self._lookup(key, version)
        if cached is not None:
            self.stats.hits += 1
            return cached
        holder = self._hold_key_lock(key)
        try:
            with holder[0]:
                cached = self._lookup(key, version)
                if cached is not None:
                    self.stats.hits += 1
                    return cached
                self.stats.misses += 1
                value = build()
                self.stats.renders += 1
                self._keep(key, version, value)
                return value
        finally:
            self._release_key_lock(key, holder)

    def _hold_key_lock(self, key) -> list:
        with self._lock:
            holder = self._key_locks.get(key)
            if holder is None:
                holder = self._key_locks[key] = [threading.Lock(), 0]
            holder[1] += 1
        return holder

    def _release_key_lock(self, key, holder: list) -> None:
        with self._lock:
            holder[1] -= 1
            if holder[1] == 0:
                del self._key_locks[key]

    def _keep(self, key, version: int, value) -> None:
        with self._lock:
            dropped = []
            if version > self._newest:
                # Entries of older versions are never served again: let
                # their bodies go now rather than when pushed out.
                self._newest = version
                dropped = [k for k, (v, _) in self._entries.items() if v < version]
                for stale in dropped:
                    self._drop(stale)
            self._drop(key)
            self._rendered[key] = None
            self._rendered.move_to_end(key)
            while len(self._rendered) > KNOWN_KEYS:
                self._rendered.popitem(last=False)
            self._entries[key] = (version, value)
            self._sizes[key] = _size_of(value)
            self._extra[key] = 0
            self.bytes += self._sizes[key]
            dropped += self._shrink(keep=key)
        self._tell(dropped)

    def charge(self, key, entry: tuple[int, Any], nbytes: int) -> bool:
        """Count `nbytes` more against `entry` (from `peek`), kept elsewhere
        for as long as the entry lives, and measure the entry again (its
        gzip body may have been made since). False when `key` no longer
        holds `entry`, or it had to go to stay within the budget."""
        with self._lock:
            if self._entries.get(key) is not entry:
                return False
            self._extra[key] += nbytes
            size = _size_of(entry[1]) + self._extra[key]
            self.bytes += size - self._sizes[key]
            self._sizes[key] = size
            dropped = self._shrink(keep=None)
        self._tell(dropped)
        return key not in dropped

    def _drop(self, key) -> None:
        if self._entries.pop(key, None) is not None:
            self.bytes -= self._sizes.pop(key)
            self._extra.pop(key, None)

    def _shrink(self, keep) -> list:
        dropped = []
        while self.bytes > self.max_bytes and len(self._entries) > 1:
            oldest, entry = self._entries.popitem(last=False)
            if oldest == keep:
                self._entries[oldest] = entry  # the value just made stays
                continue
            self.bytes -= self._sizes.pop(oldest)
            self._extra.pop(oldest, None)
            dropped.append(oldest)
        return dropped

    def _tell(self, dropped: list) -> None:
        if dropped:
            for listener in self.evicted:
                listener(dropped)

    def holds(self, key, entry: tuple[int, Any]) -> bool:
        """Whether `entry` (from `peek`) is still what `key` holds, at the
        version the store is at now; counts nothing, but makes it the most
        recently used."""
        if self._entries.get(key) is not entry or entry[0] != self.watcher.current():
            return False
        self._touch(key)
        return True

    def _touch(self, key) -> None:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)

    def peek(self, key) -> tuple[int, Any] | None:
        """(version, value) of `key` as cached, whatever the store's version."""
        return self._entries.get(key)

    def _lookup(self, key, version: int):
        entry = self._entries.get(key)
        if entry is not None and entry[0] == version:
            self._touch(key)
            return entry[1]
        return None


def _size_of(value) -> int:
    return getattr(value, "nbytes", SMALL_ENTRY_BYTES)
