"""Block/keep rules at ingest, `feedsvc rules apply`, and the `regex:`
filters of feed queries, all run by RE2 (linear time)."""

from __future__ import annotations

import time

import lxml.html
import pytest
from click.testing import CliRunner

from tests.support.checks import parse_strict
from feedsvc.app import create_app
from feedsvc.cli.commands import main
from feedsvc.core.errors import RecipeError
from feedsvc.core.models import ItemRecord
from feedsvc.sources.recipes import parse_recipe
from feedsvc.sources.rules import RuleSet, blocked_by, compile_pattern, parse_rule_set, sift
from tests.support.sites import Site, article_page, listing_page, listing_recipe
from tests.support.stores import refresher, sqlite_store

CATASTROPHIC = "regex:(a+)+$"
LONG_AS = "a" * 50_000 + "!"  # Python's re would backtrack through 2^50000 ways here


def record(**fields) -> ItemRecord:
    values = {"url": "https://example.org/a.html", "source_id": "s", "title": "标题", "detail": 1, **fields}
    return ItemRecord(**values)


# -- patterns ------------------------------------------------------------------

@pytest.mark.parametrize(("pattern", "text", "hit"), [
    ("广告", "今日广告特惠", True),
    ("ＣＭＥＦ", "cmef opens", True),  # substrings fold width and case, as q= does
    ("word:sale", "Big SALE today", True),
    ("word:sale", "wholesale prices", False),
    ("word:山东", "山东省", False),  # letters of any script bound a word
    ("word:山东", "来自 山东 的消息", True),
    ("regex:^【推广】", "【推广】买一送一", True),
    ("regex:^【推广】", "新闻【推广】", False),
    ("regex:(?i)^breaking", "BREAKING: news", True),
])
def test_pattern_kinds(pattern, text, hit):
    assert compile_pattern(pattern).search(text) is hit


@pytest.mark.parametrize("bad", ["regex:(", "regex:", "word:", "  ", "regex:a{1001}{1001}"])
def test_bad_patterns_are_refused_with_a_reason(bad):
    with pytest.raises(ValueError):
        compile_pattern(bad)


def test_catastrophic_pattern_is_linear():
    started = time.monotonic()
    assert not compile_pattern(CATASTROPHIC).search(LONG_AS)
    assert time.monotonic() - started < 1


def test_block_keep_and_fields():
    rules = RuleSet.model_validate({"block": ["广告", {"match": "regex:/sponsored/", "fields": ["link"]}],
                                    "keep": [{"match": "山东", "fields": ["title", "body"]}]})
    assert blocked_by([rules], record(title="山东广告")) == "block: 广告"
    assert blocked_by([rules], record(title="山东", url="https://x.org/sponsored/1")) == "block: regex:/sponsored/"
    assert blocked_by([rules], record(title="北京新闻")) == "keep: no rule matched"
    assert blocked_by([rules], record(title="新闻", body_html="<p>来自<b>山东</b></p>")) is None
    # The body is read as text: a rule never matches inside markup.
    assert blocked_by([RuleSet(block=("img",))], record(body_html='<p><img src="a.png">正文</p>')) is None
    assert blocked_by([RuleSet(block=({"match": "刘", "fields": ["author"]},)), RuleSet()],
                      record(author="刘一颖")) == "block: 刘"


def test_a_broken_rule_in_a_recipe_names_its_key():
    text = listing_recipe("http://127.0.0.1:1/list") + '\n'
    text = text.replace('[listing]', 'rules = { block = ["regex:("] }\n[listing]')
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, "bad.toml")
    assert "rules.block" in str(caught.value) and "missing )" in str(caught.value)
    with pytest.raises(ValueError, match="block.0.match"):
        parse_rule_set({"block": [{"match": "regex:(("}]})


def test_a_broken_service_rule_stops_start_up(tmp_path):
    with pytest.raises(ValueError, match="FEEDSVC_RULES"):
        create_app({"INSTANCE_PATH": str(tmp_path), "RECIPES_PATH": str(tmp_path),
                    "RULES": {"block": ["regex:[z-a]"]}})


