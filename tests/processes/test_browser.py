"""A real browser (headless Chromium from Debian) on the index page and a
feed URL: visible text, and hostile item text that must not run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedsvc.snapshot import RECIPES_DIR
from tests.support.browser import chromium
from tests.support.processes import free_port, running, wait_for

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
    recipes = tmp_path / "feeds"
    recipes.mkdir()
    text = (RECIPES_DIR / "iqilu-shandong.toml").read_text(encoding="utf-8")
    (recipes / "iqilu-shandong.toml").write_text(text.replace("{snapshot}", snapshot.base_url), encoding="utf-8")
    env = {"FEEDSVC_INSTANCE_PATH": str(tmp_path / "instance"), "FEEDSVC_RECIPES_PATH": str(recipes),
           "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0"}
    subprocess.run([sys.executable, "-m", "feedsvc", "refresh"], env={**os.environ, **env}, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    with running(["serve", "--port", str(port)], env) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", proc=proc)
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
