"""Outlets as readers see them: aliases folded into one name (大众网 →
大众日报), and an ASCII slug for each (胶东在线 → jiaodong-zaixian)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """Pinyin for Chinese, grouped two syllables a word (most Chinese words
    are two characters), ASCII kept; 'outlet' if nothing is left."""
    # pypinyin's dictionaries take ~55 MB: loaded only by a process that
    # meets a name whose slug is not stored yet (see OutletDirectory).
    from pypinyin import lazy_pinyin

    def romanize(match: re.Match) -> str:
        syllables = lazy_pinyin(match.group(0))
        return " " + " ".join("".join(syllables[i:i + 2]) for i in range(0, len(syllables), 2)) + " "

    text = unicodedata.normalize("NFKC", name)
    slug = _NON_SLUG.sub("-", _CJK.sub(romanize, text).lower()).strip("-")
    return slug or "outlet"


@dataclass(frozen=True)
class Outlet:
    name: str  # the canonical name shown in feeds
    slug: str
    members: tuple[str, ...]  # stored names folded into this one (the name and its aliases)
    count: int
    latest: datetime | None


class OutletDirectory:
    """Built from the store's outlet statistics. Slugs are handed out in
    the order outlets first appeared, so an existing slug never changes
    when a later outlet happens to romanize the same way. The store keeps
    each name's slug; only a name it has none for (an alias target that is
    no stored name) is romanized here."""

    def __init__(self, stats: Iterable, aliases: Mapping[str, str] | None = None):
        aliases = dict(aliases or {})
        stats_list = list(stats)
        groups: dict[str, list] = {}
        for stat in stats_list:
            groups.setdefault(aliases.get(stat.name, stat.name), []).append(stat)
        taken: set[str] = set()
        outlets = []
        stored = {stat.name: stat.slug for stat in stats_list if stat.slug}
        for name, group in sorted(groups.items(), key=lambda kv: min(s.first_id for s in kv[1])):
            base = slug = stored.get(name) or slugify(name)
            counter = 2
            while slug in taken:
                slug, counter = f"{base}-{counter}", counter + 1
            taken.add(slug)
            latest = max((s.latest for s in group if s.latest), default=None)
            outlets.append(Outlet(name, slug, tuple(s.name for s in group), sum(s.count for s in group), latest))
        self._outlets = sorted(outlets, key=lambda o: o.name)
        self._by_key: dict[str, Outlet] = {}
        for outlet in self._outlets:
            for key in (outlet.slug, outlet.name, *outlet.members):
                self._by_key.setdefault(unicodedata.normalize("NFC", key), outlet)
        for alias, canonical in aliases.items():
            if canonical in self._by_key:
                self._by_key.setdefault(alias, self._by_key[canonical])

    def __iter__(self):
        return iter(self._outlets)

    def __len__(self) -> int:
        return len(self._outlets)

    def resolve(self, key: str) -> Outlet | None:
        """An outlet by its name, an alias or its slug."""
        return self._by_key.get(unicodedata.normalize("NFC", key.strip()))

    def display_name(self, stored: str | None) -> str | None:
        outlet = self.resolve(stored) if stored else None
        return outlet.name if outlet else stored
