"""One pass over an article page: the fields, and the elements they came
from (which `recipes suggest` turns into selectors)."""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from feedsvc.extract import body as body_mod
from feedsvc.parsers.dates import date_in_url, looks_dated, parse_timestamp
from feedsvc.extract.headline import pick_title
from feedsvc.extract import related as related_mod
from feedsvc.extract.listing import Group, find_groups
from feedsvc.parsers.outlet_names import KnownOutlets, default_outlets
from feedsvc.extract.metadata import (Found, bracketed_name, byline, byline_on, closing_credit, clean_author, dated_runs,
                                     english_byline, labelled, lead_outlet, looks_like_person, outlet_beside,
                                     publication_on)
from feedsvc.extract.structured import Structured, read_structured
from feedsvc.extract.tree import Run, runs_of, strip_noise, weighted_len

from feedsvc.core.models import ListingEntry, Timestamp
from feedsvc.parsers.dom import absolute_http, canonical_url, load_document
from feedsvc.parsers.text import char_len, shorten

_HEAD_RUNS = 40  # label lines sit within this many runs of the headline
_TAIL_RUNS = 15  # editor credits within this many runs after the body
_LEAD_MIN = 40  # weighted: a lead paragraph has twenty ideographs at least
_ABOVE_RUNS = 2  # a dateline above the headline is one of the two lines over it
_DATELINE_MAX = 24  # characters: 2022年02月13日 星期日, not a sentence


@dataclass(frozen=True)
class Extracted:
    url: str | None
    title: str | None
    author: str | None = None
    outlet: str | None = None
    editors: tuple[str, ...] = ()
    published: Timestamp | None = None
    body_text: str | None = None
    body_html: str | None = None
    summary: str | None = None
    image: str | None = None
    language: str | None = None
    related: tuple[ListingEntry, ...] = ()

    def as_json(self) -> dict:
        return {
            "url": self.url,
            "title": self.title,
            "author": self.author,
            "outlet": self.outlet,
            "editors": list(self.editors),
            "published": iso(self.published),
            "summary": self.summary,
            "image": self.image,
            "language": self.language,
            "body_text": self.body_text,
            "body_html": self.body_html,
            "related": [{"title": e.title, "link": e.link, "summary": e.summary, "outlet": e.outlet,
                         "date": iso(e.published)} for e in self.related],
        }


def iso(stamp: Timestamp | None) -> str | None:
    if stamp is None:
        return None
    return stamp.value.date().isoformat() if stamp.precision == "day" else stamp.value.isoformat()


@dataclass
class Analysis:
    extracted: Extracted
    title_run: Run | None = None
    body_nodes: list = field(default_factory=list)
    labels: dict[str, Found] = field(default_factory=dict)
    date_run: Run | None = None
    related: list[related_mod.Block] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    root: object = None


def _shown_time(windows: "Windows", zone: tzinfo, now) -> tuple[Timestamp | None, Run | None]:
    lines = dated_runs(windows.before, backwards=not windows.anchored) + dated_runs(windows.body[:3])
    # Last, a bare dateline just above the headline (e-paper issue dates,
    # kickers): only a short line, so navigation above a headline is not read.
    lines += [(run, run.text) for run in reversed(windows.above) if char_len(run.text) <= _DATELINE_MAX]
    for run, text in lines:
        if looks_dated(text):
            shown = parse_timestamp(text, zone, now)
            if shown:
                return shown, run
    return None, None


