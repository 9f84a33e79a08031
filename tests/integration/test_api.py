"""The JSON API on the snapshot's 11 items, on SQLite and PostgreSQL.
Every response a test receives is checked against the OpenAPI document's
schema for its operation and status, so document and code cannot drift."""

from __future__ import annotations

import copy
import gzip
from datetime import datetime
from urllib.parse import quote, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, event, settings
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate as validate_spec
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from feedsvc.app import create_app
from feedsvc.snapshot import RECIPES_DIR, SnapshotServer
from feedsvc.web.openapi import DOCUMENT
from tests.support.checks import examples
from tests.support.stores import instance_folder

ALL = 11
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value) -> bool:
    # jsonschema checks date-time only when an optional package is there; be
    # strict regardless: ISO 8601 with an offset.
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri")
def _uri(value) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme and urlsplit(value).netloc)


def check_response(path: str, response) -> None:
    """Status, headers and body as the document promises for this path."""
    documented = DOCUMENT["paths"][path]["get"]["responses"]
    assert str(response.status_code) in documented, (path, response.status_code)
    spec = documented[str(response.status_code)]
    for name, header in spec.get("headers", {}).items():
        assert not header.get("required") or name in response.headers, (path, name)
    if response.status_code == 304:
        return
    assert response.mimetype == "application/json"
    schema = {**spec["content"]["application/json"]["schema"], "components": DOCUMENT["components"]}
    Draft202012Validator(schema, format_checker=FORMATS).validate(response.get_json())


class Api:
    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        check_response(urlsplit(url).path, response)
        return response

    def items(self, query: str = "") -> list[dict]:
        response = self.get(f"/api/items{query}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["items"]


@pytest.fixture
def api(seeded_app) -> Api:
    """The API of the module's shared app: for cases that only read."""
    return Api(seeded_app)


@pytest.fixture
def own_api(refreshed_app) -> Api:
    """The API of an app of the case's own, which it may change."""
    return Api(refreshed_app)


def test_the_document_is_valid_openapi_and_served_as_is(api):
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    validate_spec(response.get_json())
    assert response.get_json() == DOCUMENT
    assert set(DOCUMENT["paths"]) == {r.rule for r in api.app.url_map.iter_rules() if r.rule.startswith("/api/")}


TOKEN = "api-test-token"


def with_token(api: Api, path: str):
    api.app.config["REFRESH_TOKEN"] = TOKEN
    try:
        return api.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        api.app.config["REFRESH_TOKEN"] = None


def test_sources_carry_status_and_counts(api, seeded_app):
    sources = api.get("/api/sources").get_json()["sources"]
    assert [s["id"] for s in sources] == ["iqilu-shandong"]
    source = sources[0]
    recipe = seeded_app.extensions["feedsvc"].recipes["iqilu-shandong"]
    assert (source["name"], source["kind"], source["status"]) == (recipe.name, "listing_page", "ok")
    assert source["refresh_interval_minutes"] == 30 and source["item_count"] == ALL
    assert source["last_success_at"] == source["last_attempt_at"] is not None
    assert datetime.fromisoformat(source["next_run_at"]) > datetime.fromisoformat(source["last_success_at"])
    assert (source["last_error_kind"], source["consecutive_failures"]) == (None, 0)
    assert "start_urls" not in source and "lease_holder" not in source  # the token holder's (see below)
    detailed = with_token(api, "/api/sources").get_json()["sources"][0]
    assert detailed["start_urls"] == recipe.start_urls
    assert (detailed["last_error"], detailed["lease_holder"]) == (None, None)
    feed = api.client.get(urlsplit(source["feeds"]["json"]).path).get_json()
    assert len(feed["items"]) == ALL


def test_sources_show_a_failure_at_once(own_api, site_dir):
    """Status is not cached: a failed refresh adds no item, so the store's
    version does not move, yet the API must show the error."""
    before = own_api.get("/api/sources").get_json()["sources"][0]
    assert before["last_error_kind"] is None and before["status"] == "ok"
    (site_dir / "shandong" / "yaowen" / "index.shtml").unlink()
    own_api.app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
    source = own_api.get("/api/sources").get_json()["sources"][0]
    assert source["consecutive_failures"] == 1 and source["status"] == "failing"
    assert source["last_error_kind"] == "http_status"
    detailed = with_token(own_api, "/api/sources").get_json()["sources"][0]
    assert detailed["last_error"] and detailed["last_error_at"] == detailed["last_attempt_at"]
    assert source["last_success_at"] == before["last_success_at"]
    assert source["item_count"] == ALL  # a failure deletes nothing


def test_outlets(api):
    outlets = {o["name"]: o for o in api.get("/api/outlets").get_json()["outlets"]}
    assert set(outlets) == {"中国山东网", "大众日报", "新华网", "胶东在线", "鲁网"}
    jiaodong = outlets["胶东在线"]
    assert (jiaodong["slug"], jiaodong["count"], jiaodong["members"], jiaodong["aliases"]) == (
        "jiaodong-zaixian", 2, ["胶东在线"], [])
    assert sum(o["count"] for o in outlets.values()) == ALL
    for outlet in outlets.values():
        items = api.items(f"?outlet={outlet['slug']}")
        assert len(items) == outlet["count"] and {i["outlet"] for i in items} == {outlet["name"]}
        feed = api.client.get(urlsplit(outlet["feeds"]["json"]).path).get_json()
        assert [i["id"] for i in feed["items"]] == [i["id"] for i in items]


def test_outlet_aliases(tmp_path, snapshot, database_url):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "aliased"), "DATABASE_URL": database_url,
                      "DB_AUTO_UPGRADE": True, "RECIPES_PATH": str(RECIPES_DIR),
                      "RECIPE_VARIABLES": {"snapshot": snapshot.base_url},
                      "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8,::1", "FETCH_HOST_DELAY_SECONDS": 0,
                      "CACHE_CHECK_INTERVAL_SECONDS": 0, "OUTLET_ALIASES": {"新华网": "大众日报"}})
    try:
        app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
        outlets = {o["name"]: o for o in Api(app).get("/api/outlets").get_json()["outlets"]}
        assert "新华网" not in outlets
        assert (outlets["大众日报"]["count"], outlets["大众日报"]["aliases"]) == (3, ["新华网"])
        assert {i["outlet"] for i in Api(app).items("?outlet=新华网")} == {"大众日报"}
    finally:
        app.extensions["feedsvc"].refresher.close()
        app.extensions["feedsvc"].store.engine.dispose()


