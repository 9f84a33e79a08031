"""A recipe's [request]: headers, cookies, user agent and proxy for sites
behind a login, secrets filled from FEEDSVC_RECIPE_VARIABLES and never
shown, and a logged-out answer recorded as an `auth` error."""

from __future__ import annotations

import http.client
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from werkzeug import Response

from feedsvc.app import create_app
from feedsvc.core.errors import RecipeError
from feedsvc.fetch.proxying import environment_proxy
from feedsvc.sources.recipes import parse_recipe
from tests.support.sites import Site, article_page, listing_page, listing_recipe
from tests.support.stores import sqlite_store

COOKIE = "sess-7f3a9c1e55d04b2e"
API_KEY = "key-0d9e8f7a6b5c"
PROXY_PASSWORD = "pw-4242abcd"


class StubProxy:
    """A plain HTTP forward proxy on loopback that logs every request it
    is asked to make (absolute URLs) and forwards it."""

    def __init__(self):
        self.seen: list[str] = []
        self.auth: list[str | None] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                proxy.seen.append(self.path)
                proxy.auth.append(self.headers.get("Proxy-Authorization"))
                target = urlsplit(self.path)
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=5)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization",
                                                                                      "proxy-connection")}
                conn.request("GET", target.path + (f"?{target.query}" if target.query else ""), headers=headers)
                answer = conn.getresponse()
                body = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                conn.close()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def site(httpserver):
    return Site(httpserver)


def _members_only(site) -> None:
    """Pages only a logged-in reader with the API key gets; others are sent
    to the login page."""

    def guarded(body: str):
        def answer(request):
            if request.cookies.get("sid") != COOKIE or request.headers.get("X-Api-Key") != API_KEY:
                return Response("", status=302, headers={"Location": "/login?next=" + request.path})
            return Response(body, content_type="text/html; charset=utf-8")
        return answer

    site.routes["/list"] = guarded(listing_page(("/a/0.html", "会员新闻", "2019-10-23"),
                                                ("/a/1.html", "会员快讯", "2019-10-23")))
    site.routes["/a/0.html"] = guarded(article_page("会员新闻"))
    site.routes["/a/1.html"] = guarded(article_page("会员快讯"))
    site.page("/login", '<html><body><form id="login"><input name="user"></form></body></html>')


REQUEST = """
[request]
headers = {{ "X-Api-Key" = "{{api_key}}" }}
cookies = {{ sid = "{{session}}" }}
user_agent = "Mozilla/5.0 (feedsvc test)"
logged_out = "{logged_out}"
{extra}
"""


def _app(tmp_path, site, variables: dict, extra: str = "", settings: dict | None = None,
         logged_out: str = "/login"):
    folder = tmp_path / "recipes"
    folder.mkdir(exist_ok=True)
    recipe = listing_recipe("{site}/list") + REQUEST.format(extra=extra, logged_out=logged_out)
    (folder / "news.toml").write_text(recipe, encoding="utf-8")
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "RECIPES_PATH": str(folder),
                       "DATABASE_URL": sqlite_store(tmp_path / "store.sqlite3"), "TESTING": True,
                       "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FETCH_HOST_DELAY_SECONDS": 0,
                       "CACHE_CHECK_INTERVAL_SECONDS": 0, "FETCH_TIMEOUT_SECONDS": 5,
                       "RECIPE_VARIABLES": {"site": site.url("").rstrip("/"), **variables}, **(settings or {})})


def _close(app) -> None:
    app.extensions["feedsvc"].refresher.close()
    app.extensions["feedsvc"].store.engine.dispose()


def _shown(app) -> str:
    """Everything the service shows about its sources."""
    client = app.test_client()
    return "\n".join(client.get(path).get_data(as_text=True) for path in ("/api/sources", "/", "/healthz"))


def test_a_site_behind_a_cookie_and_a_header_serves_its_items(site, tmp_path, caplog):
    _members_only(site)
    app = _app(tmp_path, site, {"session": COOKIE, "api_key": API_KEY})
    caplog.set_level(logging.DEBUG)
    report = app.extensions["feedsvc"].refresher.refresh_source("news")
    assert (report.status, report.new) == ("ok", 2), report
    assert {i.title for i in app.extensions["feedsvc"].store.query_items()} == {"会员新闻", "会员快讯"}
    seen = site.hits("/a/0.html")[0].headers
    assert seen["User-Agent"] == "Mozilla/5.0 (feedsvc test)" and seen["X-Api-Key"] == API_KEY
    assert not site.hits("/robots.txt")[0].headers.get("Cookie")  # credentials go to the recipe's pages only
    shown = _shown(app)
    assert "{session}" in json.dumps(app.extensions["feedsvc"].recipes["news"].model_dump(), ensure_ascii=False)
    for secret in (COOKIE, API_KEY):
        assert secret not in shown and secret not in caplog.text
    _close(app)