# -- at ingest -------------------------------------------------------------------

@pytest.fixture
def site(httpserver):
    return Site(httpserver)


def _serve(site) -> None:
    site.page("/list", listing_page(("/a/0.html", "山东新闻", "2019-10-23"), ("/a/1.html", "今日广告特惠", "2019-10-23"),
                                    ("/a/2.html", "烟台消息", "2019-10-23")))
    site.page("/a/0.html", article_page("山东新闻"))
    site.page("/a/1.html", article_page("今日广告特惠"))
    site.page("/a/2.html", article_page("烟台消息", body=f"<p>{LONG_AS}</p>"))


def test_a_blocked_keyword_never_enters_the_store(site, tmp_path):
    _serve(site)
    r = refresher(tmp_path, listing_recipe(site.url("/list"), extra='rules = { block = ["广告"] }'))
    report = r.refresh_source("news")
    assert report.status == "ok" and report.new == 2
    titles = {i.title for i in r.store.query_items(limit=100)}
    assert titles == {"山东新闻", "烟台消息"}
    assert r.store.source_state("news").blocked_items == 1


def test_service_rules_and_catastrophic_patterns_at_ingest(site, tmp_path):
    _serve(site)
    r = refresher(tmp_path, listing_recipe(site.url("/list")))
    r.rules = RuleSet(block=({"match": CATASTROPHIC, "fields": ["body"]}, "广告"))
    started = time.monotonic()
    report = r.refresh_source("news")
    assert report.status == "ok"
    # Four pages over loopback; a backtracking engine would never return.
    assert time.monotonic() - started < 5
    assert {i.title for i in r.store.query_items(limit=100)} == {"山东新闻", "烟台消息"}
    stored = next(i for i in r.store.query_items(limit=100) if i.title == "烟台消息")
    started = time.monotonic()
    assert sift([r.rules], [record(body_html=stored.body_html)]) == ([record(body_html=stored.body_html)], [])
    assert LONG_AS in stored.body_html and time.monotonic() - started < 1


def test_keep_rules_store_only_what_they_match(site, tmp_path):
    _serve(site)
    r = refresher(tmp_path, listing_recipe(site.url("/list"), extra='rules = { keep = ["山东"] }'))
    r.refresh_source("news")
    assert [i.title for i in r.store.query_items(limit=100)] == ["山东新闻"]
    assert r.store.source_state("news").blocked_items == 2


# -- in the app: index, rules apply, query filters ------------------------------------

def _app(tmp_path, site, rules: dict | None = None):
    folder = tmp_path / "recipes"
    folder.mkdir(exist_ok=True)
    (folder / "news.toml").write_text(listing_recipe(site.url("/list"), extra="follow_links = false"),
                                      encoding="utf-8")
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "RECIPES_PATH": str(folder),
                       "DATABASE_URL": sqlite_store(tmp_path / "store.sqlite3"), "TESTING": True,
                       "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FETCH_HOST_DELAY_SECONDS": 0,
                       "CACHE_CHECK_INTERVAL_SECONDS": 0, "RULES": rules or {}})


def _close(app) -> None:
    app.extensions["feedsvc"].refresher.close()
    app.extensions["feedsvc"].store.engine.dispose()


def test_index_shows_blocked_items_per_source(site, tmp_path):
    _serve(site)
    app = _app(tmp_path, site, {"block": ["广告"]})
    app.extensions["feedsvc"].refresher.refresh_source("news")
    page = app.test_client().get("/").get_data(as_text=True)
    assert "1 blocked by rules" in page
    _close(app)