def test_items_match_the_json_feed(api):
    items = api.items()
    assert len(items) == ALL
    feed = api.client.get("/feeds/all.json").get_json()["items"]
    assert [i["id"] for i in items] == [f["id"] for f in feed]
    for item, entry in zip(items, feed):
        assert item["id"].startswith("urn:uuid:") and item["url"] == entry["url"]
        assert item["published"] == entry["date_published"] and item["published"].endswith("+08:00")
        assert item["published_precision"] == entry["_feedsvc"].get("published_precision")
        assert item["editors"] == entry["_feedsvc"].get("editors", [])
    assert {i["published_precision"] for i in items} == {"second", "day"}
    published = [datetime.fromisoformat(i["published"]) for i in items]
    assert published == sorted(published, reverse=True)
    day_only = [i for i in items if i["published_precision"] == "day"]
    assert all(i["published"].endswith("T00:00:00+08:00") for i in day_only)


FILTERS = [
    ("?q=乡村振兴", 2),
    ("?q=ＣＭＥＦ", 1),
    ("?outlet=胶东在线", 2),
    ("?outlet=jiaodong-zaixian&outlet=鲁网", 5),
    ("?source=iqilu-shandong", ALL),
    ("?exclude=乡村振兴&exclude=烟台", 7),
    ("?author=刘一颖", 1),
    ("?since=2019-10-23", 5),
    ("?until=2019-10-22", 6),
    ("?since=2019-10-22T10:00:00%2B08:00&until=2019-10-22T17:00:00%2B08:00", 2),
    ("?limit=3", 3),
    ("?q=nothing-like-this", 0),
    ("?utm_source=ignored", ALL),
]


def test_filters_mean_what_they_mean_in_feeds(api):
    # One app for the whole table: a refresh per case would triple the time.
    for query, count in FILTERS:
        items = api.items(query)
        assert len(items) == count, query
        feed = api.client.get(f"/feeds/all.json{query}").get_json()["items"]
        assert [i["id"] for i in items] == [f["id"] for f in feed], query


def test_convert(api):
    titles = {i["id"]: i["title"] for i in api.items()}
    converted = {i["id"]: i["title"] for i in api.items("?convert=s2t")}
    assert titles.keys() == converted.keys() and titles != converted
    assert any("國際" in t for t in converted.values())


@pytest.mark.parametrize("limit", [4, 11, 5])
def test_paging_walks_everything_once(api, limit):
    everything = [i["id"] for i in api.items()]
    seen, url, pages = [], f"/api/items?limit={limit}&source=iqilu-shandong&utm_source=x", 0
    while url:
        page = api.get(url).get_json()
        seen += [i["id"] for i in page["items"]]
        pages += 1
        full = len(page["items"]) == limit
        assert (page["next"] is not None) == full == (page["next_url"] is not None)
        url = page["next_url"] and page["next_url"].removeprefix("http://localhost")
        if url:
            assert f"before={page['next']}" in url and f"limit={limit}" in url and "source=iqilu-shandong" in url
            assert "utm_source" not in url  # unknown parameters are dropped, as in feeds' next links
    assert seen == everything
    assert pages == ALL // limit + 1