def test_an_expired_cookie_is_an_auth_error_and_stores_nothing(site, tmp_path, caplog):
    _members_only(site)
    app = _app(tmp_path, site, {"session": COOKIE, "api_key": API_KEY})
    app.extensions["feedsvc"].refresher.refresh_source("news")
    _close(app)
    site.routes["/list"] = lambda request: Response("", status=302, headers={"Location": "/login?expired=1"}) \
        if request.cookies.get("sid") != "sess-new" else Response(listing_page(("/a/9.html", "新的", "2019-10-24")))
    app = _app(tmp_path, site, {"session": COOKIE, "api_key": API_KEY})
    caplog.set_level(logging.DEBUG)
    store = app.extensions["feedsvc"].store
    before = store.query_items()
    report = app.extensions["feedsvc"].refresher.refresh_source("news", force=True)
    assert (report.status, report.error_kind) == ("error", "auth")
    assert "not logged in: redirected to the login page" in report.error
    assert store.query_items() == before
    state = store.source_state("news")
    assert state.last_error_kind == "auth" and COOKIE not in state.last_error
    shown = _shown(app)
    assert "renew the recipe&#39;s cookies" in shown or "renew the recipe's cookies" in shown
    assert COOKIE not in shown and COOKIE not in caplog.text
    _close(app)


def test_a_logged_out_marker_or_a_403_is_an_auth_error(site, tmp_path):
    site.page("/list", '<html><body><div class="login-box">请登录</div></body></html>')
    app = _app(tmp_path, site, {"session": COOKIE, "api_key": API_KEY}, logged_out=".login-box")
    refresher = app.extensions["feedsvc"].refresher
    report = refresher.refresh_source("news")
    assert report.error_kind == "auth" and "'.login-box'" in report.error
    site.page("/list", "denied", status=403)
    report = refresher.refresh_source("news", force=True)
    assert report.error_kind == "auth" and "HTTP 403" in report.error and COOKIE not in report.error
    assert app.extensions["feedsvc"].store.query_items() == []
    _close(app)


def test_a_proxy_the_recipe_names_sees_the_requests(site, tmp_path, caplog):
    _members_only(site)
    with StubProxy() as proxy:
        app = _app(tmp_path, site, {"session": COOKIE, "api_key": API_KEY, "proxy_password": PROXY_PASSWORD},
                   extra=f'proxy = "http://reader:{{proxy_password}}@127.0.0.1:{proxy.url.rsplit(":", 1)[1]}"')
        caplog.set_level(logging.DEBUG)
        report = app.extensions["feedsvc"].refresher.refresh_source("news")
        assert (report.status, report.new) == ("ok", 2), report
        assert {urlsplit(u).path for u in proxy.seen} >= {"/list", "/a/0.html", "/a/1.html"}
        assert all(a and a.startswith("Basic ") for a in proxy.auth)
        assert PROXY_PASSWORD not in _shown(app) and PROXY_PASSWORD not in caplog.text
        _close(app)


def test_a_proxy_that_is_down_is_an_error_without_its_password(site, tmp_path, caplog):
    _members_only(site)
    app = _app(tmp_path, site, {"session": COOKIE, "api_key": API_KEY, "proxy_password": PROXY_PASSWORD},
               extra='proxy = "http://reader:{proxy_password}@127.0.0.1:1"')
    caplog.set_level(logging.DEBUG)
    report = app.extensions["feedsvc"].refresher.refresh_source("news")
    assert report.error_kind == "connect"
    state = app.extensions["feedsvc"].store.source_state("news")
    for text in (report.error, state.last_error, _shown(app), caplog.text):
        assert PROXY_PASSWORD not in text and COOKIE not in text
    _close(app)


def test_the_ssrf_guard_checks_targets_through_a_proxy(site, tmp_path):
    _members_only(site)
    with StubProxy() as proxy:
        app = _app(tmp_path, site, {"session": COOKIE, "api_key": API_KEY}, extra=f'proxy = "{proxy.url}"',
                   settings={"FETCH_ALLOWED_NETWORKS": "127.0.0.2/32"})
        report = app.extensions["feedsvc"].refresher.refresh_source("news")
        assert report.error_kind == "address_refused" and "127.0.0.1" in report.error
        assert proxy.seen == []  # refused before anything was sent
        _close(app)


def test_environment_proxies_only_when_allowed(site, tmp_path, monkeypatch):
    _members_only(site)
    with StubProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        app = _app(tmp_path, site, {"session": COOKIE, "api_key": API_KEY})
        assert app.extensions["feedsvc"].refresher.refresh_source("news").status == "ok"
        assert proxy.seen == []  # off by default: loopback sources stay direct
        _close(app)
        app = _app(tmp_path, site, {"session": COOKIE, "api_key": API_KEY},
                   settings={"FETCH_PROXY_FROM_ENVIRONMENT": True})
        assert app.extensions["feedsvc"].refresher.refresh_source("news", force=True).status == "ok"
        assert any(urlsplit(u).path == "/list" for u in proxy.seen)
        _close(app)
    monkeypatch.setenv("NO_PROXY", "example.org")
    assert environment_proxy("http://www.example.org/a") is None
    assert environment_proxy("http://news.example.com/a") == proxy.url