def test_rules_apply_removes_items_stored_before_the_rule(site, tmp_path, monkeypatch):
    _serve(site)
    app = _app(tmp_path, site)
    app.extensions["feedsvc"].refresher.refresh_source("news")
    _close(app)
    monkeypatch.setenv("FEEDSVC_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("FEEDSVC_RECIPES_PATH", str(tmp_path / "recipes"))
    monkeypatch.setenv("FEEDSVC_DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite3'}")
    monkeypatch.setenv("FEEDSVC_RULES", '{"block": ["regex:^今日"]}')
    dry = CliRunner().invoke(main, ["rules", "apply", "--dry-run"])
    assert dry.exit_code == 0 and "news" in dry.output and "1" in dry.output, dry.output
    app = _app(tmp_path, site)
    assert len(app.extensions["feedsvc"].store.query_items(limit=100)) == 3  # a dry run removes nothing
    _close(app)
    result = CliRunner().invoke(main, ["rules", "apply"])
    assert result.exit_code == 0, result.output
    app = _app(tmp_path, site)
    assert {i.title for i in app.extensions["feedsvc"].store.query_items(limit=100)} == {"山东新闻", "烟台消息"}
    _close(app)


@pytest.fixture
def filter_app(site, tmp_path):
    site.page("/list", listing_page(*[(f"/a/{i}.html", title, "2019-10-23") for i, title in enumerate(
        ["山东新闻", "【推广】买一送一", LONG_AS, "烟台 Breaking", "济南消息"])]))
    app = _app(tmp_path, site)
    assert app.extensions["feedsvc"].refresher.refresh_source("news").new == 5
    yield app
    _close(app)


def _titles(app, **params) -> list[str]:
    response = app.test_client().get("/feeds/all.atom", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(e.title for e in parse_strict(response.data).entries)


def test_query_regex_filters(filter_app):
    assert _titles(filter_app, q="regex:^【推广】") == ["【推广】买一送一"]
    assert _titles(filter_app, q="regex:(?i)breaking$") == ["烟台 Breaking"]
    assert len(_titles(filter_app, exclude=["regex:^【", "消息"])) == 3
    assert _titles(filter_app, q="regex:新闻|消息", exclude="regex:济南") == ["山东新闻"]
    data = filter_app.test_client().get("/api/items", query_string={"q": "regex:^济南"}).get_json()
    assert [i["title"] for i in data["items"]] == ["济南消息"]


def test_the_browser_view_shows_what_the_regex_filtered_feed_shows(filter_app):
    """A browser opening a filtered feed URL gets a page of the same items."""
    page = filter_app.test_client().get("/feeds/all.atom", query_string={"q": "regex:新闻|消息", "exclude": "regex:济南"},
                                        headers={"Accept": "text/html,application/xml;q=0.9,*/*;q=0.8"})
    assert page.content_type.startswith("text/html")
    shown = [a.text_content().strip() for a in lxml.html.fromstring(page.data).cssselect("article.entry h2 a")]
    assert shown == _titles(filter_app, q="regex:新闻|消息", exclude="regex:济南") == ["山东新闻"]


def test_query_regex_pages_through_the_matches(filter_app):
    first = filter_app.test_client().get("/feeds/all.atom", query_string={"q": "regex:.", "limit": 2})
    parsed = parse_strict(first.data)
    next_url = next(link.href for link in parsed.feed.links if link.rel == "next")
    second = parse_strict(filter_app.test_client().get(next_url.split("localhost", 1)[1]).data)
    assert len(parsed.entries) == 2 and len(second.entries) == 2
    assert not {e.id for e in parsed.entries} & {e.id for e in second.entries}


def test_catastrophic_exclude_finishes_at_once(filter_app):
    started = time.monotonic()
    assert len(_titles(filter_app, exclude=CATASTROPHIC)) == 5
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(("params", "name"), [({"q": "regex:("}, "q"), ({"exclude": ["x", "regex:a)"]}, "exclude"),
                                              ({"q": "regex:"}, "q"), ({"q": "regex:" + "a" * 300}, "q")])
def test_a_bad_pattern_in_a_query_is_a_400_naming_it(filter_app, params, name):
    for path in ("/feeds/all.atom", "/api/items"):
        response = filter_app.test_client().get(path, query_string=params)
        assert response.status_code == 400
        message = response.get_json()["error"] if response.is_json else response.get_data(as_text=True)
        assert message.startswith(f"{name}:"), message
