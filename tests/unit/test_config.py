"""Settings: defaults, an optional TOML file, environment variables."""

from __future__ import annotations

import pytest

from feedsvc.core.config import load_settings


def test_file_then_environment(tmp_path, monkeypatch):
    config = tmp_path / "feedsvc.toml"
    config.write_text('site_title = "山东新闻"\nREFRESH_CONCURRENCY = 8\noutlet_aliases = { "大众网" = "大众日报" }\n'
                      'fetch_timeout_seconds = "12.5"\n', encoding="utf-8")
    monkeypatch.setenv("FEEDSVC_CONFIG", str(config))
    monkeypatch.setenv("FEEDSVC_REFRESH_CONCURRENCY", "2")
    settings = load_settings()
    assert settings["SITE_TITLE"] == "山东新闻" and settings["OUTLET_ALIASES"] == {"大众网": "大众日报"}
    assert settings["REFRESH_CONCURRENCY"] == 2  # the environment wins
    assert settings["FETCH_TIMEOUT_SECONDS"] == 12.5
    assert load_settings({"SITE_TITLE": "x"})["SITE_TITLE"] == "x"


@pytest.mark.parametrize(("text", "message"), [
    ("colour = 1\n", "colour: unknown setting"),
    ('fetch_max_bytes = "ten"\n', "fetch_max_bytes"),
    ("site_title = \n", "not valid TOML"),
])
def test_bad_config_file(tmp_path, monkeypatch, text, message):
    config = tmp_path / "feedsvc.toml"
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("FEEDSVC_CONFIG", str(config))
    with pytest.raises(ValueError, match=message):
        load_settings()


def test_missing_config_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDSVC_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ValueError, match="FEEDSVC_CONFIG"):
        load_settings()


def test_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("FEEDSVC_FETCH_MAX_BYTES", "ten")
    with pytest.raises(ValueError, match="FEEDSVC_FETCH_MAX_BYTES"):
        load_settings()
