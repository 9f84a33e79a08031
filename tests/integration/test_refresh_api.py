"""POST /refresh: who may call it, what it answers, and that refreshes of
one source never overlap."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from feedsvc.app import create_app
from feedsvc.snapshot import RECIPES_DIR, SITE_DIR
from tests.support.stores import instance_folder

SEED_PATH = "shandong/yaowen/2019/1023/4371235.shtml"
# The sites here are on loopback, which fetching refuses unless allowed.
LOOPBACK_FETCHING = {"FETCH_ALLOWED_NETWORKS": "127.0.0.0/8,::1", "FETCH_HOST_DELAY_SECONDS": 0}


def make_app(tmp_path, snapshot_base: str, **config):
    return create_app({"INSTANCE_PATH": instance_folder(tmp_path / "instance"), "RECIPES_PATH": str(RECIPES_DIR),
                       "RECIPE_VARIABLES": {"snapshot": snapshot_base}, **LOOPBACK_FETCHING, **config})


@pytest.fixture
def app(tmp_path, snapshot):
    return make_app(tmp_path, snapshot.base_url)


def test_refresh_all_reports_each_source(app):
    response = app.test_client().post("/refresh")
    assert response.status_code == 200
    [report] = response.get_json()["results"]
    assert report["source"] == "iqilu-shandong" and report["status"] == "ok"
    assert (report["new"], report["updated"], report["error"]) == (11, 0, None)
    assert report["duration_seconds"] >= 0
    again = app.test_client().post("/refresh/iqilu-shandong").get_json()["results"][0]
    assert (again["new"], again["updated"]) == (0, 0)


def test_failing_source_is_reported_not_raised(tmp_path):
    app = make_app(tmp_path, "http://127.0.0.1:9")  # nothing listens there
    response = app.test_client().post("/refresh/iqilu-shandong")
    assert response.status_code == 200
    report = response.get_json()["results"][0]
    assert report["status"] == "error" and report["error_kind"] == "connect" and report["error"]


def test_unknown_source_is_404(app):
    response = app.test_client().post("/refresh/no-such-source")
    assert response.status_code == 404 and response.get_json()["sources"] == ["iqilu-shandong"]


def test_get_is_not_allowed(app):
    assert app.test_client().get("/refresh").status_code == 405


class TestToken:
    @pytest.fixture
    def app(self, tmp_path, snapshot):
        return make_app(tmp_path, snapshot.base_url, REFRESH_TOKEN="s3cret-token")

    def test_no_token_is_401(self, app):
        response = app.test_client().post("/refresh")
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.parametrize("header", ["Bearer wrong", "Bearer s3cret-toke", "Bearer s3cret-token2"])
    def test_wrong_token_is_403(self, app, header):
        assert app.test_client().post("/refresh", headers={"Authorization": header}).status_code == 403

    def test_other_scheme_is_401(self, app):
        assert app.test_client().post("/refresh", headers={"Authorization": "Basic czNjcmV0"}).status_code == 401

    def test_right_token_from_anywhere(self, app):
        response = app.test_client().post("/refresh", headers={"Authorization": "Bearer s3cret-token"},
                                          environ_base={"REMOTE_ADDR": "203.0.113.7"})
        assert response.status_code == 200 and response.get_json()["results"][0]["status"] == "ok"

    def test_numeric_looking_token_from_the_environment(self, tmp_path, snapshot, monkeypatch):
        monkeypatch.setenv("FEEDSVC_REFRESH_TOKEN", "1e5")
        app = make_app(tmp_path, snapshot.base_url)
        ok = app.test_client().post("/refresh", headers={"Authorization": "Bearer 1e5"})
        assert ok.status_code == 200


class TestLoopbackOnly:
    def post(self, app, remote: str, forwarded: str | None = None):
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return app.test_client().post("/refresh/iqilu-shandong", headers=headers,
                                      environ_base={"REMOTE_ADDR": remote}).status_code

    def test_loopback_clients(self, app):
        assert self.post(app, "127.0.0.1") == 200
        assert self.post(app, "::1") == 200

    def test_other_clients_are_refused(self, app):
        assert self.post(app, "203.0.113.5") == 403
        assert self.post(app, "10.1.2.3") == 403

    def test_forwarding_headers_ignored_unless_configured(self, app):
        assert self.post(app, "10.0.0.2", forwarded="127.0.0.1") == 403

    def test_forwarding_headers_from_a_trusted_proxy(self, tmp_path, snapshot):
        app = make_app(tmp_path, snapshot.base_url, TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1")
        assert self.post(app, "10.0.0.2", forwarded="127.0.0.1") == 200
        assert self.post(app, "127.0.0.1", forwarded="203.0.113.9") == 403  # a remote client behind a local proxy
        assert self.post(app, "10.0.0.2", forwarded="127.0.0.1, 203.0.113.9") == 403  # the client forged the left hop
        assert self.post(app, "203.0.113.5", forwarded="127.0.0.1") == 403  # not from a trusted proxy


class _SlowSite(BaseHTTPRequestHandler):
    """Serves the seed page slowly and records how many requests overlap."""

    active = 0
    peak = 0
    lock = threading.Lock()

    def do_GET(self):
        cls = type(self)
        with cls.lock:
            cls.active += 1
            cls.peak = max(cls.peak, cls.active)
        try:
            time.sleep(0.1)
            body = (SITE_DIR / SEED_PATH).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with cls.lock:
                cls.active -= 1

    def log_message(self, *args):
        pass


def test_concurrent_refreshes_of_one_source_do_not_overlap(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowSite)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    recipes = tmp_path / "feeds"
    recipes.mkdir()
    (recipes / "seed.toml").write_text(f"""
id = "seed"
name = "Seed"
kind = "article_page"
start_urls = ["http://127.0.0.1:{server.server_address[1]}/{SEED_PATH}"]
[article]
title = "h1.article-title"
""", encoding="utf-8")
    app = create_app({"INSTANCE_PATH": instance_folder(tmp_path / "i"), "RECIPES_PATH": str(recipes), **LOOPBACK_FETCHING})
    statuses = []

    def call():
        statuses.append(app.test_client().post("/refresh/seed").status_code)

    threads = [threading.Thread(target=call) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        server.shutdown()
    assert statuses == [200] * 4
    assert _SlowSite.peak == 1  # the four refreshes ran one after another


def test_a_source_refreshed_elsewhere_is_409_or_waited_for(app):
    from datetime import timedelta

    store = app.extensions["feedsvc"].store
    assert store.try_lease("iqilu-shandong", "worker-7.example:4242", timedelta(minutes=5))
    client = app.test_client()
    busy = client.post("/refresh/iqilu-shandong")
    assert busy.status_code == 409
    report = busy.get_json()["results"][0]
    assert report["status"] == "busy" and report["lease_holder"] == "worker-7.example:4242"
    assert report["lease_expires_at"] and "worker-7.example:4242" in busy.get_json()["error"]
    every = client.post("/refresh")
    assert every.status_code == 200 and every.get_json()["results"][0]["status"] == "busy"
    assert client.post("/refresh/iqilu-shandong?wait=abc").status_code == 400
    threading.Timer(0.3, store.release_lease, args=("iqilu-shandong", "worker-7.example:4242")).start()
    waited = client.post("/refresh/iqilu-shandong?wait=10")
    assert waited.status_code == 200 and waited.get_json()["results"][0]["status"] == "ok"
    assert store.source_state("iqilu-shandong").lease_holder is None  # released after the refresh
