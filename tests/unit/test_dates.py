"""Every time form the issue names, read against a fixed `now`."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from feedsvc.parsers.dates import parse_timestamp
from feedsvc.parsers.dom import time_text

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 11, 5, 12, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text, expected, precision", [
    ("2019-10-23 07:55:10", "2019-10-23T07:55:10+08:00", "second"),
    ("2019-10-23", "2019-10-23T00:00:00+08:00", "day"),
    ("2019年10月23日 07:55", "2019-10-23T07:55:00+08:00", "second"),
    ("2019年10月23日", "2019-10-23T00:00:00+08:00", "day"),
    ("发布时间：2019/10/23 7:05", "2019-10-23T07:05:00+08:00", "second"),
    ("10月23日", "2024-10-23T00:00:00+08:00", "day"),
    ("10-23 07:55", "2024-10-23T07:55:00+08:00", "second"),
    ("12-31 08:00", "2023-12-31T08:00:00+08:00", "second"),  # later than today: last year's
    ("昨天 07:55", "2024-11-04T07:55:00+08:00", "second"),
    ("前天", "2024-11-03T00:00:00+08:00", "day"),
    ("今天 09:30", "2024-11-05T09:30:00+08:00", "second"),
    ("3小时前", "2024-11-05T09:00:00+08:00", "second"),
    ("25分钟前", "2024-11-05T11:35:00+08:00", "second"),
    ("2天前", "2024-11-03T00:00:00+08:00", "day"),
    ("2019-10-23T07:55:10+02:00", "2019-10-23T07:55:10+02:00", "second"),
    ("2019-10-23T07:55:10Z", "2019-10-23T07:55:10+00:00", "second"),
    ("2019-10-23T07:55:10", "2019-10-23T07:55:10+08:00", "second"),
    ("Wed, 23 Oct 2019 07:55:10 GMT", "2019-10-23T07:55:10+00:00", "second"),
])
def test_time_forms(text, expected, precision):
    found = parse_timestamp(text, SHANGHAI, now=NOW)
    assert found is not None, text
    assert found.value.isoformat() == expected and found.precision == precision


def test_the_recipe_zone_applies_only_where_the_page_gives_none():
    new_york = ZoneInfo("America/New_York")
    assert parse_timestamp("2019-10-23 07:55", new_york).value.utcoffset().total_seconds() == -4 * 3600
    assert parse_timestamp("2019-10-23T07:55:00+08:00", new_york).value.utcoffset().total_seconds() == 8 * 3600


def test_relative_forms_use_the_zone_for_today():
    late_utc = datetime(2024, 11, 4, 20, 0, tzinfo=timezone.utc)  # already the 5th in Shanghai
    assert parse_timestamp("昨天 07:55", SHANGHAI, now=late_utc).value.date().isoformat() == "2024-11-04"


@pytest.mark.parametrize("text", ["", "责任编辑：杨凡", "2019-02-30", "13-45", "25:99", "1.5"])
def test_no_time(text):
    assert parse_timestamp(text, SHANGHAI, now=NOW) is None


def test_time_element_datetime_attribute_wins():
    element = lxml.html.fragment_fromstring('<time datetime="2019-10-23T07:55:10+08:00">昨天</time>')
    assert parse_timestamp(time_text(element), SHANGHAI, now=NOW).value.isoformat() == "2019-10-23T07:55:10+08:00"
