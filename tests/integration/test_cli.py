"""Every command through click's runner, on the snapshot site."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.checks import parse_strict, validate_atom
from feedsvc.cli.commands import main
from feedsvc.sources.recipes import load_recipes
from feedsvc.snapshot import RECIPES_DIR

OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>subscriptions</title></head><body>
<outline text="News">
  <outline type="rss" text="Example News" xmlUrl="https://news.example.org/feed.xml"/>
  <outline type="rss" text="\xe9\xb2\x81\xe7\xbd\x91" title="\xe9\xb2\x81\xe7\xbd\x91" xmlUrl="https://www.sdnews.com.cn/rss.xml"/>
  <outline type="rss" text="Example News" xmlUrl="https://other.example.org/feed.xml"/>
  <outline type="rss" text="dup" xmlUrl="https://news.example.org/feed.xml"/>
  <outline type="rss" text="not http" xmlUrl="file:///etc/passwd"/>
</outline></body></opml>"""


@pytest.fixture
def env(tmp_path, snapshot, monkeypatch):
    recipes = tmp_path / "feeds"
    recipes.mkdir()
    text = (RECIPES_DIR / "iqilu-shandong.toml").read_text(encoding="utf-8")
    (recipes / "iqilu-shandong.toml").write_text(text.replace("{snapshot}", snapshot.base_url), encoding="utf-8")
    values = {"FEEDSVC_INSTANCE_PATH": str(tmp_path / "instance"), "FEEDSVC_RECIPES_PATH": str(recipes),
              "FEEDSVC_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8", "FEEDSVC_FETCH_HOST_DELAY_SECONDS": "0"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_refresh_sources_outlets(env):
    result = run("refresh")
    assert result.exit_code == 0 and "iqilu-shandong" in result.output and "11" in result.output
    report = json.loads(run("refresh", "--json").output)
    assert report[0]["new"] == 0 and report[0]["status"] == "ok"
    sources = run("sources").output
    assert "iqilu-shandong" in sources and "listing_page" in sources
    assert "last success (UTC)" in sources and "next run (UTC)" in sources  # times say their zone
    outlets = run("outlets").output.splitlines()
    assert len(outlets) == 2 + 5 and outlets[0].split() == ["outlet", "slug", "items", "latest", "(UTC)"]
    assert any("胶东在线" in line and "jiaodong-zaixian" in line and " 2 " in line for line in outlets)
    unknown = CliRunner().invoke(main, ["refresh", "nope"])
    assert unknown.exit_code != 0 and "unknown source" in unknown.output


def test_refresh_prints_a_table_and_fails_on_errors(env, snapshot):
    lines = run("refresh").output.splitlines()
    assert lines[0].split() == ["source", "status", "new", "updated", "time", "next", "run", "(UTC)", "error"]
    assert lines[2].split()[:4] == ["iqilu-shandong", "ok", "11", "0"] and lines[2].split()[4].endswith("s")
    assert lines[-1].startswith("1 source(s): 1 ok, 0 skipped, 0 failed; 11 new item(s)")
    (Path(env["FEEDSVC_RECIPES_PATH"]) / "gone.toml").write_text(f"""
id = "gone"
name = "Gone"
kind = "article_page"
start_urls = ["{snapshot.base_url}/no/such/page.html"]
[article]
title = "h1"
""", encoding="utf-8")
    result = CliRunner().invoke(main, ["refresh", "gone", "iqilu-shandong"])
    assert result.exit_code == 1
    rows = {line.split()[0]: line for line in result.output.splitlines()[2:-1]}
    assert result.output.splitlines()[-1].startswith("2 source(s): 1 ok, 0 skipped, 1 failed")
    assert list(rows) == ["gone", "iqilu-shandong"]  # in the order asked
    assert rows["gone"].split()[1:4] == ["error", "0", "0"] and "http_status: " in rows["gone"]
    assert rows["iqilu-shandong"].split()[1:4] == ["ok", "0", "0"]


def test_sources_reports_refused_recipe_files(env):
    (Path(env["FEEDSVC_RECIPES_PATH"]) / "broken.toml").write_text(
        'id = "b"\nname = "B"\nkind = "feed"\nstart_urls = ["https://example.org/f"]\nintervall = 3\n',
        encoding="utf-8")
    result = run("sources")
    assert result.exit_code == 0
    assert "iqilu-shandong" in result.output
    refused = result.output.split("recipe files refused", 1)[1]
    assert "broken.toml" in refused and "intervall" in refused and "unknown key" in refused
    # Commands that run sources still refuse to start over a broken file.
    failed = CliRunner().invoke(main, ["refresh"])
    assert failed.exit_code != 0 and "recipe refused" in failed.output and "broken.toml" in failed.output


def test_a_source_backing_off_is_skipped_with_its_next_run_until_forced(env, snapshot, site_dir):
    (Path(env["FEEDSVC_RECIPES_PATH"]) / "late.toml").write_text(f"""
id = "late"
name = "Late"
kind = "article_page"
start_urls = ["{snapshot.base_url}/late.html"]
[article]
title = "h1"
""", encoding="utf-8")
    assert CliRunner().invoke(main, ["refresh", "late"]).exit_code == 1  # 404: now backing off
    (site_dir / "late.html").write_text("<html><body><h1>到了</h1><p>正文。</p></body></html>", encoding="utf-8")
    skipped = CliRunner().invoke(main, ["refresh", "late"])
    assert skipped.exit_code == 1, "a source backing off after failures is a failing source"
    [row] = [line for line in skipped.output.splitlines() if line.startswith("late ")]
    next_run = run("sources").output.split("\nlate ", 1)[1].split("  ")
    assert row.split()[1] == "skipped" and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row).group() in " ".join(next_run)
    assert "0 ok, 1 skipped, 0 failed" in skipped.output and "--force" in skipped.output
    forced = CliRunner().invoke(main, ["refresh", "--force", "late"])
    assert forced.exit_code == 0, forced.output
    [row] = [line for line in forced.output.splitlines() if line.startswith("late ")]
    assert row.split()[1:3] == ["ok", "1"]


