"""Parsers over saved pages: one expectation file per page in tests/corpus/pages/."""

from __future__ import annotations

import json

import pytest

from feedsvc.parsers import parse_article, parse_listing
from feedsvc.sources.recipes import load_recipes
from feedsvc.snapshot import RECIPES_DIR, SITE_DIR
from tests.support.paths import PAGES as PAGES_DIR

PAGES = sorted(PAGES_DIR.glob("*.json"))
# Pages are parsed as if fetched from a loopback mirror: identities must
# still come out on the portal's own host.
FETCHED_FROM = "http://127.0.0.1:9/"


def _recipe(recipe_id: str):
    recipes = {r.id: r for r in load_recipes(RECIPES_DIR, {"snapshot": "http://127.0.0.1:9"})}
    return recipes[recipe_id]


def _date(ts):
    return ts.value.date().isoformat() if ts else None


@pytest.mark.parametrize("case_file", PAGES, ids=[p.stem for p in PAGES])
def test_page(case_file):
    case = json.loads(case_file.read_text(encoding="utf-8"))
    recipe = _recipe(case["recipe"])
    content = (SITE_DIR / case["page"]).read_bytes()
    url = FETCHED_FROM + case["page"]
    expect = case["expect"]
    if case["parser"] == "listing":
        listing = parse_listing(content, url, recipe.listing, zone=recipe.zone)
        assert listing.url == expect["url"]
        got = [{"title": e.title, "link": e.link, "href": e.href, "date": _date(e.published)} for e in listing.entries]
        assert got == expect["entries"]
        assert all(e.published.precision == "day" for e in listing.entries)
        return
    article = parse_article(content, url, recipe.article, recipe.related, zone=recipe.zone,
                            language=recipe.language)
    for name in ("url", "title", "outlet", "author", "summary"):
        assert getattr(article, name) == expect[name], name
    assert article.published.value.isoformat() == expect["published"]
    assert article.published.precision == expect["precision"]
    assert list(article.editors) == expect["editors"]
    assert article.body_text.startswith(expect["body_text_starts"])
    if "body_text_ends" in expect:
        assert article.body_text.endswith(expect["body_text_ends"])
    for banned in expect.get("body_html_excludes", []):
        assert banned not in article.body_html
    if "related" in expect:
        got = [{"title": e.title, "summary": e.summary, "outlet": e.outlet, "date": _date(e.published),
                "link": e.link} for e in article.related]
        assert got == expect["related"]
    if "related_count" in expect:
        assert len(article.related) == expect["related_count"]
        assert [e.outlet for e in article.related] == expect["related_outlets"]


def test_related_summaries_lose_the_more_link():
    recipe = _recipe("iqilu-shandong")
    content = (SITE_DIR / "shandong/yaowen/2019/1023/4371235.shtml").read_bytes()
    article = parse_article(content, FETCHED_FROM, recipe.article, recipe.related, zone=recipe.zone)
    assert article.related and all("详细" not in e.summary for e in article.related)


# -- names: format characters, width variants -----------------------------------

def test_the_format_class_is_every_format_character():
    import sys
    import unicodedata

    from feedsvc.parsers.text import FORMAT_CHARACTERS

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        if category == "Cf":
            assert FORMAT_CHARACTERS.fullmatch(char), hex(code)
        elif FORMAT_CHARACTERS.fullmatch(char):
            assert category == "Cn", hex(code)  # a later Unicode's format character, unassigned here


@pytest.mark.parametrize("raw, clean", [
    ("正常\u202egnp.exe\u202c的标\u200b题", "正常gnp.exe的标题"),
    ("\u2067胶东在线\u2069", "胶东在线"),
    ("记者\u200d张\u2060三\ufeff", "记者张三"),
    ("ＡＩ与５Ｇ：新闻", "AI与5G：新闻"),  # letters and digits narrowed; Chinese punctuation kept
    ("e\u0301cole", "\u00e9cole"),  # NFC
    ("  多个   空格\u3000 ", "多个 空格"),
    ("\u200b\u200b", ""),
])
def test_clean_name(raw, clean):
    from feedsvc.parsers.text import clean_name

    assert clean_name(raw) == clean


def test_clean_name_cuts_to_a_limit():
    from feedsvc.parsers.text import clean_name

    assert clean_name("社" * 500, 80) == "社" * 80
