"""The one date reader: every phrase the recipe parsers or the extractor
read before they shared one reader, with the one value it reads now.
Day-only phrases keep day precision at 00:00 in the source's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from feedsvc.parsers.dates import looks_dated, parse_timestamp

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2019, 10, 24, 10, 0, tzinfo=SHANGHAI)

TABLE = [
    # full dates and times
    ("2019-10-23 07:55:10", "2019-10-23T07:55:10+08:00", "second"),
    ("2019-10-23", "2019-10-23T00:00:00+08:00", "day"),
    ("2019-1-05", "2019-01-05T00:00:00+08:00", "day"),
    ("发布时间：2019-9-5 9:38:01", "2019-09-05T09:38:01+08:00", "second"),
    ("发布时间：2019/10/23 7:05", "2019-10-23T07:05:00+08:00", "second"),
    ("2019.10.23 07:55", "2019-10-23T07:55:00+08:00", "second"),
    ("2019年10月23日 07:55", "2019-10-23T07:55:00+08:00", "second"),
    ("2019年10月23日", "2019-10-23T00:00:00+08:00", "day"),
    ("2019年10月23日 07时55分", "2019-10-23T07:55:00+08:00", "second"),
    ("[2019-10-22]", "2019-10-22T00:00:00+08:00", "day"),
    # ISO 8601, RFC 2822, English
    ("2019-10-23T07:55:10+02:00", "2019-10-23T07:55:10+02:00", "second"),
    ("2019-10-23T07:55:10Z", "2019-10-23T07:55:10+00:00", "second"),
    ("2019-10-23T07:55:10", "2019-10-23T07:55:10+08:00", "second"),
    ("20180619T055000+0900", "2018-06-19T05:50:00+09:00", "second"),
    ("Wed, 23 Oct 2019 07:55:10 GMT", "2019-10-23T07:55:10+00:00", "second"),
    ("Nov. 27, 2013", "2013-11-27T00:00:00+08:00", "day"),
    ("27 November 2013", "2013-11-27T00:00:00+08:00", "day"),
    ("November 2, 2023 3:53 PM", "2023-11-02T15:53:00+08:00", "second"),
    ("Updated 3:53 PM, November 2, 2023", "2023-11-02T00:00:00+08:00", "day"),
    # without a year: this year's, or last year's when later than today
    ("10月23日", "2019-10-23T00:00:00+08:00", "day"),
    ("10月23日 07:55", "2019-10-23T07:55:00+08:00", "second"),
    ("12月30日", "2018-12-30T00:00:00+08:00", "day"),
    ("10-23 07:55", "2019-10-23T07:55:00+08:00", "second"),
    ("(10-22)", "2019-10-22T00:00:00+08:00", "day"),
    ("12-31 08:00", "2018-12-31T08:00:00+08:00", "second"),
    # relative to now, in the zone: whole days at 00:00
    ("今天 09:30", "2019-10-24T09:30:00+08:00", "second"),
    ("昨天 07:55", "2019-10-23T07:55:00+08:00", "second"),
    ("前天", "2019-10-22T00:00:00+08:00", "day"),
    ("刚刚", "2019-10-24T10:00:00+08:00", "second"),
    ("刚才", "2019-10-24T10:00:00+08:00", "second"),
    ("30秒前", "2019-10-24T09:59:30+08:00", "second"),
    ("25分钟前", "2019-10-24T09:35:00+08:00", "second"),
    ("3小时前", "2019-10-24T07:00:00+08:00", "second"),
    ("8 小時前", "2019-10-24T02:00:00+08:00", "second"),
    ("3天前", "2019-10-21T00:00:00+08:00", "day"),
    ("2周前", "2019-10-10T00:00:00+08:00", "day"),
    ("1个月前", "2019-09-24T00:00:00+08:00", "day"),
]


@pytest.mark.parametrize("text, expected, precision", TABLE)
def test_every_phrase_reads_one_way(text, expected, precision):
    found = parse_timestamp(text, SHANGHAI, NOW)
    assert found is not None, text
    assert (found.value.isoformat(), found.precision) == (expected, precision)


@pytest.mark.parametrize("text", ["", "no date here", "责任编辑：杨凡", "2019-02-30", "13-45", "25:99", "1.5"])
def test_no_date(text):
    assert parse_timestamp(text, SHANGHAI, NOW) is None


@pytest.mark.parametrize("text", [t for t, _, _ in TABLE if not t.startswith(("10-23", "(10-22)", "12-31", "20180619",
                                                                              "2019-10-23T", "Wed", "今天", "昨天",
                                                                              "前天", "[2019", "2019.", "2019/"))])
def test_the_extractor_sees_each_phrase_as_a_date(text):
    """The extractor reads only lines that look dated; every phrase it read
    before the readers merged still does."""
    assert looks_dated(text), text
