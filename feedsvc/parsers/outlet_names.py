"""Names of news outlets the extractor recognises: the directory shipped as
data (outlets.json beside this module: national media, every Shandong
provincial and city outlet, the portals, other provinces' main papers),
files a user adds in the same format, and names the caller already knows
(every outlet its store has seen).

It only recognises. An unlabelled `<span>中国山东网</span>` beside a date is
an outlet because the directory knows the name; `来源：转载文章` is not,
because the directory knows that placeholder; a related item linking to
another site is named by that site's host as a last resort. It never
merges two names into one outlet: that is FEEDSVC_OUTLET_ALIASES' job."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from feedsvc.core.errors import FeedsvcError

DIRECTORY = Path(__file__).with_name("outlets.json")
# Second-level labels under which a registrable name sits one level deeper
# (news.sina.com.cn and finance.sina.com.cn are one site: sina.com.cn).
_SECOND_LEVEL = {"com", "net", "org", "gov", "edu", "ac", "co", "mil"}
_SPACE = re.compile(r"[\s\u3000\xa0]+")


class OutletFileError(FeedsvcError):
    """An outlet directory file that cannot be read."""


def key(name: str) -> str:
    """Comparison form: NFKC (full-width letters and brackets), no spaces, case-folded."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", name)).casefold()


def site_of(host: str) -> str:
    """The registrable part of a host: news.sina.com.cn → sina.com.cn."""
    labels = host.lower().strip(".").split(".")
    if labels and labels[0] == "www":
        labels = labels[1:]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


class KnownOutlets:
    def __init__(self, outlets: Iterable[dict] = (), placeholders: Iterable[str] = (), names: Iterable[str] = ()):
        self._names: set[str] = set()
        self._hosts: dict[str, str] = {}
        self._placeholders = {key(p) for p in placeholders}
        for outlet in outlets:
            for name in (outlet["name"], *outlet.get("also", ())):
                self._names.add(key(name))
            for host in outlet.get("hosts", ()):
                self._hosts.setdefault(host.lower().strip("."), outlet["name"])
        self._names.update(key(n) for n in names if n and key(n) not in self._placeholders)

    def __len__(self) -> int:
        return len(self._names)

    def with_names(self, names: Iterable[str]) -> KnownOutlets:
        """This directory plus `names` (outlets a store has seen)."""
        grown = KnownOutlets(placeholders=())
        grown._names = self._names | {key(n) for n in names if n and key(n) not in self._placeholders}
        grown._hosts = self._hosts
        grown._placeholders = self._placeholders
        return grown

    def is_outlet(self, name: str | None) -> bool:
        return bool(name) and key(name) in self._names

    def is_placeholder(self, name: str | None) -> bool:
        """转载文章, 转载, 网络, 本站, 原创, 综合: words in a 来源 slot that name nobody."""
        return bool(name) and key(name) in self._placeholders

    def by_host(self, host: str | None) -> str | None:
        """The outlet whose web host is `host` or a domain above it."""
        labels = (host or "").lower().strip(".").split(".")
        for start in range(len(labels) - 1):
            found = self._hosts.get(".".join(labels[start:]))
            if found:
                return found
        return None

    def outlet_of_link(self, link: str | None, page_url: str | None) -> str | None:
        """The outlet a link leads to when it leaves the page's own site."""
        try:
            host = urlsplit(link or "").hostname
            page_host = urlsplit(page_url or "").hostname
        except ValueError:
            return None
        if not host or not page_host or site_of(host) == site_of(page_host):
            return None
        return self.by_host(host)


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OutletFileError(f"cannot read outlet directory {path}: {exc}") from None
    outlets = data.get("outlets") if isinstance(data, dict) else None
    if not isinstance(outlets, list) or not all(isinstance(o, dict) and isinstance(o.get("name"), str)
                                                for o in outlets):
        raise OutletFileError(f"outlet directory {path}: expected {{\"outlets\": [{{\"name\": …}}, …]}}")
    return data


def load_outlets(paths: Iterable[str | Path] = (), names: Iterable[str] = ()) -> KnownOutlets:
    """The shipped directory, plus the user's files (same format) and names."""
    outlets, placeholders = [], []
    for path in (DIRECTORY, *(Path(p) for p in paths)):
        data = _read(path)
        outlets.extend(data["outlets"])
        placeholders.extend(data.get("placeholders", ()))
    return KnownOutlets(outlets, placeholders, names)


@lru_cache(maxsize=1)
def default_outlets() -> KnownOutlets:
    return load_outlets()
