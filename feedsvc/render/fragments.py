"""Rendered entries kept per item revision, so a feed rendered again after
a store change renders only the items that changed and splices the rest.

An entry's bytes depend on the item (its id and revision: the revision moves
on every change), the format and how the caller shows it (conversion,
outlet display name), which the caller puts in the key; and on the item's
source time zone, fixed for one app, which owns one cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from feedsvc.core.models import StoredItem
from feedsvc.render.formats import FORMATS
from feedsvc.render.meta import FeedMeta, feed_updated, rendered_or_none

DEFAULT_MAX_BYTES = 32 * 1024 * 1024


@dataclass
class FragmentStats:
    rendered: int = 0
    reused: int = 0


class FragmentCache:
    """Least recently used entries, up to `max_bytes` of them in all."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_bytes = max_bytes
        self.stats = FragmentStats()
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: bytes) -> None:
        if len(value) > self.max_bytes // 8:
            return  # one huge entry would push out everything else
        with self._lock:
            old = self._entries.pop(key, None)
            self._bytes += len(value) - (len(old) if old is not None else 0)
            self._entries[key] = value
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes


def render_feed(fmt: str, meta: FeedMeta, entries: Sequence[tuple[object, StoredItem | None]],
                reused: dict[int, bytes], cache: FragmentCache, key: Callable[[object], Hashable]) -> bytes:
    """The feed of `entries`, newest first: (ref, item) pairs where the item
    is given when it must be rendered, and `reused` holds, by ref.seq, the
    entries taken from `cache` for the others. New renderings go into the
    cache under `key(ref)`."""
    spec = FORMATS[fmt]
    parts = []
    for ref, item in entries:
        if item is None:
            parts.append(reused[ref.seq])
            cache.stats.reused += 1
            continue
        fragment = rendered_or_none(lambda one: spec.entry(one, meta), item, fmt)
        if fragment is None:
            continue  # left out, and rendered again (and left out) next time: it is rare
        cache.put(key(ref), fragment)
        cache.stats.rendered += 1
        parts.append(fragment)
    return spec.document(meta, feed_updated([ref for ref, _ in entries], meta.updated_when_empty), parts)
