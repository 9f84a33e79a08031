"""Lease heartbeats: while a process holds sources, a thread of its own
renews their leases every heartbeat, so a lease can be short (a few
heartbeats) and a process that dies, or stops renewing, loses its sources
within that time instead of after the longest refresh anyone could make."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from feedsvc.store.store import Store

log = logging.getLogger(__name__)


def heartbeat_seconds(lease_seconds: float, wanted_seconds: float) -> float:
    """The heartbeat a lease of `lease_seconds` gets: the setting, but
    never more than a third of the lease, so two missed beats still leave
    it held."""
    return max(0.05, min(wanted_seconds, lease_seconds / 3))


class LeaseHeartbeat:
    def __init__(self, store: Store, holder: str, ttl: timedelta, interval_seconds: float):
        self.store = store
        self.holder = holder
        self.ttl = ttl
        self.interval_seconds = interval_seconds
        self._held: Counter[str] = Counter()  # a source may be held twice: claimed, then refreshed
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def hold(self, *source_ids: str) -> None:
        with self._lock:
            self._held.update(source_ids)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)
                self._thread.start()

    def release(self, source_id: str) -> None:
        with self._lock:
            self._held[source_id] -= 1
            if self._held[source_id] <= 0:
                del self._held[source_id]

    def held(self) -> list[str]:
        with self._lock:
            return sorted(self._held)

    def beat(self) -> int:
        """Renew every held lease now; returns how many were renewed."""
        ids = self.held()
        if not ids:
            return 0
        try:
            return self.store.renew_leases(self.holder, ids, self.ttl)
        except SQLAlchemyError as exc:  # the store is away: the next beat tries again
            log.warning("lease_heartbeat_failed sources=%d error=%s", len(ids), str(exc).splitlines()[0])
            return 0

    def _run(self) -> None:
        # Ends once nothing is held; the next hold starts a new thread.
        while not self._wake.wait(self.interval_seconds):
            with self._lock:
                if not self._held:
                    self._thread = None
                    return
            self.beat()
