"""Recipes reloaded while the service runs. The recipes folder is looked
at every few seconds (and on request, e.g. SIGHUP); when a file was added,
removed or edited, the folder is read again and the usable recipes replace
the running ones. A refused file keeps its previous version running, and
its error is kept for the index page and `feedsvc sources`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from feedsvc.core.errors import RecipeError
from feedsvc.sources.recipes import Recipe, RecipeFolder, folder_fingerprint, read_recipe_folder

log = logging.getLogger(__name__)


class RecipeReloader:
    def __init__(self, folder: str | Path, variables: dict[str, str] | None, apply: Callable[[RecipeFolder], None],
                 interval_seconds: float, recipes: Iterable[Recipe], errors: Iterable[RecipeError] = ()):
        """`apply` receives every reloaded folder; `recipes` and `errors` are
        what start-up loaded."""
        self.folder = Path(folder)
        self.variables = variables
        self.interval_seconds = interval_seconds
        self.errors: tuple[RecipeError, ...] = tuple(errors)
        self._apply = apply
        self._by_path = {r.path: r for r in recipes}
        self._fingerprint = folder_fingerprint(self.folder)
        self._checked_at = time.monotonic()
        self._requested = False
        self._lock = threading.Lock()

    def request(self) -> None:
        """Reload at the next check whether or not a file changed (SIGHUP)."""
        self._requested = True

    def check(self) -> bool:
        """Reload when the interval has passed and the folder changed, or
        when asked to. When not due this is one clock read, so it may run
        on every request. True if recipes were read again."""
        if not self._requested and (self.interval_seconds <= 0
                                    or time.monotonic() - self._checked_at < self.interval_seconds):
            return False
        if not self._lock.acquire(blocking=False):
            return False  # another thread is checking right now
        try:
            self._checked_at = time.monotonic()
            # Taken before reading: a file changed mid-read shows as a
            # change at the next check and is read again then.
            fingerprint = folder_fingerprint(self.folder)
            if not self._requested and fingerprint == self._fingerprint:
                return False
            self._requested = False
            try:
                self._reload()
            except Exception:  # noqa: BLE001 - e.g. the store is down: keep running, retry next time
                log.exception("recipes_reload_failed folder=%s", self.folder)
                return False
            self._fingerprint = fingerprint
            return True
        finally:
            self._lock.release()

    def _reload(self) -> None:
        loaded = read_recipe_folder(self.folder, self.variables, previous=self._by_path)
        for error in loaded.errors:
            kept = "previous" if error.file in self._by_path else "none"
            log.warning("recipe_refused file=%s key=%s reason=%s running_version=%s",
                        error.file, error.key, error.reason, kept)
        self._apply(loaded)
        self._by_path = {r.path: r for r in loaded.recipes}
        self.errors = loaded.errors
