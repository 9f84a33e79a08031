"""Served entry ids stay the same when a source re-publishes its links with
other tracking parameters, so readers never see an item twice."""

from __future__ import annotations

from werkzeug import Response

from tests.support.checks import parse_strict
from tests.support.stores import close, make_app, write_recipe

FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>频道</title>
<link>https://news.example.cn/</link><description>d</description>
<item><title>第一条</title><link>https://news.example.cn/a/1.html{q}</link></item>
<item><title>第二条</title><link>https://news.example.cn/a/2.html?id=7{amp}</link></item>
</channel></rss>"""


def entries(app, fmt: str) -> dict[str, str]:
    response = app.test_client().get(f"/feeds/all.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        return {i["title"]: (i["id"], i["url"]) for i in response.get_json()["items"]}
    return {e.title: (e.id, e.link) for e in parse_strict(response.data).entries}


def test_ids_survive_a_refetch_where_only_utm_parameters_changed(tmp_path, httpserver, database_url):
    served = {"body": FEED.format(q="?utm_source=rss", amp="&amp;utm_medium=feed")}
    httpserver.expect_request("/feed.xml").respond_with_handler(
        lambda request: Response(served["body"], content_type="application/rss+xml"))
    write_recipe(tmp_path / "feeds", httpserver.url_for("/feed.xml"))
    app = make_app(tmp_path, database_url)
    refresher = app.extensions["feedsvc"].refresher
    assert [(r.status, r.new) for r in refresher.refresh_many(["daily"])] == [("ok", 2)]
    before = {fmt: entries(app, fmt) for fmt in ("atom", "rss", "json")}

    served["body"] = FEED.format(q="?utm_source=newsletter&amp;utm_campaign=autumn", amp="&amp;utm_source=x")
    [report] = refresher.refresh_many(["daily"], force=True)
    assert (report.status, report.new) == ("ok", 0)
    after = {fmt: entries(app, fmt) for fmt in ("atom", "rss", "json")}
    assert after == before
    assert before["json"]["第一条"][1] == "https://news.example.cn/a/1.html"
    assert before["json"]["第二条"][1] == "https://news.example.cn/a/2.html?id=7"
    assert len({i for i, _ in before["atom"].values()}) == 2
    close(app)
