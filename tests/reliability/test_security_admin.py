"""Admin endpoints (POST /refresh): who may call them, and how often.
Through the Flask test client with REMOTE_ADDR set per request, and once
through a served process over real sockets."""

from __future__ import annotations

import ast
import inspect
import time

import httpx
import pytest

from feedsvc.core import auth
from feedsvc.app import create_app
from feedsvc.web.ratelimit import RateLimiter
from feedsvc.web.state import ADMIN_LIMITER
from tests.support.processes import free_port, running, wait_for
from tests.support.sites import CountingSite
from tests.support.stores import instance_folder

TOKEN = "Zq3-admin-token-7f1c"
OUTSIDER = "203.0.113.7"


@pytest.fixture(scope="module")
def site():
    with CountingSite(sources=1) as counting:
        yield counting


@pytest.fixture
def make_app(tmp_path, site):
    apps = []

    def make(**config):
        folder = tmp_path / f"app{len(apps)}"
        site.write_recipes(folder / "feeds", interval_minutes=30)
        app = create_app({"INSTANCE_PATH": instance_folder(folder / "instance"), "RECIPES_PATH": str(folder / "feeds"),
                          "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FETCH_HOST_DELAY_SECONDS": 0, **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["feedsvc"].refresher.close()
        app.extensions["feedsvc"].store.engine.dispose()


def post(app, remote="127.0.0.1", token=None, path="/refresh/no-such-source", forwarded=None):
    """Status and headers. /refresh/no-such-source answers 404 once past
    the guard, so 404 means "let through" without refreshing anything."""
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    response = app.test_client().post(path, headers=headers, environ_base={"REMOTE_ADDR": remote})
    return response.status_code, response.headers


def statuses(app, count: int, **kwargs) -> list[int]:
    return [post(app, **kwargs)[0] for _ in range(count)]


def test_token_required_when_configured(make_app):
    app = make_app(REFRESH_TOKEN=TOKEN, ADMIN_RATE_LIMIT_PER_MINUTE=0)
    status, headers = post(app, remote=OUTSIDER)
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    for wrong in ("wrong", TOKEN[:-1], TOKEN + "x", TOKEN.upper()):
        assert post(app, remote=OUTSIDER, token=wrong)[0] == 403, wrong
    assert post(app, remote="127.0.0.1", token="wrong")[0] == 403  # loopback needs it too
    assert post(app, remote=OUTSIDER, token=TOKEN)[0] == 404  # through the guard
    assert post(app, remote=OUTSIDER, token=TOKEN, path="/refresh/s0")[0] == 200


def test_without_a_token_only_loopback_clients(make_app):
    app = make_app(ADMIN_RATE_LIMIT_PER_MINUTE=0)
    assert post(app, remote="127.0.0.1")[0] == 404
    assert post(app, remote="::1")[0] == 404
    assert post(app, remote="127.0.0.2")[0] == 404
    for remote in (OUTSIDER, "10.1.2.3", "192.168.1.5", "2001:db8::1"):
        assert post(app, remote=remote)[0] == 403, remote
    assert post(app, remote=OUTSIDER, forwarded="127.0.0.1")[0] == 403  # a forged header is not believed


def test_token_is_compared_in_constant_time():
    """Timing cannot be measured reliably in a test; the code is read
    instead: the token meets the given value only in hmac.compare_digest,
    never in ==, != or `in` (check_bearer serves the refresh and the
    metrics tokens; authorize hands its token to it)."""
    tree = ast.parse(inspect.getsource(auth.check_bearer))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and node.func.attr == "compare_digest"]
    assert len(calls) == 1 and isinstance(calls[0].func.value, ast.Name) and calls[0].func.value.id == "hmac"
    for function in (auth.check_bearer, auth.authorize):
        for node in ast.walk(ast.parse(inspect.getsource(function))):
            if isinstance(node, ast.Compare):
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                assert not names & {"token", "given"}, ast.unparse(node)


def test_burst_then_429_with_retry_after(make_app, site):
    app = make_app(ADMIN_RATE_LIMIT_PER_MINUTE=6, ADMIN_RATE_LIMIT_BURST=3)
    assert post(app, path="/refresh/s0")[0] == 200
    assert statuses(app, 2) == [404, 404]
    hits = len(site.hits["/s0.html"])
    response = app.test_client().post("/refresh/s0", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "10"  # one token every 10 s
    assert "too many requests" in response.get_json()["error"]
    assert len(site.hits["/s0.html"]) == hits  # refused before any work


def test_refused_attempts_use_up_the_budget(make_app):
    """Brute force: wrong tokens and missing ones cost a token each, so the
    right token is refused too once a client has guessed enough."""
    app = make_app(REFRESH_TOKEN=TOKEN, ADMIN_RATE_LIMIT_PER_MINUTE=1, ADMIN_RATE_LIMIT_BURST=4)
    assert [post(app, remote=OUTSIDER, token=f"guess{n}")[0] for n in range(3)] == [403, 403, 403]
    assert post(app, remote=OUTSIDER)[0] == 401
    status, headers = post(app, remote=OUTSIDER, token=TOKEN)
    assert status == 429 and int(headers["Retry-After"]) == 60
    assert post(app, remote="198.51.100.9", token=TOKEN)[0] == 404  # another client is not held up


def test_limit_is_per_client_and_per_ipv6_block(make_app):
    app = make_app(ADMIN_RATE_LIMIT_PER_MINUTE=1, ADMIN_RATE_LIMIT_BURST=2)
    assert statuses(app, 3, remote="127.0.0.1") == [404, 404, 429]
    assert statuses(app, 3, remote="127.0.0.2") == [404, 404, 429]
    assert post(app, remote="::1")[0] == 404
    # An IPv6 host hopping between addresses of its /64 shares one bucket...
    assert statuses(app, 3, remote=OUTSIDER) == [403, 403, 429]
    v6 = [post(app, remote=f"2001:db8:1:2::{n:x}")[0] for n in range(1, 4)]
    assert v6 == [403, 403, 429]
    # ...another /64 has its own.
    assert post(app, remote="2001:db8:1:3::1")[0] == 403


def test_tokens_come_back_with_time(make_app):
    app = make_app(ADMIN_RATE_LIMIT_PER_MINUTE=300, ADMIN_RATE_LIMIT_BURST=1)  # one every 0.2 s
    assert post(app)[0] == 404
    status, headers = post(app)
    assert status == 429 and headers["Retry-After"] == "1"  # whole seconds, rounded up
    time.sleep(0.25)
    assert statuses(app, 2) == [404, 429]


def test_forwarded_for_does_not_buy_a_fresh_bucket(make_app):
    app = make_app(ADMIN_RATE_LIMIT_PER_MINUTE=1, ADMIN_RATE_LIMIT_BURST=2)
    forged = [post(app, remote=OUTSIDER, forwarded=f"198.51.100.{n}")[0] for n in range(4)]
    assert forged == [403, 403, 429, 429]
    # Behind a trusted proxy each forwarded client is counted on its own.
    proxied = make_app(ADMIN_RATE_LIMIT_PER_MINUTE=1, ADMIN_RATE_LIMIT_BURST=2, TRUSTED_PROXIES="10.0.0.1")
    assert statuses(proxied, 3, remote="10.0.0.1", forwarded="127.0.0.1") == [404, 404, 429]
    assert statuses(proxied, 2, remote="10.0.0.1", forwarded=OUTSIDER) == [403, 403]


def test_limiter_state_belongs_to_its_app(make_app):
    first = make_app(ADMIN_RATE_LIMIT_PER_MINUTE=1, ADMIN_RATE_LIMIT_BURST=1)
    second = make_app(ADMIN_RATE_LIMIT_PER_MINUTE=1, ADMIN_RATE_LIMIT_BURST=1)
    assert statuses(first, 2) == [404, 429]
    assert statuses(second, 2) == [404, 429]  # its own budget, untouched by the first app
    assert first.extensions[ADMIN_LIMITER] is not second.extensions[ADMIN_LIMITER]


def test_zero_rate_means_no_limit(make_app):
    app = make_app(ADMIN_RATE_LIMIT_PER_MINUTE=0, ADMIN_RATE_LIMIT_BURST=1)
    assert set(statuses(app, 30)) == {404}


def test_many_clients_keep_memory_bounded():
    limiter = RateLimiter(per_minute=1, burst=1, max_clients=100)
    for n in range(1000):
        assert limiter.take(f"client-{n}") == 0
    assert len(limiter._buckets) == 100
    assert limiter.take("client-999") > 0  # a recent client is still remembered


@pytest.mark.slow
def test_limit_in_a_served_process(tmp_path, site):
    """`feedsvc serve`, real sockets: guessing gets 429 and a log line; reading
    feeds is not limited."""
    site.write_recipes(tmp_path / "feeds", interval_minutes=30)
    env = {"FEEDSVC_INSTANCE_PATH": str(tmp_path / "instance"), "FEEDSVC_RECIPES_PATH": str(tmp_path / "feeds"),
           "FEEDSVC_REFRESH_TOKEN": TOKEN, "FEEDSVC_ADMIN_RATE_LIMIT_PER_MINUTE": "2",
           "FEEDSVC_ADMIN_RATE_LIMIT_BURST": "3", "FEEDSVC_SCHEDULER_TICK_SECONDS": "3600"}
    port = free_port()
    with running(["serve", "--port", str(port)], env) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", proc=proc)
        with httpx.Client(base_url=base, timeout=10) as client:
            guesses = [client.post("/refresh", headers={"Authorization": f"Bearer guess{n}"}) for n in range(3)]
            assert [r.status_code for r in guesses] == [403, 403, 403]
            limited = client.post("/refresh", headers={"Authorization": f"Bearer {TOKEN}"})
            assert limited.status_code == 429 and limited.headers["Retry-After"] == "30"
            assert [client.get("/feeds/all.atom").status_code for _ in range(10)] == [200] * 10
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
    assert "admin_refused client=127.0.0.1 endpoint=admin.refresh status=403" in output
    assert "admin_rate_limited client=127.0.0.1 endpoint=admin.refresh" in output
