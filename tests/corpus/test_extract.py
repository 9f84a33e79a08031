"""Automatic extraction on pages written for the project: one expectation
file per page in tests/corpus/extract_pages/, plus the date forms, label variants
and the two commands."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from feedsvc.extract import extract_listing, extract_page
from feedsvc.extract.analysis import iso
from feedsvc.cli.extract import extract_command, recipe_suggest
from feedsvc.parsers.dates import date_in_url, parse_timestamp
from feedsvc.extract.headline import key, strip_site
from feedsvc.extract.metadata import labelled
from feedsvc.extract.tree import runs_of
from feedsvc.sources.recipes import parse_recipe
from feedsvc.snapshot import SITE_DIR
from tests.support.paths import EXTRACT_PAGES

PAGES = EXTRACT_PAGES
CASES = sorted(PAGES.glob("*.json"))
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2019, 10, 24, 10, 0, tzinfo=SHANGHAI)


def _case(path: Path) -> tuple[dict, bytes, datetime | None]:
    case = json.loads(path.read_text(encoding="utf-8"))
    now = datetime.fromisoformat(case["now"]) if "now" in case else None
    return case, (PAGES / case["page"]).read_bytes(), now


@pytest.mark.parametrize("case_file", [c for c in CASES if '"article"' in c.read_text(encoding="utf-8")],
                         ids=lambda p: p.stem)
def test_article_page(case_file):
    case, data, now = _case(case_file)
    expect = case["expect"]
    page = extract_page(data, case["url"], now=now)
    got = page.as_json()
    for name in ("url", "title", "author", "outlet", "editors", "published"):
        assert got[name] == expect[name], name
    assert page.body_text.startswith(expect["body_starts"])
    assert page.body_text.endswith(expect["body_ends"])
    for banned in expect["body_excludes"]:
        assert banned not in page.body_text and banned not in page.body_html, banned
    for wanted in expect.get("body_html_includes", []):
        assert wanted in page.body_html
    assert page.summary.startswith(expect["summary_starts"])
    if "image" in expect:
        assert page.image == expect["image"]
    if "language" in expect:
        assert page.language == expect["language"]
    if "related" in expect:
        assert got["related"] == expect["related"]
    if "related_titles" in expect:
        assert [e.title for e in page.related] == expect["related_titles"]


@pytest.mark.parametrize("case_file", [c for c in CASES if '"listing"' in c.read_text(encoding="utf-8")],
                         ids=lambda p: p.stem)
def test_listing_page(case_file):
    case, data, now = _case(case_file)
    entries = extract_listing(data, case["url"], now=now)
    got = [{"title": e.title, "link": e.link, "summary": e.summary, "outlet": e.outlet, "date": iso(e.published)}
           for e in entries]
    assert got == case["expect"]["entries"]


def test_gbk_page_is_decoded_without_a_charset_hint():
    data = (PAGES / "gbk-table.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert extract_page(data).title == "我省秋粮收购工作全面展开"


def test_bodies_are_sanitized():
    page = extract_page((PAGES / "jsonld-time.html").read_bytes(), "https://herald.example.com/local/bike-lanes")
    assert "<script" not in page.body_html and "data:image" not in page.body_html
    assert "class=" not in page.body_html


def test_snapshot_listing_is_found_among_navigation():
    data = (SITE_DIR / "shandong/yaowen/index.shtml").read_bytes()
    entries = extract_listing(data, "http://127.0.0.1:9/shandong/yaowen/index.shtml")
    assert len(entries) == 5
    assert entries[0].title == "国际友城合作发展大会结硕果,山东将举办“友城+”等系列活动"
    assert entries[0].link == "https://news.iqilu.com/shandong/yaowen/2019/1023/4371235.shtml"
    assert all(e.published and e.published.precision == "day" for e in entries)
    assert not any("齐鲁网" == e.title for e in entries)


@pytest.mark.parametrize("text, expected", [
    ("2019年10月23日 07:55", "2019-10-23T07:55:00+08:00"),
    ("发布时间：2019-9-5 9:38:01", "2019-09-05T09:38:01+08:00"),
    ("10月23日 07:55", "2019-10-23T07:55:00+08:00"),
    ("10月23日", "2019-10-23"),
    ("12月30日", "2018-12-30"),  # later than today: last year's
    ("3小时前", "2019-10-24T07:00:00+08:00"),
    ("25分钟前", "2019-10-24T09:35:00+08:00"),
    ("昨天 07:55", "2019-10-23T07:55:00+08:00"),
    ("前天", "2019-10-22"),
    ("Nov. 27, 2013", "2013-11-27"),
    ("Updated 3:53 PM, November 2, 2023", "2023-11-02"),
    ("November 2, 2023 3:53 PM", "2023-11-02T15:53:00+08:00"),
    ("20180619T055000+0900", "2018-06-19T05:50:00+09:00"),
    ("2019-10-23T07:55:10Z", "2019-10-23T07:55:10+00:00"),
    ("no date here", None),
])
def test_dates(text, expected):
    assert iso(parse_timestamp(text, SHANGHAI, NOW)) == expected


def test_date_in_url():
    assert iso(date_in_url("https://x.cn/shandong/yaowen/2019/1023/4371235.shtml", SHANGHAI)) == "2019-10-23"
    assert iso(date_in_url("https://x.cn/roll/2018-12-28/doc-ih.shtml", SHANGHAI)) == "2018-12-28"
    assert iso(date_in_url("http://e.cn/xzrb/202202/13/content_1.html", SHANGHAI)) == "2022-02-13"
    assert date_in_url("https://x.cn/a/12345678.html", SHANGHAI) is None


@pytest.mark.parametrize("title, headline", [
    ("江苏多地要求中高风险地区师生暂不返校_中国经济网——国家经济门户", "江苏多地要求中高风险地区师生暂不返校"),
    ("为现代化建设凝聚强大智慧和力量——热烈祝贺会议开幕_某某市人民政府网", "为现代化建设凝聚强大智慧和力量——热烈祝贺会议开幕"),
    ("拿起跨界“指挥棒”她跟学生“较着劲儿”成长--大河网", "拿起跨界“指挥棒”她跟学生“较着劲儿”成长"),
    ("千龙网--汽车--两家车企回应合资传闻 全面合作项目即将展开", "两家车企回应合资传闻 全面合作项目即将展开"),
    ("土豆价格连续三周上涨—新华网", "土豆价格连续三周上涨"),
    ("Fed raises rates again as inflation persists - Reuters", "Fed raises rates again as inflation persists"),
])
def test_site_name_is_stripped_from_title(title, headline):
    assert strip_site(title) == headline


def test_headline_broken_by_br_is_joined_as_the_title_writes_it():
    html = ("<html><head><title>Storm closes schools across the county, Three days of snow expected | Herald</title>"
            "</head><body><h1>Storm closes schools across the county,<br>Three days of snow expected</h1>"
            "<p class='kicker'>Weather</p><div class='story'><p>" + "Schools across the county closed on Monday as the"
            " first storm of the winter arrived, and forecasters expect snow to keep falling until Thursday. " * 3
            + "</p></div></body></html>")
    page = extract_page(html.encode("utf-8"))
    assert page.title == "Storm closes schools across the county, Three days of snow expected"
    assert "Three days of snow expected" not in page.body_text


def test_title_comparison_ignores_width_and_quote_style():
    assert key("男孩写“救命啊”纸团（图）") == key('男孩写"救命啊"纸团(图)')
    assert key("ＡＢＣ 新闻") == key("abc新闻")


def _labels(html: str) -> dict:
    import lxml.html

    found = labelled(runs_of(lxml.html.fromstring(f"<div>{html}</div>")))
    return {kind: f.value for kind, f in found.items()}


@pytest.mark.parametrize("html, expected", [
    ("<p>来源：大众日报 作者：刘一颖</p>", {"outlet": "大众日报", "author": ("刘一颖",)}),
    ("<p>来源: <a href='/'>新京报</a></p><p>[责任编辑:杨凡、怀初侠]</p>",
     {"outlet": "新京报", "editor": ("杨凡", "怀初侠")}),
    ("<p>【稿源：新华社】（责编：萧潇、张妍）</p>", {"outlet": "新华社", "editor": ("萧潇", "张妍")}),
    ("<p>文/张三　2019-10-23</p>", {"author": ("张三",)}),
    ("<p>作者︱春春</p>", {"author": ("春春",)}),
    ("<p>责任编辑：杨倩_NF4425</p>", {"editor": ("杨倩",)}),
    ("<p>来源：[ 国际金融报 ]</p>", {"outlet": "国际金融报"}),
    ("<p>记者 王建宏 张文攀</p>", {}),  # no colon: a byline, read elsewhere
    ("<table><tr><td>发文机关：</td><td>示例省人民政府</td></tr></table>", {"issuer": "示例省人民政府"}),
])
def test_label_variants(html, expected):
    assert _labels(html) == expected


def test_byline_inside_the_first_paragraph_is_the_author_and_stays_in_the_body():
    html = ("<html><head><title>测试标题在这里出现_示例网</title></head><body><h1>测试标题在这里出现</h1>"
            "<div class='content'><p>新京报快讯（记者 裴剑飞）今日有网友爆料，有六十万个账号数据在网上出售，铁路部门回应称消息不实。</p>"
            "<p>铁路部门提醒广大旅客，请通过官方网站和客户端购票，避免通过非正常渠道购票带来的风险和损失。</p></div></body></html>")
    page = extract_page(html.encode("utf-8"))
    assert page.author == "裴剑飞"
    assert page.body_text.startswith("新京报快讯（记者 裴剑飞）")


def test_extract_command_prints_json():
    result = CliRunner().invoke(extract_command, [str(PAGES / "labels-fullwidth.html"), "--url",
                                                  "https://news.example.cn/2019/1023/a1.shtml"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["outlet"] == "大众日报" and printed["editors"] == ["杨凡", "怀初侠"]
    assert set(printed) >= {"title", "author", "outlet", "editors", "published", "body_text", "body_html", "related"}
    assert set(printed["related"][0]) == {"title", "link", "summary", "outlet", "date"}


def test_extract_command_date_only_page(tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<html><body><h1>只有日期的一篇文章标题</h1><p>2019-10-23</p><div><p>"
                    + "正文第一段内容，写得足够长，好让它像一段真正的文字，有逗号也有句号。" * 3 + "</p></div></body></html>",
                    encoding="utf-8")
    result = CliRunner().invoke(extract_command, [str(page)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["published"] == "2019-10-23"


def test_extract_command_refuses_missing_file(tmp_path):
    result = CliRunner().invoke(extract_command, [str(tmp_path / "missing.html")])
    assert result.exit_code == 1 and "cannot read" in result.output


@pytest.mark.parametrize("page, kind, table", [
    ("shandong/yaowen/2019/1023/4371235.shtml", "article_page", "article"),
    ("shandong/yaowen/index.shtml", "listing_page", "listing"),
])
def test_recipe_suggest_writes_a_valid_recipe(page, kind, table):
    result = CliRunner().invoke(recipe_suggest, [str(SITE_DIR / page)])
    assert result.exit_code == 0, result.output
    recipe = parse_recipe(result.output, "suggested.toml")
    assert recipe.kind == kind
    assert tomllib.loads(result.output)[table]
    if kind == "article_page":
        assert recipe.article.title == "h1.article-title" and recipe.article.body == "div.article-main"
        assert recipe.related.item == "ul.related-list > li.related-item"
    else:
        assert recipe.listing.item == "ul.news-list > li.news-item"
