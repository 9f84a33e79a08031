"""Publication times as Chinese and international pages write them: the
one date reader, for selector recipes, feeds and the extractor alike.

A page's time without a zone is local to the recipe's zone. A page that
gives only a date keeps day precision, so nobody later mistakes the
00:00 we show for a real time. Forms without a year (`10月23日`,
`10-23 07:55`) or relative ones (`昨天 07:55`, `3小时前`) are read against
`now` in the recipe's zone; a month-day later than today is last year's.

Whatever the text says, reading it never raises: a time past what a
datetime holds comes out as feedsvc.core.times.FAR_PAST or FAR_FUTURE, and the
store's door (feedsvc.core.times.plausible) turns away those and every other
time outside the plausible window. A zone's old local mean time is never
attached: its modern whole-minute offset is."""

from __future__ import annotations

import calendar
import re
import time as clock_time
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

from feedsvc.core.models import Timestamp
from feedsvc.core.times import FAR_FUTURE, FAR_PAST, in_zone, shifted

_TIME = r"(?:[\sT]*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
_NUMERIC = re.compile(
    r"(?P<y>(?:19|20)\d\d)\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?" + _TIME
)
_MONTH_DAY = re.compile(r"(?<![\d.])(?P<m>\d{1,2})\s*(?:月\s*(?P<d1>\d{1,2})\s*日|[-/](?P<d2>\d{1,2})(?![\d/-]))" + _TIME)
_DAY_WORD = re.compile(r"(?P<word>今天|昨天|前天)\s*" + _TIME)
_AGO = re.compile(r"(?P<n>\d+)\s*(?P<unit>秒|分钟|小时|天|周|个月)前")
_JUST_NOW = re.compile(r"刚刚|刚才")
_ISO_HINT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
_YEAR = re.compile(r"(?:19|20)\d\d")
_LATIN = re.compile(r"[A-Za-z]{3}")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                        "nov", "dec"), 1)}
_ENGLISH = re.compile(
    r"(?:(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>(?:19|20)\d\d)"
    r"|(?P<d2>\d{1,2})\s+(?P<mon2>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?P<y2>(?:19|20)\d\d))"
    r"(?:,?\s+(?:at\s+)?(?P<H>\d{1,2}):(?P<M>\d\d)\s*(?P<ampm>[ap]\.?m\.?)?)?",
    re.I,
)
# ISO 8601's basic format, as some publishers write it: 20180619T055000+0900.
_BASIC_ISO = re.compile(r"^((?:19|20)\d\d)(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)?(Z|[+-]\d\d:?\d\d)?$")
# Dates in article URLs: /2019-10/23/, /20191023/, /201910/23/, /2019/10/23/.
_URL_DATE = re.compile(r"/((?:19|20)\d\d)[-/_]?(0[1-9]|1[0-2])[-/_]?/?(0[1-9]|[12]\d|3[01])(?:/|[-_.]|\d{2,})")
# A plausible date somewhere in a line: a cheap filter before reading it.
DATE_HINT = re.compile(
    r"(?:19|20)\d\d\s*[-/.年]\s*\d{1,2}|\d{1,2}\s*月\s*\d{1,2}\s*日|\d+\s*(?:秒|分[钟鐘]|小[时時]|天|[周週]|[个個]月)前|[昨前今]天\s*\d"
    r"|刚刚|刚才"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s+(?:19|20)\d\d"
    r"|\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?:19|20)\d\d",
    re.I,
)
# Relative times as traditional-script pages write them (8 小時前).
_TRADITIONAL = str.maketrans({"時": "时", "鐘": "钟", "個": "个", "週": "周"})
_DAYS_BACK = {"今天": 0, "昨天": 1, "前天": 2}
_AGO_UNITS = {"秒": timedelta(seconds=1), "分钟": timedelta(minutes=1), "小时": timedelta(hours=1),
              "天": timedelta(days=1), "周": timedelta(weeks=1), "个月": timedelta(days=30)}


def _from_iso(text: str, zone: tzinfo) -> Timestamp | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = in_zone(value, zone)
    return Timestamp(value, "second")


def _at(day: date, match: re.Match, zone: tzinfo) -> Timestamp | None:
    """`day` with the match's time of day if it has one, else day precision."""
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None and k in ("H", "M", "S")}
    try:
        if "H" not in parts:
            return Timestamp(in_zone(datetime.combine(day, time()), zone), "day")
        clock = time(parts["H"], parts["M"], parts.get("S", 0))
    except ValueError:  # 25:61 and friends
        return None
    return Timestamp(in_zone(datetime.combine(day, clock), zone), "second")


def _from_numeric(match: re.Match, zone: tzinfo) -> Timestamp | None:
    try:
        day = date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:  # 2019-02-30 and friends
        return None
    return _at(day, match, zone)


def _from_month_day(match: re.Match, zone: tzinfo, now: datetime) -> Timestamp | None:
    month, day_of_month = int(match["m"]), int(match["d1"] or match["d2"])
    today = now.astimezone(zone).date()
    for year in (today.year, today.year - 1):
        try:
            day = date(year, month, day_of_month)
        except ValueError:  # 02-29 outside a leap year, 13-01
            continue
        if day <= today:
            return _at(day, match, zone)
    return None


def _from_words(text: str, zone: tzinfo, now: datetime) -> Timestamp | None:
    local_now = now.astimezone(zone)
    match = _DAY_WORD.search(text)
    if match:
        return _at(local_now.date() - timedelta(days=_DAYS_BACK[match["word"]]), match, zone)
    match = _AGO.search(text)
    if match:
        unit = match["unit"]
        value = _ago(local_now, match["n"], _AGO_UNITS[unit])
        if value is FAR_PAST:
            return Timestamp(value, "day" if unit in ("天", "周", "个月") else "second")
        if unit in ("天", "周", "个月"):  # "3 days ago" names a day, not a moment
            return Timestamp(in_zone(datetime.combine(value.date(), time()), zone), "day")
        return Timestamp(in_zone(value.replace(tzinfo=None, microsecond=0), zone), "second")
    if _JUST_NOW.search(text):
        return Timestamp(local_now.replace(microsecond=0), "second")
    return None


