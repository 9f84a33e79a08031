"""render = "browser": pages built by JavaScript, rendered by the system's
headless Chromium with the SSRF guard on every request the page makes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from werkzeug import Response

from feedsvc.fetch.browser import CHROMEDRIVER, CHROMIUM
from feedsvc.core.errors import FetchRefused, RecipeError
from feedsvc.core.networks import parse_networks
from feedsvc.sources.recipes import parse_recipe
from tests.support.sites import Site
from tests.support.stores import refresher
from tests.support.sites import LoggingListener

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _chromium():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
        pytest.skip("chromium and chromium-driver are not installed")


ARTICLE = ('<h1 class="title">{title}</h1><span class="time">2019-10-23 08:00:00</span>'
           '<div class="body"><p>正文第一段，足够长的一段文字，用来做摘要，说明这篇文章讲了什么。</p></div>'
           '<ul class="related">{related}</ul>')
RELATED = [("/r/1.html", "相关新闻一"), ("/r/2.html", "相关新闻二"), ("/r/3.html", "相关新闻三")]


def _static_page(canonical: str) -> str:
    related = "".join(f'<li><a href="{href}">{title}</a></li>' for href, title in RELATED)
    return (f'<html><head><meta charset="utf-8"><link rel="canonical" href="{canonical}"></head><body>'
            + ARTICLE.format(title="用脚本生成的文章", related=related) + "</body></html>")


def _script_page(canonical: str, extra: str = "") -> str:
    """The same article, but the body arrives empty and scripts build it:
    the headline at once, the related list from a JSON request."""
    return f"""<html><head><meta charset="utf-8"><link rel="canonical" href="{canonical}"></head><body>
<div id="app"></div>{extra}
<script>
document.getElementById("app").innerHTML = {ARTICLE.format(title="用脚本生成的文章", related="")!r};
fetch("/related.json").then(r => r.json()).then(items => {{
  const list = document.querySelector("ul.related");
  for (const [href, title] of items) {{
    const li = document.createElement("li"); const a = document.createElement("a");
    a.href = href; a.textContent = title; li.appendChild(a); list.appendChild(li);
  }}
}});
</script></body></html>"""


def _recipe(url: str, source_id: str, render: str = "browser") -> str:
    return f"""
id = "{source_id}"
name = "Scripted"
kind = "article_page"
start_urls = ["{url}"]
render = "{render}"
[article]
title = "h1.title"
published = ".time"
body = ".body"
[related]
item = "ul.related li"
title = "a"
"""


@pytest.fixture
def site(httpserver):
    site = Site(httpserver)
    site.page("/related.json", __import__("json").dumps(RELATED), content_type="application/json")
    return site


def _items(r):
    return sorted((i.title, i.url.rsplit("/", 2)[-2:][-1], i.summary) for i in r.store.query_items(limit=100))


def test_a_page_built_by_scripts_yields_the_items_of_its_static_twin(site, tmp_path):
    site.page("/static.html", _static_page("http://news.test/a.html"))
    site.page("/scripted.html", _script_page("http://news.test/a.html"))
    static = refresher(tmp_path / "static", _recipe(site.url("/static.html"), "static", render="html"))
    scripted = refresher(tmp_path / "scripted", _recipe(site.url("/scripted.html"), "scripted"))
    try:
        assert static.refresh_source("static").status == "ok"
        as_html = refresher(tmp_path / "html", _recipe(site.url("/scripted.html"), "plain", render="html"))
        assert as_html.refresh_source("plain").error_kind == "recipe_mismatch"  # read as served: nothing there
        as_html.close()
        report = scripted.refresh_source("scripted")
        assert report.status == "ok", report
        assert _items(scripted) == _items(static) and len(_items(static)) == 4
    finally:
        static.close()
        scripted.close()


def test_requests_to_other_addresses_and_files_are_blocked(site, tmp_path):
    with LoggingListener("127.0.0.2") as listener:
        leaks = (f'<script src="{listener.url("/evil.js")}"></script>'
                 f'<img src="{listener.url("/pixel.png")}">'
                 f'<iframe src="file:///etc/hostname"></iframe>'
                 f'<script>fetch("{listener.url("/beacon")}", {{method: "POST", body: "x"}}).catch(() => 0);'
                 f'fetch("file:///etc/hostname").then(r => r.text()).then(t => document.body.append(t)).catch(() => 0);'
                 f'new Image().src = "{listener.url("/late.png")}";</script>')
        site.page("/leaky.html", _script_page("http://news.test/b.html", extra=leaks))
        r = refresher(tmp_path, _recipe(site.url("/leaky.html"), "leaky"),
                      allowed_networks=parse_networks("127.0.0.1/32"))
        try:
            report = r.refresh_source("leaky")
            assert report.status == "ok", report
            assert len(r.store.query_items(limit=100)) == 4  # the page itself renders
            time.sleep(0.5)
            assert listener.requests == []
            guard = r.recipe_fetcher._browser.guard
            assert any("127.0.0.2" in refused for refused in guard.refused)
            hostname = open("/etc/hostname", encoding="utf-8").read().strip()
            rendered = r.recipe_fetcher._browser.render(site.url("/leaky.html")).content.decode()
            assert "用脚本生成的文章" in rendered and hostname not in rendered
            with pytest.raises(FetchRefused):
                r.recipe_fetcher._browser.render("file:///etc/hostname")
        finally:
            r.close()


def test_a_page_that_never_finishes_loading_is_cut_at_the_time_limit(site, tmp_path):
    def never(_request):
        time.sleep(8)
        return Response(b"", content_type="image/png")

    site.routes["/forever.png"] = never
    site.page("/slow.html", _script_page("http://news.test/c.html", extra='<img src="/forever.png">'))
    r = refresher(tmp_path, _recipe(site.url("/slow.html"), "slow"), timeout_seconds=3)
    try:
        started = time.monotonic()
        report = r.refresh_source("slow")
        took = time.monotonic() - started
        assert took < 3 + 4, took  # the limit, browser start-up and the settling wait
        assert report.status == "ok" and any(i.title == "用脚本生成的文章" for i in r.store.query_items())
    finally:
        r.close()


def test_a_browser_recipe_without_the_extra_is_refused_naming_it(tmp_path):
    text = _recipe("http://127.0.0.1:1/a.html", "needs")
    assert parse_recipe(text, "needs.toml").render == "browser"
    # A process where Selenium is not installed.
    code = ("import sys; sys.modules['selenium'] = None\n"
            "from feedsvc.sources.recipes import parse_recipe\n"
            f"parse_recipe({text!r}, 'needs.toml')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "needs.toml: render: " in result.stderr or "needs.toml: (recipe)" in result.stderr
    assert 'pip install "feedsvc[browser]"' in result.stderr


def test_a_browser_recipe_takes_no_proxy():
    text = _recipe("http://127.0.0.1:1/a.html", "p") + '\n[request]\nproxy = "http://127.0.0.1:3128"\n'
    with pytest.raises(RecipeError, match="does not take request.proxy"):
        parse_recipe(text, "p.toml")