_SENTENCE = re.compile(r"[。！？]|[.!?](?:\s|$)")
_YEAR = re.compile(r"(?:19|20)\d\d")
_ZONED = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")
_ENGLISH_LINE = re.compile(r"[A-Za-z]{3,}")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _published(found: Structured, windows: "Windows", zone: tzinfo, now) -> tuple[Timestamp | None, Run | None]:
    """The time the page shows under its headline, unless structured data
    is more precise or disagrees about the day. Shown wins a tie because
    meta times are often the CMS's (seconds off, or the last update)."""
    meta = [(raw, t) for raw, t in ((raw, parse_timestamp(raw, zone, now)) for raw in found.times) if t]
    raw, meta_best = next(((r, t) for r, t in meta if t.precision == "second"), meta[0] if meta else ("", None))
    shown, shown_run = _shown_time(windows, zone, now)
    if shown is not None and meta_best is not None and not _YEAR.search(shown_run.text):
        return meta_best, None  # "3小时前" is read against today; the page's own dated metadata is not
    if shown is None:
        return meta_best, None
    if meta_best is None:
        return shown, shown_run
    if _ZONED.search(raw.strip()) and _ENGLISH_LINE.search(shown_run.text) and not _HAN.search(shown_run.text):
        return meta_best, None  # "3:53 PM EDT" is in a zone we cannot read; the zoned meta time is not
    if shown.value.replace(tzinfo=None) == meta_best.value.replace(tzinfo=None):
        return meta_best, shown_run  # the same wall-clock time, and meta knows its offset
    same_day = abs((shown.value - meta_best.value).total_seconds()) < 36 * 3600
    if same_day and (shown.precision == "second" or meta_best.precision == "day"):
        return shown, shown_run
    return meta_best, None


def _author(found: Structured, labels: dict, windows: "Windows", date_run, root) -> tuple[str | None, Run | None]:
    if "author" in labels:
        return "、".join(labels["author"].value), labels["author"].run
    by = byline(windows.before, backwards=not windows.anchored) or bracketed_name(date_run) \
        or byline(windows.edges) or closing_credit(windows.body[-3:])
    if by:
        return "、".join(by.value), by.run
    for name in found.authors:
        if clean_author(name):
            return clean_author(name), None
    if "issuer" in labels:
        return labels["issuer"].value, labels["issuer"].run
    return clean_author(english_byline(root) or byline_on(date_run)), None


@dataclass
class Windows:
    before: list  # from the headline (or from further up) to the body's start
    anchored: bool  # whether `before` starts at a known headline
    body: list
    edges: list  # the body's first and last runs
    after: list  # the body's end and what follows it
    above: list = field(default_factory=list)  # the lines just over the headline
    lead: list = field(default_factory=list)  # every line within reach above the body

    def labels(self) -> dict[str, Found]:
        """Labels under the headline first, then at the body's start, then
        anywhere in the body or just after it (editor credits close it).
        A government document's issuer may sit in a table above its title."""
        found = labelled(self.before, backwards=not self.anchored)
        for part in (self.body[:3], self.body + self.after, self.lead):
            for kind, value in labelled(part).items():
                if kind == "issuer" or part is not self.lead:
                    found.setdefault(kind, value)
        return found


def _windows(runs: list[Run], title_index: int | None, body_nodes: list) -> Windows:
    inside = set()
    for node in body_nodes:
        inside.update(node.iter())
    positions = [i for i, run in enumerate(runs) if run.block in inside]
    start, end = (positions[0], positions[-1]) if positions else (len(runs), len(runs) - 1)
    anchored = title_index is not None and title_index <= start and start - title_index <= _HEAD_RUNS * 2
    if title_index is not None and start <= title_index <= end:  # the headline is inside the body block
        anchored, first, stop = True, title_index, title_index + 12
    else:
        first = title_index if anchored else max(0, start - _HEAD_RUNS)
        stop = min(start, first + _HEAD_RUNS)
    body = runs[start: end + 1]
    above = runs[max(0, title_index - _ABOVE_RUNS): title_index] if anchored else []
    return Windows(runs[first:stop], anchored, body, body[:3] + body[-3:], runs[end + 1: end + _TAIL_RUNS], above,
                   runs[max(0, start - _HEAD_RUNS): start])


def _link_base(root, url: str | None, canonical: str) -> str:
    """What the page's relative links are resolved against: its <base href>,
    else its canonical URL (an item's identity, whichever mirror the page
    came through; `href` keeps the link as written for following it)."""
    base = root.find(".//base[@href]")
    fetched = url if url and url.startswith(("http://", "https://")) else None
    declared = absolute_http(base.get("href"), canonical or fetched or "") if base is not None else None
    return declared or canonical or fetched or ""