def _ago(now: datetime, count: str, unit: timedelta) -> datetime:
    if len(count) > 9:  # more units than any datetime reaches back
        return FAR_PAST
    try:
        return shifted(now, -int(count) * unit)
    except OverflowError:  # the product is past what a timedelta holds
        return FAR_PAST


def _from_rfc2822(text: str, zone: tzinfo) -> Timestamp | None:
    try:
        value = parsedate_to_datetime(text)  # RFC 2822, as in RSS
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None:
        value = in_zone(value, zone)
    return Timestamp(value, "second")


def from_utc_struct(parsed: clock_time.struct_time) -> Timestamp:
    """A UTC struct_time, as feedparser gives, whatever its year."""
    try:
        return Timestamp(datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc), "second")
    except (OverflowError, ValueError, OSError):
        return Timestamp(FAR_PAST if parsed.tm_year < 1970 else FAR_FUTURE, "second")


def _from_english(match: re.Match, zone: tzinfo) -> Timestamp | None:
    """Nov. 27, 2013 / 27 November 2013, with a 12- or 24-hour clock."""
    month = _MONTHS[(match["mon"] or match["mon2"]).lower()[:3]]
    try:
        day = date(int(match["y"] or match["y2"]), month, int(match["d"] or match["d2"]))
    except ValueError:
        return None
    if match["H"] is None:
        return Timestamp(in_zone(datetime.combine(day, time()), zone), "day")
    hour = int(match["H"]) % 24
    ampm = (match["ampm"] or "").lower()
    if ampm.startswith("p") and hour < 12:
        hour += 12
    elif ampm.startswith("a") and hour == 12:
        hour = 0
    return Timestamp(in_zone(datetime.combine(day, time(hour, int(match["M"]) % 60)), zone), "second")


def _from_basic_iso(text: str, zone: tzinfo) -> Timestamp | None:
    match = _BASIC_ISO.match(text)
    if not match:
        return None
    y, m, d, hh, mm, ss, tz = match.groups()
    tz = "+00:00" if tz == "Z" else (tz[:3] + ":" + tz[-2:] if tz else "")
    return _from_iso(f"{y}-{m}-{d}T{hh}:{mm}:{ss or '00'}{tz}", zone)


def date_in_url(url: str | None, zone: tzinfo) -> Timestamp | None:
    """The day a URL's path names, the last resort for a page that shows no
    date near its headline (e-paper pages, old portals)."""
    match = _URL_DATE.search(url or "")
    if not match:
        return None
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
    return Timestamp(in_zone(datetime.combine(day, time()), zone), "day")


def looks_dated(text: str) -> bool:
    return bool(DATE_HINT.search(text))


def parse_timestamp(text: str | None, zone: tzinfo, now: datetime | None = None) -> Timestamp | None:
    """The first date or date-time in `text`, or None if there is none.
    `now` (default: the current time) anchors forms without a year and
    relative ones. Day-only forms keep day precision, at 00:00 in `zone`."""
    if not text or not text.strip():
        return None
    text = text.strip().translate(_TRADITIONAL)
    if _ISO_HINT.match(text):
        found = _from_iso(text, zone)
        if found:
            return found
    match = _NUMERIC.search(text)
    if match:
        return _from_numeric(match, zone)
    now = now or datetime.now(timezone.utc)
    if _YEAR.search(text) or _LATIN.search(text):
        # Only a text naming a year (or a month in letters) goes to the
        # RFC 2822 reader: without one, its lenient parser makes one up.
        english = _ENGLISH.search(text)
        if english and english["ampm"]:  # that reader would take 3:53 PM for 03:53
            return _from_english(english, zone)
        found = _from_rfc2822(text, zone) or _from_basic_iso(text, zone)
        if found:
            return found
        if english:
            return _from_english(english, zone)
    found = _from_words(text, zone, now)
    if found:
        return found
    match = _MONTH_DAY.search(text)
    return _from_month_day(match, zone, now) if match else None


def utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


_NEAR_AFTER = timedelta(days=92)  # how long after an article a related item may still be dated


def parse_near(text: str | None, zone: tzinfo, around: datetime | None, now: datetime | None = None) -> Timestamp | None:
    """A date written beside a link on a page dated `around` (an item of a
    related list). A full date reads as `parse_timestamp` reads it. A month
    and day without a year take `around`'s year, and the year before only
    when that would put the item more than about three months after
    `around`: lists are refreshed after the article is written, so an item
    dated a little after it is normal. Relative phrases (今天 08:00,
    3小时前) are read against `now`."""
    if not text or not text.strip():
        return None
    text = text.strip().translate(_TRADITIONAL)
    if around is None or _NUMERIC.search(text):
        return parse_timestamp(text, zone, now)
    now = now or datetime.now(timezone.utc)
    found = _from_words(text, zone, now)
    if found:
        return found
    match = _MONTH_DAY.search(text)
    if not match:
        return None
    month, day_of_month = int(match["m"]), int(match["d1"] or match["d2"])
    anchor = around.astimezone(zone).date() if around.tzinfo else around.date()
    for year in (anchor.year, anchor.year - 1):
        try:
            day = date(year, month, day_of_month)
        except ValueError:  # 02-29 outside a leap year, 13-01
            continue
        if day - anchor <= _NEAR_AFTER:
            return _at(day, match, zone)
    return None
