"""The image proxy in a served process: `feedsvc serve` answers images
on its own address."""

from __future__ import annotations

import re

import httpx
import pytest

from feedsvc.app import create_app
from tests.support.checks import parse_strict
from tests.support.processes import free_port, running, wait_for
from tests.support.sites import JPEG, image_site
from tests.support.stores import close, image_proxy_settings

pytestmark = pytest.mark.slow


@pytest.fixture
def site(httpserver):
    return image_site(httpserver)


def test_serve_answers_images_on_its_own_address(site, tmp_path):
    config = image_proxy_settings(tmp_path, site)
    app = create_app(config)
    app.extensions["feedsvc"].refresher.refresh_source("news")
    close(app)
    env = {f"FEEDSVC_{k}": str(v) for k, v in config.items() if k != "TESTING"}
    port = free_port()
    with running(["serve", "--port", str(port)], env) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", proc=proc)
        feed = parse_strict(httpx.get(f"{base}/feeds/all.atom", timeout=10).content)
        src = re.search(r'src="([^"]+)"', feed.entries[0].content[0].value).group(1)
        assert src.startswith(f"{base}/img/")
        answer = httpx.get(src, timeout=10)
        assert answer.status_code == 200 and answer.content == JPEG
        assert answer.headers["content-type"] == "image/jpeg"