def analyse(data: bytes, url: str | None, zone: tzinfo, charset: str | None, now: datetime | None,
            keep_tree: bool = False, known: KnownOutlets | None = None) -> Analysis:
    """Extract everything; with `keep_tree` the body is neither cleaned nor
    rendered, so every element found is still in the tree for selectors.
    `known` recognises outlet names (default: the shipped directory)."""
    known = known or default_outlets()
    root = load_document(data, url or "page", charset)
    base = canonical_url(root, url or "")
    link_base = _link_base(root, url, base)
    found = read_structured(root)
    strip_noise(root)
    runs = runs_of(root)
    groups = find_groups(root)
    body_nodes = body_mod.find_body(runs)
    title, title_index, title_end = pick_title(root, runs, found)
    windows = _windows(runs, title_index, body_nodes)
    related, page = related_mod.find_blocks(root, runs, groups, body_nodes[0] if body_nodes else None, link_base,
                                            base or None)
    # 来源：X inside a related item names that item's outlet, not the article's.
    listed = {el for item in related_mod.block_elements(related) for el in item.iter()}
    windows.after = [run for run in windows.after if run.block not in listed]
    labels = windows.labels()
    published, date_run = _published(found, windows, zone, now)
    author, author_run = _author(found, labels, windows, date_run, root)
    in_url = date_in_url(base or url, zone)
    if published and in_url and date_run is not None and not _YEAR.search(date_run.text) \
            and published.value.year != in_url.value.year:
        published = in_url  # a relative badge read today, on a page whose address names its day
    published = published or in_url
    related_entries = related_mod.related_entries(related, page, zone, published.value if published else None,
                                                  now, known) if related else ()
    title_run = runs[title_index] if title_index is not None else None
    title_runs = runs[title_index: title_end + 1] if title_index is not None else []
    meta_runs = [r for r in (*title_runs, date_run, author_run, *(f.run for f in labels.values())) if r]
    # Label lines go; a first paragraph that opens with （记者 张三） stays.
    body_html = body_text = image = None
    if body_nodes and not keep_tree:
        body_mod.clean(body_nodes, [r.block for r in meta_runs if _is_label_line(r.block)]
                       + related_mod.block_elements(related), title)
        body_html, body_text, image = body_mod.render(body_nodes, base)
    # The lead is running text: a deck line or subhead has no full stop.
    lead = next((line for line in (body_text or "").split("\n")
                 if weighted_len(line) >= _LEAD_MIN and _SENTENCE.search(line)), None)
    outlet = labels["outlet"].value if "outlet" in labels else None
    if outlet and looks_like_person(outlet, known):  # 来源: 尹娟 names the reporter
        author, outlet = author or outlet, None
    editors = tuple(dict.fromkeys(labels["editor"].value)) if "editor" in labels else ()
    if author and "author" not in labels and set(author.split("、")) <= set(editors):
        author = None  # 编辑:李楠 credits an editor; only a 作者/记者 label makes them the author too
    if author and known.is_outlet(author):  # 作者：新京报 or the portal's name is no person
        outlet, author = outlet or author, None
    if outlet is None:
        date_index = next((i for i, run in enumerate(runs) if run is date_run), None) if date_run else None
        beside = outlet_beside(runs, date_index, known) or lead_outlet(windows.body, known)
        outlet = beside.value if beside else publication_on(date_run)
    if outlet is None:  # an outlet credited as the author (a byline box naming the provider)
        outlet = next((name for name in (*found.authors, english_byline(root)) if known.is_outlet(name)), None)
    extracted = Extracted(
        url=base or None,
        title=title,
        author=author,
        outlet=outlet,
        editors=editors,
        published=published,
        body_text=body_text,
        body_html=body_html,
        summary=shorten(lead or found.description),
        image=image or (absolute_http(found.image, base) if base else None),
        language=found.language,
        related=related_entries,
    )
    return Analysis(extracted, title_run, body_nodes, labels, date_run, related, groups, root)


def _is_label_line(block) -> bool:
    text = " ".join(run.text for run in runs_of(block))
    return char_len(text) <= 100 and "。" not in text