@pytest.mark.parametrize(("table", "key", "reason"), [
    ('cookies = { sid = "{nosuch}" }', "request", "placeholder {nosuch} has no value"),
    ('headers = { "Bad Name" = "x" }', "request.headers", "not a header name"),
    ('headers = { Host = "x" }', "request.headers", "set by feedsvc"),
    ('proxy = "socks5://127.0.0.1:1080"', "request.proxy", "http:// or https://"),
    ('logged_out = "div[[["', "request.logged_out", "neither a URL prefix nor a CSS selector"),
    ('headers = { "X-A" = "{v}" }', "request", "line break"),
])
def test_bad_request_options_are_refused_by_key(table, key, reason):
    text = listing_recipe("http://127.0.0.1:1/list") + f"\n[request]\n{table}\n"
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, "r.toml", {"v": "a\r\nX-Injected: 1"})
    assert caught.value.key == key and reason in caught.value.reason
    assert "X-Injected" not in str(caught.value)


# -- every page a recipe reads: full text for feeds, automatic recipes ---------

def _members_page(site, path: str, body: str, content_type: str = "text/html; charset=utf-8") -> None:
    """A page with an ETag that only a reader with the cookie and the key
    gets; anyone else is sent to the login page."""
    from tests.support.sites import etag_page

    etag_page(site, path, body, content_type)
    open_answer = site.routes[path]
    site.routes[path] = lambda request: open_answer(request) \
        if request.cookies.get("sid") == COOKIE and request.headers.get("X-Api-Key") == API_KEY \
        else Response("", status=302, headers={"Location": "/login"})


def _members_rss(site) -> str:
    entries = "".join(f"<item><title>订阅条目{n}</title><link>{site.url(f'/p/{n}.html')}</link>"
                      f"<description>订阅源自己的摘要{n}</description></item>" for n in (1, 2))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>示例订阅</title>'
            f'<link>{site.url("/")}</link><description>订阅</description>{entries}</channel></rss>')


def _credentialed(kind: str, start_url: str, extra: str = "") -> str:
    return (f'id = "{kind}"\nname = "{kind}"\nkind = "{kind}"\nstart_urls = ["{start_url}"]\n{extra}\n'
            f'[request]\nheaders = {{ "X-Api-Key" = "{API_KEY}" }}\ncookies = {{ sid = "{COOKIE}" }}\n'
            f'logged_out = "/login"\n')


def test_full_text_and_auto_pages_carry_the_recipes_credentials(site, tmp_path):
    from tests.support.sites import sent_validators
    from tests.support.stores import refresher
    from tests.support.portal import STORIES, article_html

    site.page("/login", '<html><body><form id="login"></form></body></html>')
    _members_page(site, "/feed.xml", _members_rss(site), "application/rss+xml; charset=utf-8")
    for n in (1, 2):
        _members_page(site, f"/p/{n}.html", article_html(STORIES[n - 1]))
    _members_page(site, "/story.html", article_html(STORIES[2]))
    r = refresher(tmp_path, _credentialed("feed", site.url("/feed.xml"), "full_text = true"),
                  _credentialed("auto", site.url("/story.html")))
    try:
        assert r.refresh_source("feed").status == "ok"
        assert r.refresh_source("auto").status == "ok"
        bodies = {item.url: item.body_html for item in r.store.query_items(None)}
        for n in (1, 2):  # each entry's own page, read with the login
            assert STORIES[n - 1].title in bodies[site.url(f"/p/{n}.html")]
        assert STORIES[2].title in bodies[site.url("/story.html")]
        # A forced refresh sends no validators, and still the credentials.
        assert r.refresh_source("feed", force=True).status == "ok"
        pages = [s for s in site.seen if s.path not in ("/robots.txt", "/login")]
        assert {s.path for s in pages} == {"/feed.xml", "/p/1.html", "/p/2.html", "/story.html"}
        for seen in pages:
            assert seen.headers.get("X-Api-Key") == API_KEY and f"sid={COOKIE}" in seen.headers.get("Cookie", "")
        forced = [s for s in site.hits("/p/1.html")][1:]
        assert forced and not any(sent_validators(s) for s in forced)
    finally:
        r.close()


def test_a_full_text_page_asking_for_a_login_is_an_auth_error(site, tmp_path):
    from tests.support.stores import refresher

    site.page("/feed.xml", _members_rss(site), "application/rss+xml; charset=utf-8")  # the feed is public
    site.page("/login", '<html><body><form id="login"></form></body></html>')
    for n in (1, 2):
        site.routes[f"/p/{n}.html"] = lambda request: Response("", status=302, headers={"Location": "/login"})
    r = refresher(tmp_path, _credentialed("feed", site.url("/feed.xml"), "full_text = true"))
    try:
        report = r.refresh_source("feed")
        # The login has expired: every page would fail the same way, so
        # nothing is stored rather than the feed's short copies.
        assert (report.status, report.error_kind) == ("error", "auth"), report
        assert "redirected to the login page" in report.error and COOKIE not in report.error
        assert r.store.count_items() == 0
    finally:
        r.close()
