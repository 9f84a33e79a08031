"""Whatever the query string, feeds answer 200, 304, 400 or 404; never 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsvc.app import create_app
from feedsvc.snapshot import RECIPES_DIR, SnapshotServer
from tests.support.checks import examples
from tests.support.stores import instance_folder

KEYS = st.sampled_from(["outlet", "source", "q", "exclude", "author", "since", "until", "limit", "before",
                        "convert", "x", "", "utm_source"])
VALUES = st.one_of(st.text(max_size=30), st.sampled_from(
    ["7d", "0h", "2019-10-23", "2019-10-23T08:00:00+08:00", "鲁网", "jiaodong-zaixian", "t2s", "1", "500",
     "-1", "%", "_", "\x00", "iqilu-shandong", "9999999999999999999999d", "MjAxOQ"]))
PATHS = st.sampled_from(["/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json", f"/feeds/outlet/luwang.atom",
                         "/feeds/outlet/luwang.json", "/feeds/source/iqilu-shandong.rss", "/feeds.opml"])


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with SnapshotServer() as snapshot:
        app = create_app({"INSTANCE_PATH": instance_folder(tmp_path_factory.mktemp("fuzz")), "RECIPES_PATH": str(RECIPES_DIR),
                          "RECIPE_VARIABLES": {"snapshot": snapshot.base_url},
                          "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FETCH_HOST_DELAY_SECONDS": 0})
        app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    yield app.test_client()


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=PATHS, params=st.lists(st.tuples(KEYS, VALUES), max_size=6))
def test_no_query_string_makes_a_500(client, path, params):
    response = client.get(path, query_string=params)
    assert response.status_code in (200, 304, 400, 404), (params, response.get_data(as_text=True))


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=80))
def test_raw_query_bytes(client, raw):
    response = client.get("/feeds/all.atom", environ_overrides={"QUERY_STRING": raw.decode("latin-1")})
    assert response.status_code in (200, 400), raw
