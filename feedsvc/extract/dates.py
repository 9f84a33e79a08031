"""Publication times in the forms pages write them, beyond what
feedsvc.parsers.dates reads: dates without a year (10月23日), relative
times (3小时前, 昨天 07:55) and English month names (Nov. 27, 2013).

Everything first goes through `parse_timestamp`, so a full date means the
same here as in recipe parsing; the extra forms are only tried after it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

from feedsvc.models import Timestamp
from feedsvc.parsers.dates import parse_timestamp

# A plausible date somewhere in a line: cheap pre-filter before parsing.
DATE_HINT = re.compile(
    r"(?:19|20)\d\d\s*[-/.年]\s*\d{1,2}|\d{1,2}\s*月\s*\d{1,2}\s*日|\d+\s*(?:分钟|小时|天)前|[昨前今]天\s*\d|刚刚"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s+(?:19|20)\d\d"
    r"|\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?:19|20)\d\d",
    re.I,
)
_CLOCK = r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
_NO_YEAR = re.compile(r"(?<![\d年])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日" + _CLOCK)
_RELATIVE = re.compile(r"(?P<n>\d+)\s*(?P<unit>分钟|小时|天)前")
_NAMED_DAY = re.compile(r"(?P<day>今天|昨天|前天)" + _CLOCK)
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                        "nov", "dec"), 1)}
_ENGLISH = re.compile(
    r"(?:(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>(?:19|20)\d\d)"
    r"|(?P<d2>\d{1,2})\s+(?P<mon2>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?P<y2>(?:19|20)\d\d))"
    r"(?:,?\s+(?:at\s+)?(?P<H>\d{1,2}):(?P<M>\d\d)\s*(?P<ampm>[ap]\.?m\.?)?)?",
    re.I,
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_DAYS_BACK = {"今天": 0, "昨天": 1, "前天": 2}
# ISO 8601's basic format, as some publishers write it: 20180619T055000+0900.
_BASIC_ISO = re.compile(r"^((?:19|20)\d\d)(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)?(Z|[+-]\d\d:?\d\d)?$")
# Dates in article URLs: /2019-10/23/, /20191023/, /201910/23/, /2019/10/23/.
_URL_DATE = re.compile(r"/((?:19|20)\d\d)[-/_]?(0[1-9]|1[0-2])[-/_]?/?(0[1-9]|[12]\d|3[01])(?:/|[-_.]|\d{2,})")


def _with_clock(day: datetime, match: re.Match) -> Timestamp | None:
    if match.group("H") is None:
        return Timestamp(day.replace(hour=0, minute=0, second=0, microsecond=0), "day")
    try:
        value = day.replace(hour=int(match.group("H")), minute=int(match.group("M")),
                            second=int(match.group("S") or 0), microsecond=0)
    except ValueError:
        return None
    return Timestamp(value, "second")


def _no_year(match: re.Match, zone: tzinfo, now: datetime) -> Timestamp | None:
    # A listing shows "10月23日" for this year; a date later than today
    # can only be last year's (a December item read in January).
    local_now = now.astimezone(zone)
    try:
        day = datetime(local_now.year, int(match.group("m")), int(match.group("d")), tzinfo=zone)
    except ValueError:
        return None
    if day.date() > local_now.date():
        try:
            day = day.replace(year=day.year - 1)
        except ValueError:  # 2月29日 of a leap year
            return None
    return _with_clock(day, match)


def _relative(text: str, zone: tzinfo, now: datetime) -> Timestamp | None:
    local_now = now.astimezone(zone)
    match = _RELATIVE.search(text)
    if match:
        unit = {"分钟": "minutes", "小时": "hours", "天": "days"}[match.group("unit")]
        value = local_now - timedelta(**{unit: int(match.group("n"))})
        return Timestamp(value.replace(microsecond=0), "day" if unit == "days" else "second")
    match = _NAMED_DAY.search(text)
    if match:
        return _with_clock(local_now - timedelta(days=_DAYS_BACK[match.group("day")]), match)
    if "刚刚" in text:
        return Timestamp(local_now.replace(microsecond=0), "second")
    return None


def _english(match: re.Match, zone: tzinfo) -> Timestamp | None:
    month = _MONTHS[(match.group("mon") or match.group("mon2")).lower()[:3]]
    day, year = int(match.group("d") or match.group("d2")), int(match.group("y") or match.group("y2"))
    try:
        value = datetime(year, month, day, tzinfo=zone)
    except ValueError:
        return None
    if match.group("H") is None:
        return Timestamp(value, "day")
    hour = int(match.group("H")) % 24
    ampm = (match.group("ampm") or "").lower()
    if ampm.startswith("p") and hour < 12:
        hour += 12
    elif ampm.startswith("a") and hour == 12:
        hour = 0
    return Timestamp(value.replace(hour=hour, minute=int(match.group("M")) % 60), "second")


def _basic_iso(text: str, zone: tzinfo) -> Timestamp | None:
    match = _BASIC_ISO.match(text.strip())
    if not match:
        return None
    y, m, d, hh, mm, ss, tz = match.groups()
    tz = "+00:00" if tz == "Z" else (tz[:3] + ":" + tz[-2:] if tz else "")
    return parse_timestamp(f"{y}-{m}-{d}T{hh}:{mm}:{ss or '00'}{tz}", zone)


def date_in_url(url: str | None, zone: tzinfo) -> Timestamp | None:
    """The day a URL's path names, the last resort for a page that shows no
    date near its headline (e-paper pages, old portals)."""
    match = _URL_DATE.search(url or "")
    if not match:
        return None
    try:
        return Timestamp(datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)), tzinfo=zone), "day")
    except ValueError:
        return None


def parse_when(text: str | None, zone: tzinfo, now: datetime | None = None) -> Timestamp | None:
    """The first publication time in `text`, or None. `now` anchors dates
    without a year and relative times (default: the current time)."""
    if not text or not text.strip():
        return None
    now = now or datetime.now(zone)
    if not _YEAR.search(text):
        # Without a year, email's lenient parser would make one up.
        match = _NO_YEAR.search(text)
        return _no_year(match, zone, now) if match else _relative(text, zone, now)
    english = _ENGLISH.search(text)
    if english and english.group("ampm"):  # the same parser would read 3:53 PM as 03:53
        return _english(english, zone)
    found = parse_timestamp(text, zone) or _basic_iso(text, zone)
    if found:
        return found
    return _english(english, zone) if english else None


def looks_dated(text: str) -> bool:
    return bool(DATE_HINT.search(text))
