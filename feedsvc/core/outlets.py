"""Outlets as readers see them: aliases folded into one name (大众网 →
大众日报), and an ASCII slug for each (胶东在线 → jiaodong-zaixian).

Slugs, names and aliases share one namespace, that of the outlet feed
URLs (/feeds/outlet/<key>.atom): a key is looked up as a slug first, then
as a name, then as an alias, so an outlet whose name is another's slug (a
site filing an item under "jiaodong-zaixian") never takes over that
outlet's URL. The store hands each name its slug once, at first sight,
and keeps it (feedsvc.store.outlet_stats); every link feedsvc writes uses it."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_NON_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_MAX_CHARS = 64
# Lists that grow with the outlets are paged or cut: a source naming a new
# outlet in every item must not make every index, OPML or error body grow.
OUTLETS_PAGE_SIZE = 100
OUTLETS_NAMED_IN_ERRORS = 20
# Words of feedsvc's routes: a name equal to one, or with nothing to
# romanize (".." slugifies to "outlet"), gets a suffixed slug.
RESERVED_SLUGS = frozenset({"outlet", "outlets", "all", "source", "sources", "feeds", "opml", "api", "items",
                            "static", "healthz", "metrics", "refresh", "index"})


def slugify(name: str) -> str:
    """Pinyin for Chinese, grouped two syllables a word (most Chinese words
    are two characters), ASCII kept; 'outlet' if nothing is left. Only
    [a-z0-9-], so a slug is never a path segment such as '..'."""
    # pypinyin's dictionaries take ~55 MB: loaded only by a process that
    # meets a name whose slug is not stored yet (see OutletDirectory).
    from pypinyin import lazy_pinyin

    def romanize(match: re.Match) -> str:
        syllables = lazy_pinyin(match.group(0))
        return " " + " ".join("".join(syllables[i:i + 2]) for i in range(0, len(syllables), 2)) + " "

    text = unicodedata.normalize("NFKC", name)
    slug = _NON_SLUG.sub("-", _CJK.sub(romanize, text).lower()).strip("-")
    if len(slug) > SLUG_MAX_CHARS:
        head = slug[:SLUG_MAX_CHARS + 1]
        slug = head.rsplit("-", 1)[0] if "-" in head else head[:SLUG_MAX_CHARS]
    return slug or "outlet"


def slug_candidates(name: str) -> Iterator[str]:
    """The slugs `name` may take, in the order it tries them: its own,
    then with -2, -3, …; a reserved word starts at -2."""
    base = slugify(name)
    if base not in RESERVED_SLUGS:
        yield base
    for number in itertools.count(2):
        yield f"{base}-{number}"


def free_slug(name: str, taken: Collection[str]) -> str:
    """The first slug of `name` that is not in `taken` (the slugs and names
    in use): deterministic, the same store gives the same answer."""
    return next(slug for slug in slug_candidates(name) if slug not in taken)


@dataclass(frozen=True)
class Outlet:
    name: str  # the canonical name shown in feeds
    slug: str
    members: tuple[str, ...]  # stored names folded into this one (the name and its aliases)
    count: int
    latest: datetime | None


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text)


class OutletDirectory:
    """Built from the store's outlet statistics, with the slugs the store
    keeps. Only an alias target that is no stored name gets its slug here:
    one that no stored outlet uses as slug or name."""

    def __init__(self, stats: Iterable, aliases: Mapping[str, str] | None = None):
        aliases = dict(aliases or {})
        stats_list = list(stats)
        groups: dict[str, list] = {}
        for stat in stats_list:
            groups.setdefault(aliases.get(stat.name, stat.name), []).append(stat)
        stored = {stat.name: stat.slug for stat in stats_list if stat.slug}
        taken = set(stored.values()) | {stat.name for stat in stats_list}
        outlets = []
        for name, group in sorted(groups.items(), key=lambda kv: min(s.first_id for s in kv[1])):
            slug = stored.get(name)
            if slug is None:
                slug = free_slug(name, taken)
                taken.add(slug)
            latest = max((s.latest for s in group if s.latest), default=None)
            outlets.append(Outlet(name, slug, tuple(s.name for s in group), sum(s.count for s in group), latest))
        self._outlets = sorted(outlets, key=lambda o: o.name)
        # The group that shows a stored name's items.
        self._owner = {_key(member): outlet for outlet in outlets for member in outlet.members}
        # One namespace, in order of precedence: slugs (a member's own slug
        # leads to its group), then names and members, then aliases.
        self._by_key: dict[str, Outlet] = {}
        for outlet in outlets:
            self._by_key.setdefault(outlet.slug, outlet)
        for member, slug in stored.items():
            if _key(member) in self._owner:
                self._by_key.setdefault(slug, self._owner[_key(member)])
        for outlet in outlets:
            self._by_key.setdefault(_key(outlet.name), outlet)
        for member, outlet in self._owner.items():
            self._by_key.setdefault(member, outlet)
        for alias, canonical in aliases.items():
            if _key(canonical) in self._by_key:
                self._by_key.setdefault(_key(alias), self._by_key[_key(canonical)])

    def __iter__(self):
        return iter(self._outlets)

    def __len__(self) -> int:
        return len(self._outlets)

    def resolve(self, key: str) -> Outlet | None:
        """An outlet by its slug, its name or an alias, in that order."""
        return self._by_key.get(_key(key.strip()))

    def owner(self, stored: str | None) -> Outlet | None:
        """The outlet whose feed shows items stored under this name: its
        group, never an outlet whose slug happens to be spelt the same."""
        return self._owner.get(_key(stored)) if stored else None

    def display_name(self, stored: str | None) -> str | None:
        outlet = self.owner(stored)
        return outlet.name if outlet else stored

    def page(self, number: int, size: int = OUTLETS_PAGE_SIZE) -> list[Outlet]:
        """Outlets by name, `size` a page; page 1 first."""
        start = (max(number, 1) - 1) * size
        return self._outlets[start:start + size]

    def pages(self, size: int = OUTLETS_PAGE_SIZE) -> int:
        return max(1, -(-len(self._outlets) // size))

    def summary(self, limit: int = OUTLETS_NAMED_IN_ERRORS) -> str:
        """The first outlets with their slugs, for an error message: a few,
        never all of them."""
        named = ", ".join(f"{o.name} ({o.slug})" for o in self._outlets[:limit]) or "none yet"
        more = len(self._outlets) - limit
        return named + (f" and {more} more (all of them: /api/outlets)" if more > 0 else "")