def test_every_verb_can_look_at_the_demo_data(tmp_path, monkeypatch):
    """What `serve --demo` stores, `--demo` shows to the other verbs, in the
    instance folder `--instance` names."""
    monkeypatch.delenv("FEEDSVC_INSTANCE_PATH", raising=False)
    instance = str(tmp_path / "instance")
    refreshed = run("--instance", instance, "--demo", "refresh")
    assert refreshed.exit_code == 0 and "iqilu-shandong" in refreshed.output, refreshed.output
    assert (tmp_path / "instance" / "demo.sqlite3").exists()
    outlets = run("--instance", instance, "--demo", "outlets").output.splitlines()[2:]
    assert sorted(line.split()[0] for line in outlets) == sorted(["胶东在线", "鲁网", "中国山东网", "新华网", "大众日报"])
    assert "iqilu-shandong" in run("--instance", instance, "--demo", "sources").output
    # Without --demo, the same folder's own store: no demo sources and no outlets.
    assert len(run("--instance", instance, "outlets").output.splitlines()) == 2
    assert not (tmp_path / "elsewhere").exists()
    run("--instance", str(tmp_path / "elsewhere"), "--demo", "outlets")
    assert (tmp_path / "elsewhere" / "demo.sqlite3").exists()


def test_serve_refuses_a_taken_port_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDSVC_INSTANCE_PATH", str(tmp_path / "instance"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--demo", "--port", str(port)])
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.output and "--port" in result.output
    assert "Snapshot site" not in result.output  # refused before anything started
    assert not (tmp_path / "instance").exists()


def test_recipes_is_one_group():
    assert "recipe" not in main.commands
    assert set(main.commands["recipes"].commands) == {"suggest", "check", "import-opml", "test"}


def test_the_demo_recipe_checks(tmp_path):
    demo = run("--demo", "recipes", "check")
    assert demo.exit_code == 0 and "ok" in demo.output and "iqilu-shandong" in demo.output
    plain = CliRunner().invoke(main, ["recipes", "check", str(RECIPES_DIR)])
    assert plain.exit_code == 1
    assert "placeholder {snapshot} has no value" in plain.output and "feedsvc --demo recipes check" in plain.output


