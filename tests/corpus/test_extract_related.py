"""Related lists, outlets and people on real templates: the rules behind
the pages in tests/corpus/extract_pages/related-*, one at a time, plus the outlet
directory and `recipe suggest`'s [related] selector over the shared corpus
of hand-labelled pages (skipped when ../shared is absent)."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from feedsvc.extract import extract_page, load_outlets
from feedsvc.extract.analysis import iso
from feedsvc.extract.metadata import _names, clean_author
from feedsvc.parsers.outlet_names import DIRECTORY, OutletFileError, default_outlets
from feedsvc.extract.suggest import suggest_recipe
from feedsvc.parsers.dates import parse_near
from feedsvc.parsers.dom import link_of, load_document, select, select_one
from tests.support.paths import EXTRACT_PAGES, SHARED_CORPUS

SHANGHAI = ZoneInfo("Asia/Shanghai")
RELATED = SHARED_CORPUS / "related"
PAGES = EXTRACT_PAGES


def _page(body: str, head: str = "") -> bytes:
    return f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>".encode()


ARTICLE = ("<h1>全省秋粮收购工作全面展开进度过半</h1><div class='info'>{info}</div><div class='content'>"
           "<p>记者从省粮食和物资储备局获悉，今年全省秋粮收购工作全面展开，各地收购网点已达两千余个，收购进度过半。</p>"
           "<p>省粮食和物资储备局要求，各地要严格执行收购政策，坚决防止压级压价、拖欠农民售粮款等损害农民利益的行为。</p>"
           "<p>据介绍，全省今年秋粮总产量预计与去年持平，粮食品质总体好于上年，优质粮源比例进一步提高。</p>{tail}</div>")


def _article(info: str, tail: str = "", head: str = "<title>全省秋粮收购工作全面展开进度过半</title>",
             url: str = "https://news.example.cn/2019/1023/1.shtml", **kwargs):
    return extract_page(_page(ARTICLE.format(info=info, tail=tail), head), url, **kwargs)


@pytest.mark.parametrize("text, around, expected", [
    ("2019-10-22", "2019-10-23", "2019-10-22"),
    ("2019-1-05", "2019-10-23", "2019-01-05"),
    ("10-22", "2019-10-23", "2019-10-22"),
    ("(10-22)", "2019-10-23", "2019-10-22"),
    ("[2019-10-22]", "2019-10-23", "2019-10-22"),
    ("10月22日", "2019-10-23", "2019-10-22"),
    ("2019年10月22日 08:00", "2019-10-23", "2019-10-22T08:00:00+08:00"),
    ("10-30", "2019-10-23", "2019-10-30"),  # a list refreshed after the article: still the article's year
    ("12-28", "2020-01-10", "2019-12-28"),  # eleven months after the article: the year before
    ("01-07", "2019-12-30", "2019-01-07"),  # the article's year is no more than a week ahead of the item
    ("02-30", "2019-10-23", None),
])
def test_item_dates_take_the_year_of_the_article(text, around, expected):
    anchor = datetime.fromisoformat(around).replace(tzinfo=SHANGHAI)
    assert iso(parse_near(text, SHANGHAI, anchor)) == expected


def test_relative_item_dates_are_read_against_now():
    now = datetime(2024, 5, 22, 10, 0, tzinfo=SHANGHAI)
    anchor = datetime(2024, 5, 20, tzinfo=SHANGHAI)
    assert iso(parse_near("8 小時前", SHANGHAI, anchor, now)) == "2024-05-22T02:00:00+08:00"
    assert iso(parse_near("今天 02:41", SHANGHAI, anchor, now)) == "2024-05-22T02:41:00+08:00"


def test_directory_is_data_with_hundreds_of_outlets():
    data = json.loads(DIRECTORY.read_text(encoding="utf-8"))
    names = [o["name"] for o in data["outlets"]]
    assert len(names) >= 300 and len(names) == len(set(names))
    for name in ("人民日报", "新华社", "大众日报", "齐鲁晚报", "齐鲁网", "胶东在线", "鲁网", "中国山东网", "青岛日报",
                 "舜网", "水母网", "新浪网", "网易", "澎湃新闻"):
        assert default_outlets().is_outlet(name), name
    for word in ("转载文章", "转载", "网络", "本站", "原创", "综合"):
        assert default_outlets().is_placeholder(word) and not default_outlets().is_outlet(word)


# Shandong's sixteen prefecture-level cities each have a party daily; the
# province's own papers, broadcaster and news sites and their apps.
SHANDONG = (
    "济南日报", "青岛日报", "淄博日报", "枣庄日报", "东营日报", "烟台日报", "潍坊日报", "济宁日报", "泰安日报", "威海日报",
    "日照日报", "临沂日报", "德州日报", "聊城日报", "滨州日报", "菏泽日报",
    "大众日报", "大众网", "大众新闻", "海报新闻", "齐鲁晚报", "齐鲁壹点", "生活日报", "半岛都市报", "农村大众", "经济导报",
    "联合日报", "山东法制报", "山东商报", "鲁网", "齐鲁网", "闪电新闻", "山东广播电视台", "山东卫视", "山东新闻联播",
    "中国山东网", "舜网", "青岛新闻网", "观海新闻", "胶东在线", "水母网", "潍坊新闻网", "威海新闻网", "德州新闻网",
    "淄博新闻网", "鲁中网", "泰山网", "日照新闻网",
)


@pytest.mark.parametrize("name", SHANDONG)
def test_directory_knows_every_shandong_outlet(name):
    assert default_outlets().is_outlet(name)


@pytest.mark.parametrize("host, name", [
    ("www.qlwb.com.cn", "齐鲁晚报"), ("sdxw.iqilu.com", "闪电新闻"), ("news.iqilu.com", "齐鲁网"),
    ("www.lznews.cn", "鲁中网"), ("www.guanhai.com.cn", "观海新闻"), ("www.rznews.cn", "日照新闻网"),
])
def test_shandong_hosts(host, name):
    assert default_outlets().by_host(host) == name


def test_hosts_name_outlets_of_other_sites_only():
    known = default_outlets()
    assert known.by_host("www.jiaodong.net") == "胶东在线"
    assert known.by_host("sd.xinhuanet.com") == "新华网山东频道"  # the most specific host wins
    assert known.outlet_of_link("https://www.jiaodong.net/a/1.shtml", "https://news.iqilu.com/x.shtml") == "胶东在线"
    assert known.outlet_of_link("https://finance.sina.com.cn/a.shtml", "https://news.sina.com.cn/b.shtml") is None


def test_user_files_and_store_names_extend_without_merging(tmp_path):
    extra = tmp_path / "mine.json"
    extra.write_text(json.dumps({"outlets": [{"name": "某某县融媒体中心", "hosts": ["mouxian.example.cn"]}],
                                 "placeholders": ["网摘"]}, ensure_ascii=False), encoding="utf-8")
    known = load_outlets([extra], names=["某某晚报"])
    assert known.is_outlet("某某县融媒体中心") and known.is_outlet("某某晚报") and known.is_placeholder("网摘")
    assert known.by_host("www.mouxian.example.cn") == "某某县融媒体中心"
    assert not default_outlets().is_outlet("某某晚报")
    # Recognised, not merged: each name comes out as the page writes it.
    page = _article("2019-10-23 07:55", "<ul><li>x</li></ul>")
    assert page.outlet is None
    page = _article("<span>2019-10-23 07:55</span> <span>某某晚报</span>", outlets=known)
    assert page.outlet == "某某晚报"
    assert _article("<span>2019-10-23 07:55</span> <span>大众网</span>").outlet == "大众网"


def test_a_bad_outlet_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"outlets": [{"hosts": []}]}', encoding="utf-8")
    with pytest.raises(OutletFileError, match="bad.json"):
        load_outlets([bad])


@pytest.mark.parametrize("value, names", [
    ("赵雪、通讯员、刘丽", ("赵雪", "刘丽")),
    ("记者 王强 实习生 周晓", ("王强", "周晓")),
    ("通讯员刘丽", ("刘丽",)),
    ("PK155", ()),
    ("通过", ()),
    ("房产", ()),
    ("网易", ()),
    ("杨凡、怀初侠", ("杨凡", "怀初侠")),
])
def test_people_not_words(value, names):
    assert _names(value) == names


def test_english_bylines_drop_addresses():
    assert clean_author("Jane Doe, jane.doe@gmail.com") == "Jane Doe"


def test_an_editor_is_not_the_author_unless_labelled():
    page = _article("2019-10-23 07:55", "<p>编辑:李楠</p>")
    assert page.author is None and page.editors == ("李楠",)
    page = _article("2019-10-23 07:55 作者：李楠", "<p>编辑:李楠</p>")
    assert page.author == "李楠" and page.editors == ("李楠",)


def test_placeholder_source_gives_way_to_the_closing_source_line():
    page = _article("2019-10-23 07:55 来源：转载文章", "<p>来源：新闻晨报</p>")
    assert page.outlet == "新闻晨报"
    assert "来源" not in page.body_text


def test_a_reporter_in_the_source_slot_is_the_author():
    page = _article("2005年03月21日 11:21 《理财周刊》", "", head="<title>全省秋粮收购工作全面展开进度过半</title>")
    assert page.outlet == "理财周刊"
    page = _article("来源: 尹娟</div><div>2005年03月21日 11:21 《理财周刊》")
    assert page.author == "尹娟" and page.outlet == "理财周刊"


def test_a_relative_badge_does_not_move_a_dated_article_to_today():
    head = "<title>全省秋粮收购工作全面展开进度过半</title><meta property='article:published_time' content='2019-10-23T07:55:00+08:00'>"
    page = _article("3小时前", head=head, now=datetime(2026, 12, 6, 10, 0, tzinfo=SHANGHAI))
    assert iso(page.published) == "2019-10-23T07:55:00+08:00"
    page = _article("3小时前", url="https://news.example.cn/2019/1023/1.shtml",
                    now=datetime(2026, 12, 6, 10, 0, tzinfo=SHANGHAI))
    assert iso(page.published) == "2019-10-23"


def _suggested(data: bytes, url: str | None) -> dict:
    return tomllib.loads(suggest_recipe(data, url))


def test_suggest_scopes_related_to_the_chosen_block():
    data = (PAGES / "related-spans.html").read_bytes()
    recipe = _suggested(data, "https://news.example-sd.cn/shandong/2019/1023/101.shtml")
    root = load_document(data, "page")
    links = [link_of(select_one(el, recipe["related"]["title"])) for el in select(root, recipe["related"]["item"])]
    assert recipe["kind"] == "article_page"
    assert links == ["/shandong/2019/1022/88.shtml", "https://www.example-other.cn/news/2019/1021/77.html",
                     "/shandong/2019/1020/66.shtml", "http://www.jiaodong.net/news/system/2019/10/19/55.shtml"]


def test_suggest_leaves_a_br_list_to_auto():
    recipe = _suggested((PAGES / "related-br-table.html").read_bytes(), "http://www.example-rb.cn/news/2020/0110/1.htm")
    assert "related" not in recipe  # no element per item: no selector names exactly these links


CHANNEL = "".join(
    f"<li class='item'><h2><a href='/2019/1023/{n}.shtml'>第{n}条新闻标题：全省重点项目建设稳步推进</a></h2>"
    f"<p class='brief'>全省重点项目建设稳步推进，一批重大工程相继开工建设，为经济发展注入新动能。</p>"
    f"<span class='time'>2019-10-{10 + n} 08:00</span></li>" for n in range(1, 11))


def test_suggest_names_a_channel_page_a_listing():
    data = _page(f"<div class='nav'><a href='/'>首页</a></div><h1>山东新闻</h1><ul class='list'>{CHANNEL}</ul>",
                 "<title>山东新闻_示例网</title>")
    recipe = _suggested(data, "https://news.example.cn/shandong/")
    assert recipe["kind"] == "listing_page"
    assert recipe["listing"]["item"] == "ul.list > li.item"


def _labelled_pages():
    if not RELATED.is_dir():
        return []
    return sorted(p for p in RELATED.glob("*/*.json") if "related" in json.loads(p.read_text(encoding="utf-8")))


@pytest.mark.skipif(not RELATED.is_dir(), reason="shared corpus not present")
@pytest.mark.parametrize("label_file", _labelled_pages(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_suggested_related_selector_matches_exactly_the_labelled_items(label_file):
    truth = json.loads(label_file.read_text(encoding="utf-8"))
    data = label_file.with_suffix(".html").read_bytes()
    recipe = _suggested(data, truth["link_base"] or truth["url"] or truth["fetched_url"])
    assert recipe["kind"] == "article_page"
    root = load_document(data, "page")
    ignored = {item["title"] for item in truth["ignore"]}
    found = [(link_of(select_one(el, recipe["related"]["title"])), el)
             for el in select(root, recipe["related"]["item"])]
    hrefs = [href for href, el in found if not any(title in el.text_content() for title in ignored)]
    assert hrefs == [item["href"] for item in truth["related"]]


def test_extract_command_reads_the_users_outlet_file(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from feedsvc.cli.extract import extract_command

    page = tmp_path / "page.html"
    page.write_bytes(_page(ARTICLE.format(info="<span>2019-10-23 07:55</span> <span>某某晚报</span>", tail=""),
                           "<title>全省秋粮收购工作全面展开进度过半</title>"))
    assert json.loads(CliRunner().invoke(extract_command, [str(page)]).output)["outlet"] is None
    extra = tmp_path / "mine.json"
    extra.write_text(json.dumps({"outlets": [{"name": "某某晚报"}]}, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("FEEDSVC_EXTRACT_OUTLETS_FILE", str(extra))
    assert json.loads(CliRunner().invoke(extract_command, [str(page)]).output)["outlet"] == "某某晚报"
    extra.write_text("not json", encoding="utf-8")
    result = CliRunner().invoke(extract_command, [str(page)])
    assert result.exit_code == 1 and "mine.json" in result.output
