"""The SSRF guard: private, loopback and link-local addresses are refused
unless configuration allows them, after DNS and after every redirect."""

from __future__ import annotations

import ipaddress

import pytest
from werkzeug import Response

from tests.support.sites import Site, article_page

from tests.support.stores import refresher, settings
from feedsvc.app import create_app
from feedsvc.core.errors import FetchAddressRefused, FetchRefused
from feedsvc.fetch.page import fetch_page, make_client
from feedsvc.core.networks import parse_networks
from feedsvc.fetch.ssrf import describe, embedded_ipv4, is_permitted


@pytest.fixture
def site(httpserver):
    return Site(httpserver)


def _fetch(url: str, **overrides):
    s = settings(**overrides)
    with make_client(s) as client:
        return fetch_page(client, url, s)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "::1", "fe80::1", "fc00::1", "0.0.0.0", "::ffff:127.0.0.1", "100.64.0.1",
                                     "224.0.0.1"])
def test_non_public_addresses_are_not_permitted(address):
    assert not is_permitted(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_permitted(address):
    assert is_permitted(address)


# IPv6 forms that carry an IPv4 address the packets reach, each embedding
# a loopback, link-local (cloud metadata) or private one.
EMBEDDING_NON_PUBLIC = {
    "mapped": "::ffff:127.0.0.1",
    "mapped_metadata": "::ffff:169.254.169.254",
    "translated": "::ffff:0:7f00:1",
    "translated_private": "::ffff:0:a00:1",
    "compatible": "::7f00:1",
    "compatible_metadata": "::a9fe:a9fe",
    "nat64": "64:ff9b::a9fe:a9fe",
    "nat64_loopback": "64:ff9b::7f00:1",
    "nat64_local_use_96": "64:ff9b:1::a9fe:a9fe",
    "nat64_local_use_48": "64:ff9b:1:a9fe:a9:fe00::",  # 169.254.169.254 split around the u octet
    "nat64_local_use_64": "64:ff9b:1:0:a9:fea9:fe00:0",
    "sixtofour": "2002:7f00:1::",
    "sixtofour_private": "2002:c0a8:101::1",
    "teredo_client": "2001:0:4136:e378:8000:63bf:80ff:fffe",  # client ~0x80fffffe = 127.0.0.1
    "teredo_server": "2001:0:a00:1:8000:63bf:f7f7:f7f7",  # server 10.0.0.1, client 8.8.8.8
}


@pytest.mark.parametrize("form", sorted(EMBEDDING_NON_PUBLIC))
def test_ipv6_forms_are_judged_by_the_ipv4_they_embed(form):
    address = EMBEDDING_NON_PUBLIC[form]
    assert not is_permitted(address)
    assert not is_permitted(address, parse_networks("2000::/3, 64:ff9b::/32"))  # allowing the outer range is not enough
    assert "reaching" in describe(address)


@pytest.mark.parametrize("address", ["::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "::ffff:0:808:808",
                                     "2001:0:4136:e378:8000:63bf:f7f7:f7f7"])
def test_ipv6_forms_embedding_a_public_address_are_permitted(address):
    assert is_permitted(address)


def test_embedded_addresses():
    assert ipaddress.ip_address("169.254.169.254") in embedded_ipv4(ipaddress.ip_address("64:ff9b:1:a9fe:a9:fe00::"))
    assert embedded_ipv4(ipaddress.ip_address("2001:db8::1")) == ()
    assert embedded_ipv4(ipaddress.ip_address("::1")) == ()  # loopback itself, judged as ::1
    assert is_permitted("::ffff:127.0.0.1", parse_networks("127.0.0.0/8"))  # an allowed IPv4 stays allowed


def test_allow_list():
    allowed = parse_networks("127.0.0.0/8, ::1")
    assert is_permitted("127.0.0.5", allowed) and is_permitted("::1", allowed)
    assert not is_permitted("10.0.0.1", allowed)
    assert is_permitted(ipaddress.ip_address("10.0.0.5"), parse_networks(["10.0.0.5"]))
    with pytest.raises(ValueError):
        parse_networks("not-a-network")


def test_loopback_is_refused_by_default_and_never_contacted(site):
    site.page("/a", "secret")
    with pytest.raises(FetchAddressRefused, match="loopback"):
        _fetch(site.url("/a").replace("localhost", "127.0.0.1"), allowed_networks=())
    with pytest.raises(FetchAddressRefused):  # a name is judged by what it resolves to
        _fetch(site.url("/a"), allowed_networks=())
    assert site.seen == []


def test_redirect_to_a_refused_address(site):
    port = site.server.port
    site.routes["/hop"] = lambda _r: Response(status=302, headers={"Location": f"http://127.0.0.2:{port}/a"})
    with pytest.raises(FetchAddressRefused, match="127.0.0.2"):
        _fetch(f"http://127.0.0.1:{port}/hop", allowed_networks=parse_networks("127.0.0.1/32"))
    assert [s.path for s in site.seen] == ["/hop"]


def test_redirect_to_a_file_url_is_never_opened(site):
    site.routes["/hop"] = lambda _r: Response(status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(FetchRefused):
        _fetch(site.url("/hop"))


def test_refused_source_records_its_error(site, tmp_path):
    site.page("/a", article_page("内网"))
    r = refresher(tmp_path, f"""
id = "inside"
name = "Inside"
kind = "article_page"
start_urls = ["{site.url('/a')}"]
[article]
title = "h1"
""", allowed_networks=())
    report = r.refresh_source("inside")
    assert report.status == "error" and report.error_kind == "address_refused"
    assert "FEEDSVC_FETCH_ALLOWED_NETWORKS" in report.error and site.seen == []


def test_setting_reaches_the_fetcher(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDSVC_FETCH_ALLOWED_NETWORKS", "10.0.0.0/8")
    (tmp_path / "feeds").mkdir()
    app = create_app({"INSTANCE_PATH": str(tmp_path / "i"), "RECIPES_PATH": str(tmp_path / "feeds")})
    assert app.extensions["feedsvc"].refresher.fetch_settings.allowed_networks == parse_networks("10.0.0.0/8")
    monkeypatch.setenv("FEEDSVC_FETCH_ALLOWED_NETWORKS", "ten")
    with pytest.raises(ValueError, match="FEEDSVC_FETCH_ALLOWED_NETWORKS"):
        create_app({"INSTANCE_PATH": str(tmp_path / "i"), "RECIPES_PATH": str(tmp_path / "feeds")})
