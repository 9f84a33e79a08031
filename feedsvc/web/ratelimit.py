"""A token bucket per client address, for the admin endpoints and for
feed renders. Every admin request takes a token, refused ones included, so
guessing the token is as slow as refreshing; a feed request takes one only
when it has to be rendered. Buckets live in the process: with several worker
processes each keeps its own, and a client gets the limit once per
process."""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# More clients than this at once and the longest-idle bucket is forgotten
# (which only makes that client's next request free): memory stays bounded
# whatever addresses arrive.
MAX_CLIENTS = 10_000


@dataclass
class _Bucket:
    tokens: float
    stamp: float


def client_key(address) -> str:
    """IPv6 clients are counted per /64, the block one host usually holds,
    so hopping between its own addresses earns no fresh bucket."""
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class RateLimiter:
    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = MAX_CLIENTS):
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = max(1, burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str) -> float:
        """Take a token for `key`: 0 when one was there, else the seconds
        until the next one."""
        return self._settle(key, take=True)

    def wait(self, key: str) -> float:
        """Seconds until `key` has a token (0: it has one now); takes none."""
        return self._settle(key, take=False)

    def _settle(self, key: str, take: bool) -> float:
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if not take:
                    return 0.0  # a client not seen has its whole burst
                bucket = _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            self._buckets[key] = bucket
            self._buckets.move_to_end(key)  # most recently seen last
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1:
                if take:
                    bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate


def retry_after_header(wait_seconds: float) -> str:
    # Whole seconds, rounded up: a client that waits this long gets through.
    return str(max(1, math.ceil(wait_seconds)))
