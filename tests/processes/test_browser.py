"""A real browser (headless Chromium from Debian) on the index page and a
feed URL: visible text, and hostile item text that must not run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.browser import chromium
from tests.support.processes import served_demo

pytestmark = pytest.mark.slow
HOSTILE = '&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror="window.__pwned=2"&gt;'
SCREENSHOTS = Path(os.environ.get("FEEDSVC_SCREENSHOT_DIR", "")) if os.environ.get("FEEDSVC_SCREENSHOT_DIR") else None


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "chromium") as driver:
        yield driver


@pytest.fixture
def service(tmp_path, site_dir, snapshot):
    page = site_dir / "shandong/yaowen/2019/1023/4371235.shtml"
    html = page.read_text(encoding="utf-8")
    page.write_text(html.replace('<h1 class="article-title">', f'<h1 class="article-title">{HOSTILE}', 1),
                    encoding="utf-8")
    with served_demo(tmp_path, snapshot.base_url) as base:
        yield base


def _save(driver, name: str, tmp_path: Path) -> Path:
    target = (SCREENSHOTS or tmp_path) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(target))
    assert target.stat().st_size > 10_000  # a real picture, not an empty page
    return target


def test_index_and_feed_in_a_browser(browser, service, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(f"{service}/")
    text = browser.find_element(By.TAG_NAME, "body").text
    for outlet in ("胶东在线", "鲁网", "中国山东网", "新华网", "大众日报"):
        assert outlet in text
    assert "烟台开发区扬帆八角湾 建功新时代" in text
    assert "<script>window.__pwned=1</script>" in text  # shown as text...
    assert browser.execute_script("return window.__pwned") is None  # ...never run
    _save(browser, "index.png", tmp_path)

    browser.get(f"{service}/feeds/all.atom")
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "This is a web feed" in text and "90后戒毒警察生前的最后一句话" in text
    assert f"{service}/feeds/all.atom" in text
    assert browser.execute_script("return window.__pwned") is None
    _save(browser, "feed.png", tmp_path)

    browser.get(f"{service}/feeds/outlet/jiaodong-zaixian.rss")
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "烟台开发区扬帆八角湾 建功新时代" in text and "鲁网" not in text.split("subscribe")[-1]
