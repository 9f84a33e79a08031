"""Reading pages for a recipe: channel pages of kind = "auto" recipes keep
their own listing and leave hot lists out, in several page styles."""

from __future__ import annotations

import pytest

from feedsvc.sources.recipes import parse_recipe
from feedsvc.extract.reading import read_auto

AUTO = parse_recipe('id = "a"\nname = "A"\nkind = "auto"\nstart_urls = ["https://example.org/news/"]\n', "a.toml")
MAIN = [f"全省各地推进重点工作的第{n}条新闻报道" for n in range(1, 6)]
HOT = [f"网友热议的话题之第{n}个热门事件详情" for n in range(1, 6)]


def _list(titles, prefix: str) -> str:
    return "".join(f'<li><a href="/{prefix}/{n}.html">{t}</a></li>' for n, t in enumerate(titles))


STYLES = {
    # the same plain <ul><li> for both lists, the hot one under a heading
    "same shape": lambda: f"<div><h2>要闻</h2><ul>{_list(MAIN, 'news')}</ul></div>"
                          f"<div><h3>点击排行</h3><ul>{_list(HOT, 'hot')}</ul></div>",
    # a longer hot list in a box whose class says so
    "class names": lambda: f"<ul class='list'>{_list(MAIN, 'news')}</ul>"
                           f"<div class='box redian'><ul>{_list(HOT + HOT, 'hot')}</ul></div>",
    # the hot list first, under 热门文章
    "hot first": lambda: f"<div class='side'><div class='hd'>热门文章</div><ul>{_list(HOT, 'hot')}</ul></div>"
                         f"<div class='main'><ul>{_list(MAIN, 'news')}</ul></div>",
}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_channel_page_gives_its_own_listing_not_its_hot_list(style):
    page = f"<html><body>{STYLES[style]()}</body></html>".encode()
    reading = read_auto(page, "https://example.org/news/", AUTO, "utf-8")
    assert [e.title for e in reading.listing.entries] == MAIN
    assert reading.origins["listing.entries", "extractor"] == len(MAIN)


def test_a_channel_whose_only_listing_is_called_hot_still_gives_it():
    page = f"<html><body><h2>热点新闻</h2><ul>{_list(MAIN, 'news')}</ul></body></html>".encode()
    assert [e.title for e in read_auto(page, "https://example.org/hot/", AUTO, "utf-8").listing.entries] == MAIN
