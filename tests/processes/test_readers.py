"""Real readers on a served feedsvc: newsboat subscribed to its OPML, a
browser (headless Chromium) opening a feed URL, a web page on another
origin reading a feed with If-None-Match, curl and feedparser."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess

import feedparser
import httpx
import pytest
from werkzeug import Response

from tests.support.browser import chromium
from tests.support.checks import parse_strict
from feedsvc.snapshot import SnapshotServer
from tests.support.processes import served_demo

pytestmark = pytest.mark.slow
OUTLET_COUNTS = {"胶东在线": 2, "鲁网": 3, "中国山东网": 3, "新华网": 1, "大众日报": 2}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """`feedsvc serve` on the demo recipes, refreshed once."""
    tmp_path = tmp_path_factory.mktemp("readers")
    with SnapshotServer() as snapshot:
        with served_demo(tmp_path, snapshot.base_url) as base:
            yield base


def test_newsboat_subscribed_to_the_opml_shows_every_outlet_feed_with_its_items(service, tmp_path):
    newsboat = shutil.which("newsboat")
    if newsboat is None:
        if os.environ.get("CI"):
            pytest.fail("newsboat is not installed (apt-get install newsboat)")
        pytest.skip("newsboat is not installed")
    opml = tmp_path / "feeds.opml"
    opml.write_bytes(httpx.get(f"{service}/feeds.opml").content)
    urls, cache = tmp_path / "urls", tmp_path / "cache.db"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    (tmp_path / "config").mkdir()
    config = tmp_path / "config.txt"
    config.write_text("", encoding="utf-8")
    for args in (["-i", str(opml)], ["-x", "reload"]):
        result = subprocess.run([newsboat, "-u", str(urls), "-c", str(cache), "-C", str(config), *args],
                                env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(cache) as db:
        titles = dict(db.execute("SELECT rssurl, title FROM rss_feed"))
        counts = dict(db.execute("SELECT feedurl, COUNT(*) FROM rss_item GROUP BY feedurl"))
    by_title = {title.removesuffix(" · feedsvc"): counts.get(url, 0) for url, title in titles.items()}
    assert by_title == OUTLET_COUNTS


def test_a_browser_gets_the_page_readers_the_feed(service, tmp_path):
    from selenium.webdriver.common.by import By

    url = f"{service}/feeds/outlet/luwang.atom"
    with chromium(tmp_path / "chromium") as browser:
        browser.get(url)
        entries = browser.find_elements(By.CSS_SELECTOR, "article.entry")
        assert len(entries) == OUTLET_COUNTS["鲁网"]
        assert "This is a web feed" in browser.find_element(By.TAG_NAME, "body").text
        assert browser.execute_script("return document.contentType") == "text/html"
        assert not browser.execute_script("return document.querySelectorAll('xsl\\\\:stylesheet').length")
    # curl and feedparser get the feed itself, and a 304 when they send its tag.
    curl = subprocess.run(["curl", "-sS", "-D", "-", url], capture_output=True, timeout=30)
    head, _, body = curl.stdout.partition(b"\r\n\r\n")
    assert b"application/atom+xml" in head and len(parse_strict(body).entries) == OUTLET_COUNTS["鲁网"]
    etag = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n") if line.lower().startswith(b"etag:"))
    again = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", b"If-None-Match: " + etag,
                            url], capture_output=True, timeout=30)
    assert again.stdout == b"304"
    first = feedparser.parse(url)
    assert first.status == 200 and len(first.entries) == OUTLET_COUNTS["鲁网"]
    assert feedparser.parse(url, etag=first.etag).status == 304


PAGE = """<!doctype html><meta charset="utf-8"><title>reader</title><script src="/reader.js"></script>"""
SCRIPT = """
window.result = (async () => {
  const first = await fetch(%(url)r);
  const tag = first.headers.get("ETag");
  const again = await fetch(%(url)r, {headers: {"If-None-Match": tag}, cache: "no-store"});
  return {first: first.status, tag: tag, again: again.status, link: first.headers.get("Last-Modified")};
})().catch(e => ({error: String(e)}));
"""


def test_a_web_reader_on_another_origin_gets_the_304(service, tmp_path, httpserver):
    """Cross-origin with If-None-Match: a preflight, then the 304."""
    url = f"{service}/feeds/all.json"
    httpserver.expect_request("/").respond_with_response(Response(PAGE, content_type="text/html"))
    httpserver.expect_request("/reader.js").respond_with_response(
        Response(SCRIPT % {"url": url}, content_type="text/javascript"))
    with chromium(tmp_path / "chromium") as browser:
        browser.get(httpserver.url_for("/"))
        result = browser.execute_async_script("window.result.then(arguments[0])")
    assert result.get("error") is None, result
    assert result["first"] == 200 and result["tag"] and result["link"]
    assert result["again"] == 304
