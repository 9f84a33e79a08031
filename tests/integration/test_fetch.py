"""The fetcher against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from werkzeug import Response

from feedsvc.core.errors import FetchConnectError, FetchHTTPStatus, FetchRefused, FetchTimeout, FetchTooLarge
from feedsvc.fetch.page import FetchSettings, fetch_page, make_client
from feedsvc.core.networks import parse_networks
from feedsvc.fetch.ssrf import LOOPBACK_NETWORKS
from tests.support.sites import Site, article_page
from tests.support.stores import refresher

LOOPBACK = parse_networks(LOOPBACK_NETWORKS)


@pytest.fixture
def settings():
    return FetchSettings(timeout_seconds=2, connect_timeout_seconds=1, max_bytes=4096, allowed_networks=LOOPBACK)


@pytest.fixture
def client(settings):
    with make_client(settings) as c:
        yield c


def test_body_headers_and_user_agent(httpserver, client, settings):
    httpserver.expect_request("/a", headers={"User-Agent": settings.user_agent}).respond_with_data(
        "<p>好</p>".encode("gbk"), content_type="text/html; charset=GBK")
    page = fetch_page(client, httpserver.url_for("/a"), settings)
    assert page.status == 200 and page.charset == "GBK" and page.content == "<p>好</p>".encode("gbk")
    assert "feedsvc" in settings.user_agent


def test_redirects_record_the_final_url(httpserver, client, settings):
    httpserver.expect_request("/old").respond_with_response(Response(status=301, headers={"Location": "/new"}))
    httpserver.expect_request("/new").respond_with_data("ok")
    page = fetch_page(client, httpserver.url_for("/old"), settings)
    assert page.final_url == httpserver.url_for("/new") and page.content == b"ok"


def test_redirect_loop_is_refused(httpserver, client, settings):
    httpserver.expect_request("/loop").respond_with_response(Response(status=302, headers={"Location": "/loop"}))
    with pytest.raises(FetchRefused, match="redirects"):
        fetch_page(client, httpserver.url_for("/loop"), settings)


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_error_status(httpserver, client, settings, status):
    httpserver.expect_request("/x").respond_with_data("no", status=status)
    with pytest.raises(FetchHTTPStatus) as caught:
        fetch_page(client, httpserver.url_for("/x"), settings)
    assert caught.value.status == status and str(status) in str(caught.value)


def test_body_over_the_cap(httpserver, client, settings):
    httpserver.expect_request("/big").respond_with_data(b"x" * 10_000)
    with pytest.raises(FetchTooLarge):
        fetch_page(client, httpserver.url_for("/big"), settings)


def test_streamed_body_over_the_cap(httpserver, client, settings):
    def chunks():
        for _ in range(100):
            yield b"y" * 1000

    httpserver.expect_request("/stream").respond_with_response(Response(chunks(), mimetype="text/html"))
    with pytest.raises(FetchTooLarge):
        fetch_page(client, httpserver.url_for("/stream"), settings)


def test_slow_server_times_out(httpserver, client, settings):
    done = threading.Event()

    def slow(_request):
        done.wait(5)  # answers once the test is over: the server serves one request at a time
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    started = time.monotonic()
    try:
        with pytest.raises(FetchTimeout):
            fetch_page(client, httpserver.url_for("/slow"), dataclasses.replace(settings, timeout_seconds=0.2))
        assert time.monotonic() - started < 1.0
    finally:
        done.set()


def test_closed_port(client, settings):
    with pytest.raises(FetchConnectError):
        fetch_page(client, "http://127.0.0.1:9/", settings)


def test_clients_share_one_verifying_tls_context(settings):
    # A context reads the whole CA bundle, every refresher makes a client,
    # and each client used to make two contexts of its own.
    import ssl

    from feedsvc.fetch.proxying import ProxyTransport

    transports = [make_client(settings)._transport, make_client(settings)._transport,
                  ProxyTransport("http://127.0.0.1:9")]
    contexts = {id(transport._pool._ssl_context): transport._pool._ssl_context for transport in transports}
    assert len(contexts) == 1
    (context,) = contexts.values()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_non_http_urls_are_never_opened(client, settings):
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/"):
        with pytest.raises(FetchRefused):
            fetch_page(client, url, settings)


GBK_TEXT = "来源:大众日报 作者:刘一颖 “友城+” 镕"  # 镕 is in GBK but not GB2312


def test_gbk_article_over_http(httpserver, tmp_path):
    """A GBK page that declares gb2312, fetched and parsed end to end."""
    site = Site(httpserver)
    html = article_page(f"标题{GBK_TEXT}").replace('<meta charset="utf-8">', '<meta charset="gb2312">')
    site.page("/gbk", html.encode("gbk"), content_type="text/html")
    r = refresher(tmp_path, f'id = "g"\nname = "G"\nkind = "article_page"\nstart_urls = ["{site.url("/gbk")}"]\n'
                            '[article]\ntitle = "h1"\n')
    assert r.refresh_source("g").status == "ok"
    assert r.store.query_items()[0].title == f"标题{GBK_TEXT}"