def test_cursor_by_hand(api):
    first = api.get("/api/items?limit=4").get_json()
    second = api.items(f"?limit=4&before={first['next']}")
    assert [i["id"] for i in second] == [i["id"] for i in api.items()][4:8]


BAD = [
    ("?limit=0", "limit"),
    ("?limit=501", "limit"),
    ("?limit=ten", "limit"),
    ("?outlet=没有这个", "outlet"),
    ("?source=nope", "source"),
    ("?source=a&source=b", "source"),
    ("?convert=zh", "convert"),
    ("?since=yesterday", "since"),
    ("?until=2019-13-45", "until"),
    ("?before=not-a-cursor", "before"),
    ("?q=a&q=b", "q"),
    ("?author=" + "x" * 201, "author"),
]


def test_bad_parameters_are_400_naming_them(api):
    for query, parameter in BAD:
        response = api.get(f"/api/items{query}")
        assert response.status_code == 400, query
        body = response.get_json()
        assert body["parameter"] == parameter and body["error"].startswith(f"{parameter}: "), body
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_undecodable_query_is_a_json_400(api):
    response = api.client.get("/api/items", environ_overrides={"QUERY_STRING": "q=\xff"})
    check_response("/api/items", response)
    assert response.status_code == 400 and response.get_json()["parameter"] is None


def test_validators_cors_and_gzip(api):
    for path in ("/api/sources", "/api/outlets", "/api/items?outlet=" + quote("鲁网"), "/api/openapi.json"):
        first = api.get(path)
        assert first.status_code == 200 and first.headers["Access-Control-Allow-Origin"] == "*"
        assert first.headers["ETag"] and first.cache_control.max_age >= 60
        again = api.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and not again.data, path
        assert api.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
        zipped = api.client.get(path, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.data) == first.data


def test_repeated_requests_render_once_until_the_store_changes(own_api, refreshed_app):
    from feedsvc.web.state import FEED_CACHE

    stats = refreshed_app.extensions[FEED_CACHE].stats
    own_api.get("/api/items?limit=7")
    own_api.get("/api/outlets")
    renders = stats.renders
    for _ in range(3):
        own_api.get("/api/items?limit=7")
        own_api.get("/api/outlets")
    assert stats.renders == renders
    store = refreshed_app.extensions["feedsvc"].store
    store.mark_gone([own_api.items()[0]["url"]], datetime.now().astimezone())
    assert len(own_api.items("?limit=500")) == ALL - 1
    assert sum(o["count"] for o in own_api.get("/api/outlets").get_json()["outlets"]) == ALL - 1
    assert own_api.get("/api/sources").get_json()["sources"][0]["item_count"] == ALL - 1


def test_a_nul_in_text_is_a_400(api):
    for field in ("q", "exclude", "author"):
        response = api.client.get(f"/api/items?{field}=a%00b")
        check_response("/api/items", response)
        assert response.status_code == 400 and response.get_json()["parameter"] == field
        assert api.client.get(f"/feeds/all.atom?{field}=a%00b").status_code == 400


# -- schemathesis: generated requests from the document, against the WSGI app

@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory):
    # SQLite only, to keep the run short: the SQL is the same on PostgreSQL,
    # where the other API tests run too.
    with SnapshotServer() as snapshot:
        app = create_app({"INSTANCE_PATH": instance_folder(tmp_path_factory.mktemp("api-fuzz")), "RECIPES_PATH": str(RECIPES_DIR),
                          "RECIPE_VARIABLES": {"snapshot": snapshot.base_url}, "FETCH_HOST_DELAY_SECONDS": 0,
                          "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8,::1"})
        reports = app.extensions["feedsvc"].refresher.refresh_many(["iqilu-shandong"])
        assert [r.status for r in reports] == ["ok"], reports
    yield app
    app.extensions["feedsvc"].refresher.close()
    app.extensions["feedsvc"].store.engine.dispose()


# Loaded eagerly from the same dict the app serves (test_the_document_is_
# valid_openapi_and_served_as_is): schemathesis's from_fixture loader does
# not work with pytest 9.
schema = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@schema.parametrize()
@settings(max_examples=examples(100), deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers(case, fuzzed_app):
    # Schemathesis asks for gzip but its WSGI transport does not unzip;
    # gzip has its own test (test_validators_cors_and_gzip).
    response = case.call_and_validate(app=fuzzed_app, headers={"Accept-Encoding": "identity"}, checks=CHECKS)
    event(f"{case.path} {response.status_code}")  # shown by --hypothesis-show-statistics
