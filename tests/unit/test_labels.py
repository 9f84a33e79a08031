"""The one labelled-line splitter: selector recipes and the extractor
split 来源/作者/时间/责任编辑 lines the same way."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from feedsvc.extract import extract_page
from feedsvc.parsers import parse_article
from feedsvc.parsers.labels import author_of, editors_of, outlet_of, own_part, segments
from feedsvc.sources.recipes import ArticleSelectors

ZONE = ZoneInfo("Asia/Shanghai")

# (line, outlet, author, time as the page means it)
LINES = [
    ("来源:济南日报 作者:王小明 2024-05-01 10:00", "济南日报", "王小明", "2024-05-01T10:00:00+08:00"),
    ("来源：大众日报　记者：李红　发布时间：2024年05月02日 08:30", "大众日报", "李红", "2024-05-02T08:30:00+08:00"),
    ("稿源: 齐鲁晚报 通讯员: 赵强 时间: 2024-05-03 09:15:00", "齐鲁晚报", "赵强", "2024-05-03T09:15:00+08:00"),
    ("2024-05-04 07:00 来自：中国山东网 撰文：孙丽", "中国山东网", "孙丽", "2024-05-04T07:00:00+08:00"),
    ("[来源:新华社] [作者:周静] [日期:2024-05-05]", "新华社", "周静", "2024-05-05T00:00:00+08:00"),
]


@pytest.mark.parametrize(("line", "outlet", "author", "when"), LINES)
def test_each_field_takes_its_own_part_of_a_shared_line(line, outlet, author, when):
    assert outlet_of(line) == outlet
    assert author_of(line) == author
    page = (f"<html><body><h1>省政府召开常务会议研究部署重点工作</h1><div class='info'>{line}</div>"
            f"<div class='body'><p>正文第一段，足够长的一段文字用来做摘要，说明这件事情的来龙去脉和各方反应。</p></div></body></html>")
    selectors = ArticleSelectors(title="h1", outlet=".info", author=".info", published=".info", body=".body")
    article = parse_article(page.encode(), "https://example.org/a.html", selectors, zone=ZONE)
    assert (article.outlet, article.author) == (outlet, author)
    assert article.published.value == datetime.fromisoformat(when)
    extracted = extract_page(page.encode(), "https://example.org/a.html", zone=ZONE)
    assert (extracted.outlet, extracted.author) == (outlet, author)  # the extractor reads it the same way


def test_an_unlabelled_value_is_the_whole_text():
    assert outlet_of("大众日报") == "大众日报" and author_of("刘一颖") == "刘一颖"
    assert own_part("2019-10-23 07:55:10", "published") == "2019-10-23 07:55:10"


def test_a_line_labelling_only_other_fields_gives_nothing_of_its_own():
    assert outlet_of("作者:王小明 时间:2024-05-01") is None
    assert author_of("来源:济南日报 2024-05-01 10:00") is None
    assert editors_of("[责任编辑:杨凡 王五]") == ("杨凡", "王五")


@pytest.mark.parametrize("value", ["本报综合记者从有关部门获悉这项工作已经全面展开各地正在按照统一部署有序推进", "：", "了"])
def test_what_cannot_be_an_outlet_is_none(value):
    assert outlet_of(f"来源：{value}") is None


def test_time_labels_are_not_the_tail_of_another_word():
    assert [s.kind for s in segments("成文日期：2020-01-01 发布日期：2020-02-01")] == ["time"]
    assert own_part("成文日期：2020-01-01 发布日期：2020-02-01", "published") == "2020-02-01"
