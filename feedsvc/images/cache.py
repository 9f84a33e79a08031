"""The image proxy's disk cache: one file per image, least recently used
evicted first once the folder holds more than its bound. Processes sharing
the folder each keep it under the bound (they count what is on disk)."""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

_TYPE_LINE_MAX = 64


@dataclass(frozen=True)
class CachedImage:
    content_type: str
    body: bytes
    etag: str


def _key(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


class ImageCache:
    def __init__(self, folder: str | Path, max_bytes: int):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._size = self._measure()

    def _measure(self) -> int:
        return sum(self._stat_size(path) for path in self.folder.iterdir() if path.is_file())

    @staticmethod
    def _stat_size(path: Path) -> int:
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return 0

    def get(self, name: str) -> CachedImage | None:
        path = self.folder / _key(name)
        try:
            data = path.read_bytes()
            os.utime(path)  # recently used: evicted last
        except FileNotFoundError:
            return None
        content_type, _, body = data.partition(b"\n")
        return CachedImage(content_type.decode("ascii", "replace"), body, _key(name)[:32])

    def put(self, name: str, content_type: str, body: bytes) -> CachedImage:
        image = CachedImage(content_type, body, _key(name)[:32])
        record = content_type.encode("ascii")[:_TYPE_LINE_MAX] + b"\n" + body
        if len(record) > self.max_bytes:
            return image  # served, not kept: it alone would overflow the cache
        path = self.folder / _key(name)
        temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        temporary.write_bytes(record)
        os.replace(temporary, path)  # readers see the whole file or none
        with self._lock:
            self._size += len(record)
            if self._size > self.max_bytes:
                self._evict()
        return image

    def _evict(self) -> None:
        """Oldest use first, down to 90% of the bound, from what is on
        disk (another process may have added files)."""
        entries = []
        for path in self.folder.iterdir():
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            entries.append((st.st_mtime, st.st_size, path))
        entries.sort()
        total = sum(size for _, size, _ in entries)
        target = self.max_bytes * 9 // 10
        for _, size, path in entries:
            if total <= target:
                break
            try:
                path.unlink()
                total -= size
            except FileNotFoundError:
                pass
        self._size = total

    @property
    def size_bytes(self) -> int:
        return self._size