def test_recipes_check(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('id = "a"\nname = "A"\nkind = "feed"\nstart_urls = ["https://example.org/f"]\n', encoding="utf-8")
    assert run("recipes", "check", str(good)).exit_code == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "b"\nname = "B"\nkind = "feed"\nstart_urls = ["https://example.org/f"]\nintervall = 3\n',
                   encoding="utf-8")
    result = CliRunner().invoke(main, ["recipes", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{bad}: intervall: unknown key" in result.output and "ok" in result.output


def test_import_opml(tmp_path):
    opml = tmp_path / "subs.opml"
    opml.write_bytes(OPML)
    folder = tmp_path / "feeds"
    result = run("recipes", "import-opml", str(opml), "--into", str(folder))
    assert result.exit_code == 0, result.output
    recipes = {r.id: r for r in load_recipes(folder)}
    assert {r.start_urls[0] for r in recipes.values()} == {
        "https://news.example.org/feed.xml", "https://www.sdnews.com.cn/rss.xml", "https://other.example.org/feed.xml"}
    assert all(r.kind == "feed" for r in recipes.values())
    assert recipes["luwang"].name == "鲁网" and {"example-news", "example-news-2"} <= set(recipes)
    assert "3 recipe(s) written, 2 outline(s) skipped" in result.output
    assert "skipped  dup  (https://news.example.org/feed.xml): listed twice in this file" in result.output
    assert "skipped  not http  (file:///etc/passwd): not an http(s) address" in result.output
    files = sorted(p.name for p in folder.iterdir())
    again = run("recipes", "import-opml", str(opml), "--into", str(folder))
    assert again.exit_code == 0 and sorted(p.name for p in folder.iterdir()) == files  # nothing written twice
    assert "0 recipe(s) written, 5 outline(s) skipped" in again.output
    assert "skipped  鲁网  (https://www.sdnews.com.cn/rss.xml): already read by luwang.toml" in again.output
    broken = tmp_path / "broken.opml"
    broken.write_bytes(b"<html>not opml</html>")
    failed = CliRunner().invoke(main, ["recipes", "import-opml", str(broken), "--into", str(folder)])
    assert failed.exit_code != 0 and "not an OPML file" in failed.output


def test_export_writes_valid_feeds_and_only_what_changed(env, tmp_path, site_dir):
    run("refresh")
    out = tmp_path / "site-export"
    result = run("export", str(out), "--base-url", "https://example.org/news")
    assert result.exit_code == 0 and "files written" in result.output
    atom = (out / "feeds/all.atom").read_bytes()
    assert len(parse_strict(atom).entries) == 11
    validate_atom(atom, tmp_path)
    assert len(parse_strict((out / "feeds/outlet/jiaodong-zaixian.rss").read_bytes()).entries) == 2
    assert json.loads((out / "feeds/source/iqilu-shandong.json").read_text())["feed_url"] == \
        "https://example.org/news/feeds/source/iqilu-shandong.json"
    assert "https://example.org/news/feeds/outlet/luwang.atom" in (out / "feeds.opml").read_text()
    assert (out / "static/feed.xsl").exists() and b"https://example.org/news/static/feed.xsl" in atom
    assert "nothing to do" in run("export", str(out), "--base-url", "https://example.org/news").output
    # A new item on the channel page: the all and source feeds change, 胶东在线's does not.
    index = site_dir / "shandong/yaowen/index.shtml"
    html = index.read_text(encoding="utf-8")
    cut = html.index('<li class="news-item">')
    index.write_text(html[:cut] + '<li class="news-item"><h3><a href="/x.shtml">新</a></h3></li>' + html[cut:],
                     encoding="utf-8")
    run("refresh")
    stamp = (out / "feeds/outlet/jiaodong-zaixian.atom").stat().st_mtime_ns
    result = run("export", str(out), "--base-url", "https://example.org/news")
    assert (out / "feeds/outlet/jiaodong-zaixian.atom").stat().st_mtime_ns == stamp
    assert len(parse_strict((out / "feeds/all.atom").read_bytes()).entries) == 12
