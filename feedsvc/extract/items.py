"""One item of a related list: its title without the dates and badges the
link carries, and the date, outlet and summary from the item's own text.

The item is read as *pieces* (each text node with the element that holds
it, the link around it and its line), so a date is taken only from a short
line of its own (`2019-10-22`, `(10-22)`, `胶东在线 2019-10-23`), never
from a summary that mentions a day, and an outlet only from a piece the
item gives it: a `来源：` label, an element whose class says source, the
name beside the date, or a name the outlet directory knows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from feedsvc.parsers.outlet_names import KnownOutlets
from feedsvc.extract.tree import BLOCK_TAGS, SKIP_TAGS, class_id, weighted_len
from feedsvc.core.models import Timestamp
from feedsvc.parsers.dates import parse_near
from feedsvc.parsers.text import shorten, squash, strip_more_link

_CLOCK = r"(?:\s*\d{1,2}[:：]\d{2}(?::\d{2})?)?"
# A date as list items write it; month-day alone only where nothing but
# brackets surround it (2-1 in a title is a score).
ITEM_DATE = re.compile(
    r"(?:19|20)\d\d\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?" + _CLOCK
    + r"|(?<!\d)\d{1,2}\s*月\s*\d{1,2}\s*日" + _CLOCK
    + r"|(?<![\d.:/-])(?:0?[1-9]|1[0-2])[-/](?:[0-2]?\d|3[01])(?![\d/-])" + _CLOCK
    + r"|(?:今天|昨天|前天)\s*\d{1,2}[:：]\d{2}|\d+\s*(?:秒|分钟|分鐘|小时|小時|天|周|个月|個月)前|刚刚"
)
_TRAILING_DATE = re.compile(r"[\s(（\[【]*(?:" + ITEM_DATE.pattern + r")[\s)）\]】]*$")
_LEADING_DATE = re.compile(r"^\s*[(（\[【]\s*(?:" + ITEM_DATE.pattern + r")\s*[)）\]】]\s*")
_DATE_ONLY = re.compile(r"[\s(（\[【]*(?:" + ITEM_DATE.pattern + r")[\s)）\]】]*")
# Badges and durations inside a link that are not its title.
_BADGE = re.compile(
    r"^[\s(（\[【]*(?:图|組?图|组图|图文|多图|视频|視頻|音频|独家|原创|热|新|荐|顶|置顶|hot|new|top|收听|播放|直播)?"
    r"[\s)）\]】]*(?:\d{1,2}:\d\d(?::\d\d)?)?[\s)）\]】]*$",
    re.I,
)
_BULLET = re.compile(r"^[\s·•●○■□▪▸►>》]+")
_LEADING_BADGE = re.compile(r"^\s*[\[【(（](?:图|组图|图文|多图|视频|音频|独家|原创|专题|直播|热|新|荐|顶)[\]】)）]\s*")
_DECOR = re.compile(r"^[\s\u3000\xa0·•⋅|｜/\-—:：,，、()（）\[\]【】]+|[\s\u3000\xa0·•⋅|｜/\-—:：,，、()（）\[\]【】]+$")
_SOURCE_CLASS = re.compile(r"(?:^|[\s_-])(?:source|src|from|media|origin|laiyuan|provider|publisher|site-?name|author"
                           r"|writer|zuozhe|ly)(?:$|[\s_-])")
_SOURCE_LABEL = re.compile(r"(?:来源|來源|稿源|来自|出处|source)\s*[:：]\s*(?P<name>[^\s|｜/,，;；]+)", re.I)
_NOT_NAME = re.compile(r"^[\d\s.,:]+$|\d+\s*(?:评论|阅读|浏览|次|条|人|赞|图)|[，。！？；!?;]"
                       r"|^(?:评论|阅读|浏览|分享|收藏|举报|点赞|相关|详细|更多|查看|标签|关键词|专题|广告)")
_SUMMARY_MIN = 30  # weighted: fifteen ideographs
_DATE_LINE_REST = 32  # weighted: what may sit beside a date on its line (an outlet's name)


@dataclass
class Piece:
    text: str
    holder: object  # the element whose text or tail this is
    link: object | None  # the <a> around it
    line: int


@dataclass
class ItemDetails:
    title: str | None = None
    summary: str | None = None
    outlet: str | None = None
    published: Timestamp | None = None


def pieces_of(root) -> list[Piece]:
    """Every text node under `root` with its holder, link and line number."""
    out: list[Piece] = []
    line = 0
    stack = [(root, None, False)]
    while stack:
        el, link, closing = stack.pop()
        tag = el.tag.lower() if isinstance(el.tag, str) else None
        if closing:
            if tag in BLOCK_TAGS or tag == "br":
                line += 1
            if el is not root and el.tail and el.tail.strip():
                out.append(Piece(el.tail, el.getparent(), link, line))
            continue
        if tag is None or tag in SKIP_TAGS:
            if el is not root and el.tail and el.tail.strip():
                out.append(Piece(el.tail, el.getparent(), link, line))
            continue
        if tag in BLOCK_TAGS or tag == "br":
            line += 1
        inner = el if tag == "a" else link
        if el.text and el.text.strip():
            out.append(Piece(el.text, el, inner, line))
        stack.append((el, link, True))
        for child in reversed(el):
            stack.append((child, inner, False))
    return out


def _lines(pieces: list[Piece]) -> list[list[Piece]]:
    lines: dict[int, list[Piece]] = {}
    for piece in pieces:
        lines.setdefault(piece.line, []).append(piece)
    return list(lines.values())


def split_title(a) -> tuple[str, str | None]:
    """(the title a link shows, a date glued to it). The title is the link's
    first line that is not a badge, a duration or a date; a date written at
    its end (…一人千面？2024-05-15) or in brackets at its start is cut off."""
    lines = []
    for line in _lines(pieces_of(a)):
        text = squash("".join(p.text for p in line if not _BADGE.match(p.text)))
        text = _LEADING_BADGE.sub("", _BULLET.sub("", text))
        if text and not _BADGE.match(text):
            lines.append(text)
    title = next((t for t in lines if weighted_len(t) >= 8), lines[0] if lines else "")
    whole = squash(a.get("title") or "")
    cut = re.sub(r"\s*(?:\.{2,}|…+)$", "", title)
    if not title or (cut != title and len(whole) > len(cut) and whole.startswith(cut)):
        title = whole  # the link shows its title cut short (…); the title attribute has it whole
    # A card is one link around its picture, title and a date line of its own.
    glued = next((ITEM_DATE.search(t).group(0) for t in lines if t != title and _DATE_ONLY.fullmatch(t)), None)
    for pattern in (_TRAILING_DATE, _LEADING_DATE):
        match = pattern.search(title)
        if match and weighted_len(title) - weighted_len(match.group(0)) >= 8:
            glued = glued or ITEM_DATE.search(match.group(0)).group(0)
            title = squash(title[: match.start()] + title[match.end():])
    return title, glued


def link_title(a) -> str:
    return split_title(a)[0]


def _segment(a, siblings: list) -> list[Piece]:
    """The pieces of a link's own stretch of a <br>/inline list: its line,
    cut at the neighbouring links, with the date before or after as the list
    writes it."""
    parent = a.getparent()
    pieces = pieces_of(parent)
    owner = {id(p): p.link for p in pieces}
    mine = [i for i, p in enumerate(pieces) if p.link is a]
    if not mine:
        return []
    line = pieces[mine[0]].line
    row = [p for p in pieces if p.line == line]
    marks = [i for i, p in enumerate(row) if p.link in siblings]
    firsts = {}
    for i in marks:
        firsts.setdefault(row[i].link, i)
    order = sorted(set(firsts.values()))
    lasts = {}
    for i in marks:
        lasts[row[i].link] = i
    start = firsts[a]
    before = row[: order[0]] if order else []
    dated_before = any(ITEM_DATE.search(p.text) for p in before if owner[id(p)] is None)
    if dated_before:
        previous = max((lasts[x] for x in lasts if lasts[x] < start), default=-1)
        return row[previous + 1: lasts[a] + 1]
    following = min((i for i in order if i > start), default=len(row))
    return row[(0 if start == order[0] else start): following]


def _name(text: str, known: KnownOutlets) -> str | None:
    value = _DECOR.sub("", squash(text))
    if not value or known.is_placeholder(value) or _NOT_NAME.search(value):
        return None
    return value if 2 <= len(value) <= 20 else None


def read_item(item, a, siblings: list | None, zone: tzinfo, around: datetime | None, now: datetime | None,
              known: KnownOutlets) -> ItemDetails:
    """Title, date, outlet and summary of one item (`item` None: a line of
    an inline list, with `siblings` the other links of that list)."""
    title, glued = split_title(a)
    pieces = pieces_of(item) if item is not None else _segment(a, siblings or [a])
    own = [p for p in pieces if p.link is not a]
    details = ItemDetails(title=title)
    date_line = None
    for line in _lines(own):
        plain = squash(" ".join(p.text for p in line if p.link is None or ITEM_DATE.fullmatch(p.text.strip())))
        match = ITEM_DATE.search(plain)
        if not match:
            continue
        rest = plain[: match.start()] + plain[match.end():]
        if weighted_len(_DECOR.sub("", rest)) > _DATE_LINE_REST or re.search(r"[，。！？；]", rest):
            continue  # a summary that mentions a day
        details.published = parse_near(match.group(0), zone, around, now)
        if details.published:
            date_line = line[0].line
            rest_name = _name(rest, known)
            if rest_name:
                details.outlet = rest_name
            break
    if details.published is None and glued:
        details.published = parse_near(glued, zone, around, now)
    details.outlet = _labelled_outlet(own, known) or _class_outlet(own, item, known) or details.outlet \
        or _known_outlet(own, known)
    summaries = [squash(" ".join(p.text for p in line)) for line in _lines(own) if line[0].line != date_line]
    summaries = [s for s in summaries if weighted_len(s) >= _SUMMARY_MIN and s != title]
    if summaries:
        details.summary = shorten(strip_more_link(max(summaries, key=weighted_len)))
    return details


def _labelled_outlet(pieces: list[Piece], known: KnownOutlets) -> str | None:
    for line in _lines(pieces):
        match = _SOURCE_LABEL.search(squash(" ".join(p.text for p in line)))
        if match and _name(match.group("name"), known):
            return _name(match.group("name"), known)
    return None


def _class_outlet(pieces: list[Piece], item, known: KnownOutlets) -> str | None:
    for piece in pieces:
        el, hops = piece.holder, 0
        while el is not None and hops < 3 and el is not item:
            if _SOURCE_CLASS.search(class_id(el)):
                name = _name(piece.text, known)
                if name:
                    return name
                break
            el, hops = el.getparent(), hops + 1
    return None


def _known_outlet(pieces: list[Piece], known: KnownOutlets) -> str | None:
    for piece in pieces:
        name = _name(piece.text, known)
        if name and known.is_outlet(name):
            return name
    return None
