"""Listings without selectors: the repeated blocks of a page that are
article links.

A listing is a parent whose children repeat one shape (same tag and class)
and each hold one headline-like link. Navigation repeats too, so groups
inside nav/header/footer are ignored, and a headline must be long enough —
measured in characters with CJK counting double, so 台风"海葵"登陆福建 is as
much a headline as "Typhoon makes landfall in Fujian", while 首页 or
"Home" are not."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from statistics import median

from feedsvc.parsers.dates import looks_dated, parse_timestamp
from feedsvc.extract.metadata import labelled
from feedsvc.extract.tree import ancestors, class_id, runs_of, weighted_len
from feedsvc.core.models import ListingEntry
from feedsvc.parsers.dom import absolute_http
from feedsvc.parsers.text import shorten, squash, strip_more_link

_MIN_ITEMS = 3
_MIN_TITLE = 12  # weighted: six ideographs or twelve Latin letters
_MIN_SUMMARY = 30
_CHROME = re.compile(r"\bnav|menu|header|footer|breadcrumb|crumb|copyright|friend|toolbar|topbar|login|pagination"
                     r"|pager|\bpage-?nav|\btabs?\b|sitemap")
_CHROME_TAGS = {"nav", "header", "footer"}
# Hot lists (点击排行, 热点, 热门) repeat headlines from all over the site.
_HOT = re.compile(r"排行|热点|热门|热读|热榜|点击榜|top\s*\d+|most (?:read|popular)|hot\b|ranking|paihang|redian", re.I)


@dataclass
class Group:
    container: object
    signature: str
    items: list = field(default_factory=list)  # (item element, title anchor)
    score: float = 0.0


def _signature(el) -> str:
    return f"{el.tag}.{' '.join(sorted((el.get('class') or '').split()))}"


def _best_anchors(root) -> dict:
    """For every element: (title-like links below it, the longest one)."""
    best: dict = {}
    for a in root.iter("a"):
        text = squash(a.text_content())
        if not a.get("href") or weighted_len(text) < _MIN_TITLE or a.get("href", "").startswith(("javascript:", "#")):
            continue
        size = weighted_len(text)
        for el in ancestors(a):
            count, anchor, anchor_size = best.get(el, (0, None, 0))
            best[el] = (count + 1, a if size > anchor_size else anchor, max(size, anchor_size))
    return best


def _in_chrome(el) -> bool:
    for anc in ancestors(el):
        if anc.tag in _CHROME_TAGS or _CHROME.search(class_id(anc)):
            return True
    return False


def find_groups(root) -> list[Group]:
    """Candidate listings, best first."""
    best = _best_anchors(root)
    groups = []
    for parent in {el.getparent() for el in best if el.getparent() is not None}:
        by_shape: dict[str, Group] = {}
        for child in parent:
            info = best.get(child)
            if info is None or info[0] > 3 or not isinstance(child.tag, str):
                continue
            group = by_shape.setdefault(_signature(child), Group(parent, _signature(child)))
            group.items.append((child, info[1]))
        for group in by_shape.values():
            sizes = [weighted_len(squash(a.text_content())) for _, a in group.items]
            if len(group.items) >= _MIN_ITEMS and median(sizes) >= _MIN_TITLE * 1.5 and not _in_chrome(parent):
                group.score = sum(min(s, 80) for s in sizes)
                groups.append(group)
    groups.sort(key=lambda g: -g.score)
    return groups


def _entry(item, anchor, base: str, zone: tzinfo, now: datetime | None) -> ListingEntry | None:
    title = strip_more_link(anchor.get("title") if len(anchor.get("title") or "") > len(anchor.text_content()) * 1.5
                            else anchor.text_content())
    href = anchor.get("href").strip()
    link = absolute_http(href, base)
    if not title or not link:
        return None
    lines = [run.text for run in runs_of(item)]
    # The date line is the short one; a summary may mention 刚刚 or 3天前 in passing.
    dated = sorted((line for line in lines if looks_dated(line)), key=weighted_len)
    date = next((found for found in (parse_timestamp(line, zone, now) for line in dated) if found), None)
    others = [line for line in lines if title not in line and (not looks_dated(line) or weighted_len(line) > 80)]
    summary = max(others, key=weighted_len, default=None)
    outlet = labelled(runs_of(item)).get("outlet")
    return ListingEntry(
        title=title,
        link=link,
        href=href,
        summary=shorten(strip_more_link(summary)) if summary and weighted_len(summary) >= _MIN_SUMMARY else None,
        outlet=outlet.value if outlet else None,
        published=date,
    )


def entries(groups: list[Group], base: str, zone: tzinfo, now: datetime | None) -> tuple[ListingEntry, ...]:
    """Entries of the best group and of groups of the same shape (a long
    list split into blocks of five), in page order, each link once."""
    if not groups:
        return ()
    top = groups[0]
    shape = (_signature(top.container), top.signature)
    chosen = [g for g in groups if (_signature(g.container), g.signature) == shape]
    order = {el: i for i, el in enumerate(top.container.getroottree().getroot().iter())}
    found: dict[str, ListingEntry] = {}
    for item, anchor in sorted((pair for g in chosen for pair in g.items), key=lambda p: order.get(p[0], 0)):
        entry = _entry(item, anchor, base, zone, now)
        if entry is not None and entry.link not in found:
            found[entry.link] = entry
    return tuple(found.values())


def own_groups(groups: list[Group]) -> list[Group]:
    """The listings that are the page's own: hot lists go, unless there is
    nothing else (a channel called 热点 lists its own news)."""
    own = [g for g in groups if not _HOT.search(_box_heading(g.container))]
    return own or groups


def _box_heading(container) -> str:
    """A list's own heading and its box's: a short line just before it
    (not the end of a neighbouring list), and the class names."""
    texts = []
    for el in (container, container.getparent()):
        if el is None:
            continue
        prev = el.getprevious()
        if prev is not None and isinstance(prev.tag, str) and weighted_len(squash(prev.text_content())) <= 24:
            texts.append(squash(prev.text_content()))
        texts.append(class_id(el))
    return " ".join(texts)
