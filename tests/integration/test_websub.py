"""WebSub: feeds name the hub, and a refresh that changed feeds pings it."""

from __future__ import annotations

from urllib.parse import parse_qs, quote

from werkzeug import Response

from tests.support.checks import parse_strict
from feedsvc.app import create_app
from feedsvc.snapshot import RECIPES_DIR
from tests.support.stores import instance_folder


def test_hub_link_and_publish_ping(tmp_path, snapshot, httpserver):
    pings = []

    def hub(request):
        pings.append(parse_qs(request.get_data(as_text=True)))
        return Response(status=204)

    httpserver.expect_request("/hub", method="POST").respond_with_handler(hub)
    app = create_app({"INSTANCE_PATH": instance_folder(tmp_path), "RECIPES_PATH": str(RECIPES_DIR),
                      "RECIPE_VARIABLES": {"snapshot": snapshot.base_url},
                      "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FETCH_HOST_DELAY_SECONDS": 0,
                      "WEBSUB_HUB": httpserver.url_for("/hub"), "BASE_URL": "https://feeds.example.org"})
    refresher = app.extensions["feedsvc"].refresher
    refresher.refresh_many(["iqilu-shandong"])
    assert len(pings) == 1
    [ping] = pings
    assert ping["hub.mode"] == ["publish"]
    topics = set(ping["hub.url"])
    assert "https://feeds.example.org/feeds/all.atom" in topics
    # Canonical URLs only, by slug: the name URL redirects, so no subscriber holds it.
    assert "https://feeds.example.org/feeds/outlet/jiaodong-zaixian.rss" in topics
    assert not any("%" in topic for topic in topics)
    assert "https://feeds.example.org/feeds/source/iqilu-shandong.json" in topics
    refresher.refresh_many(["iqilu-shandong"])
    assert len(pings) == 1  # nothing changed: no ping
    feed = parse_strict(app.test_client().get("/feeds/all.atom").data)
    assert {l.href for l in feed.feed.links if l.rel == "hub"} == {httpserver.url_for("/hub")}
    rss = parse_strict(app.test_client().get("/feeds/all.rss").data)
    assert {l.href for l in rss.feed.links if l.rel == "hub"} == {httpserver.url_for("/hub")}


def _hub(httpserver, pings: list) -> str:
    def hub(request):
        pings.append(parse_qs(request.get_data(as_text=True)))
        return Response(status=204)

    httpserver.expect_request("/hub", method="POST").respond_with_handler(hub)
    return httpserver.url_for("/hub")


def test_pings_name_the_aliased_outlets_canonical_feed(tmp_path, snapshot, site_dir, httpserver):
    """An item whose page says 大众网, with the alias 大众网 → 大众日报: the
    大众日报 feed changed, at its slug URL, and that is what the hub hears
    and what the feed calls itself."""
    page = site_dir / "shandong/yaowen/2019/1023/4371235.shtml"
    html = page.read_text(encoding="utf-8")
    page.write_text(html.replace('<span class="outlet">大众日报</span>', '<span class="outlet">大众网</span>', 1),
                    encoding="utf-8")
    pings: list = []
    app = create_app({"INSTANCE_PATH": instance_folder(tmp_path), "RECIPES_PATH": str(RECIPES_DIR),
                      "RECIPE_VARIABLES": {"snapshot": snapshot.base_url}, "OUTLET_ALIASES": {"大众网": "大众日报"},
                      "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FETCH_HOST_DELAY_SECONDS": 0,
                      "WEBSUB_HUB": _hub(httpserver, pings), "BASE_URL": "https://feeds.example.org"})
    app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    topics = set(pings[0]["hub.url"])
    for fmt in ("atom", "rss", "json"):
        assert f"https://feeds.example.org/feeds/outlet/dazhong-ribao.{fmt}" in topics
    assert not any(quote("大众网") in topic or quote("大众日报") in topic for topic in topics)
    # The topic is the URL the feed names as itself, whichever URL a reader came by.
    client = app.test_client()
    for path in (f"/feeds/outlet/{quote('大众网')}.atom", f"/feeds/outlet/{quote('大众日报')}.atom",
                 "/feeds/outlet/dazhong-ribao.atom"):
        feed = parse_strict(client.get(path, base_url="https://feeds.example.org", follow_redirects=True).data)
        assert {l.href for l in feed.feed.links if l.rel == "self"} <= topics


def test_export_names_the_hub_only_when_it_pings_it(tmp_path, snapshot, httpserver):
    from feedsvc.cli.exporter import export_feeds

    pings: list = []
    settings = {"INSTANCE_PATH": instance_folder(tmp_path / "i"), "RECIPES_PATH": str(RECIPES_DIR),
                "RECIPE_VARIABLES": {"snapshot": snapshot.base_url}, "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
                "FETCH_HOST_DELAY_SECONDS": 0, "WEBSUB_HUB": _hub(httpserver, pings)}
    app = create_app(settings)
    app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    pings.clear()  # the refresh's own ping (no BASE_URL: none)
    export_feeds(app, tmp_path / "quiet", "https://static.example.org")
    feed = parse_strict((tmp_path / "quiet" / "feeds/all.atom").read_bytes())
    assert not [l for l in feed.feed.links if l.rel == "hub"] and pings == []
    pinged = create_app({**settings, "WEBSUB_EXPORT_BASE_URL": "https://static.example.org"})
    result = export_feeds(pinged, tmp_path / "pinged", "https://static.example.org")
    feed = parse_strict((tmp_path / "pinged" / "feeds/all.atom").read_bytes())
    assert [l.href for l in feed.feed.links if l.rel == "hub"] == [httpserver.url_for("/hub")]
    assert result.pinged and "https://static.example.org/feeds/all.atom" in pings[0]["hub.url"]
    assert "https://static.example.org/feeds/outlet/jiaodong-zaixian.atom" in pings[0]["hub.url"]
