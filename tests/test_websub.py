"""WebSub: feeds name the hub, and a refresh that changed feeds pings it."""

from __future__ import annotations

from urllib.parse import parse_qs

from werkzeug import Response

from conftest import parse_strict
from feedsvc.app import create_app
from feedsvc.snapshot import RECIPES_DIR


def test_hub_link_and_publish_ping(tmp_path, snapshot, httpserver):
    pings = []

    def hub(request):
        pings.append(parse_qs(request.get_data(as_text=True)))
        return Response(status=204)

    httpserver.expect_request("/hub", method="POST").respond_with_handler(hub)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "RECIPES_PATH": str(RECIPES_DIR),
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
    # Outlets by slug, the URL their feeds give as self.
    assert "https://feeds.example.org/feeds/outlet/jiaodong-zaixian.rss" in topics
    assert not any("%" in topic for topic in topics)
    assert "https://feeds.example.org/feeds/source/iqilu-shandong.json" in topics
    refresher.refresh_many(["iqilu-shandong"])
    assert len(pings) == 1  # nothing changed: no ping
    feed = parse_strict(app.test_client().get("/feeds/all.atom").data)
    assert {l.href for l in feed.feed.links if l.rel == "hub"} == {httpserver.url_for("/hub")}
    rss = parse_strict(app.test_client().get("/feeds/all.rss").data)
    assert {l.href for l in rss.feed.links if l.rel == "hub"} == {httpserver.url_for("/hub")}
