from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.app import create_app
from feedsvc.core.errors import RecipeError
from feedsvc.sources.recipes import load_recipes, parse_recipe
from feedsvc.snapshot import RECIPES_DIR
from tests.support.paths import REPO

GOOD = """
id = "demo"
name = "Demo"
kind = "article_page"
start_urls = ["https://example.org/a.html"]
[article]
title = "h1"
"""


def test_shipped_and_demo_recipes_load():
    shipped = load_recipes(REPO / "feeds")
    demo = load_recipes(RECIPES_DIR, {"snapshot": "http://127.0.0.1:1"})
    assert {r.id for r in shipped} >= {"iqilu-shandong"}
    assert demo[0].start_urls == ["http://127.0.0.1:1/shandong/yaowen/index.shtml"]
    assert demo[0].timezone == "Asia/Shanghai" and demo[0].refresh_interval_minutes == 30


def test_defaults():
    recipe = parse_recipe(GOOD, "x.toml")
    assert recipe.timezone == "Asia/Shanghai"
    assert recipe.encoding is None and recipe.refresh_interval_minutes == 30


@pytest.mark.parametrize(("text", "key", "reason"), [
    (GOOD.replace('"h1"', '"h1 >> p"'), "article.title", "invalid CSS selector"),
    (GOOD + 'colour = "red"\n', "article.colour", "unknown key"),
    (GOOD.replace('kind = "article_page"', 'kind = "magazine"'), "kind", "article_page"),
    (GOOD.replace('[article]\ntitle = "h1"', ""), "(recipe)", "needs an [article] table"),
    (GOOD.replace("https://example.org/a.html", "ftp://example.org/a"), "start_urls", "not an http(s) URL"),
    (GOOD + "", "(syntax)", "not valid TOML") if False else ("id = ", "(syntax)", "not valid TOML"),
    ('timezone = "Mars/Olympus"\n' + GOOD, "timezone", "unknown time zone"),
    ('encoding = "klingon"\n' + GOOD, "encoding", "unknown encoding"),
    ('refresh_interval_minutes = 0\n' + GOOD, "refresh_interval_minutes", "greater than or equal to 0.05"),
    (GOOD.replace('id = "demo"', 'id = "Bad Id"'), "id", "should match pattern"),
    (GOOD.replace('name = "Demo"\n', ""), "name", "Field required"),
])
def test_broken_recipe_names_file_key_and_reason(text, key, reason):
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, "feeds/broken.toml")
    error = caught.value
    assert error.file == "feeds/broken.toml"
    assert error.key == key
    assert reason in error.reason
    assert str(error).startswith(f"feeds/broken.toml: {key}: ")


def test_listing_page_needs_listing_selectors():
    text = GOOD.replace("article_page", "listing_page")
    with pytest.raises(RecipeError, match="needs a \\[listing\\] table"):
        parse_recipe(text, "x.toml")


def test_duplicate_ids_are_refused(tmp_path):
    (tmp_path / "a.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(RecipeError) as caught:
        load_recipes(tmp_path)
    assert caught.value.key == "id" and "a.toml" in caught.value.reason


def test_app_refuses_to_start_with_a_broken_recipe(tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "good.toml").write_text(GOOD, encoding="utf-8")
    (folder / "zz-broken.toml").write_text(GOOD.replace('id = "demo"', 'id = "other"') + "bogus = 1\n",
                                           encoding="utf-8")
    with pytest.raises(RecipeError) as caught:
        create_app({"INSTANCE_PATH": str(tmp_path / "i"), "RECIPES_PATH": str(folder)})
    assert caught.value.file.endswith("zz-broken.toml") and caught.value.key == "article.bogus"


AUTO = 'id = "auto"\nname = "Auto"\nkind = "auto"\nstart_urls = ["https://example.org/news/"]\n'


def test_an_auto_recipe_needs_no_selectors():
    recipe = parse_recipe(AUTO, "x.toml")
    assert (recipe.kind, recipe.article, recipe.listing, recipe.follow_links) == ("auto", None, None, True)
    parse_recipe(AUTO + '[article]\ntitle = "h1.title"\n', "x.toml")  # selectors of its own first


@pytest.mark.parametrize(("text", "reason"), [
    (AUTO + '[listing]\nitem = "li"\ntitle = "a"\n', "use kind 'listing_page'"),
    ("full_text = true\n" + GOOD, "full_text is for kind 'feed'"),
])
def test_auto_and_full_text_refuse_what_they_cannot_use(text, reason):
    with pytest.raises(RecipeError, match=reason):
        parse_recipe(text, "x.toml")


def test_a_listing_page_may_leave_its_followed_articles_to_the_extractor():
    text = GOOD.replace("article_page", "listing_page").replace('[article]\ntitle = "h1"', '[listing]\nitem = "li"\ntitle = "a"')
    assert parse_recipe(text, "x.toml").follow_links


@pytest.mark.parametrize(("text", "changes"), [
    (GOOD.replace('"h1"', '"h1.title"'), True),
    ("follow_links = false\n" + GOOD, True),
    ('timezone = "Asia/Tokyo"\n' + GOOD, True),
    (GOOD.replace('name = "Demo"', 'name = "Another name"'), False),
    ("refresh_interval_minutes = 5\nretention_days = 3\n" + GOOD, False),
])
def test_the_fingerprint_changes_with_what_decides_reading(text, changes):
    assert (parse_recipe(text, "x.toml").fingerprint != parse_recipe(GOOD, "x.toml").fingerprint) is changes


def test_shipped_recipes_are_auto_and_say_they_were_not_checked_live():
    shipped = load_recipes(REPO / "feeds")
    assert {r.id for r in shipped} >= {"iqilu-shandong", "dzwww-shandong", "sdnews-shandong", "jiaodong-shandong",
                                       "sdchina-news"}
    for recipe in shipped:
        assert (recipe.kind, recipe.article, recipe.listing, recipe.related) == ("auto", None, None, None)
        text = Path(recipe.path).read_text(encoding="utf-8")
        assert "not checked against the" in text and f"feedsvc recipes test {recipe.id}" in text.replace("\n# ", " ")
