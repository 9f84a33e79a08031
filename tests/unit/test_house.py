"""One of each thing: one format registry, one network parser, one OPML
writer, one default time zone, one place for the CORS header; settings
parsed once; the worker never loads Flask."""

from __future__ import annotations

import ast
import logging
import re
import time

from flask import Flask

from feedsvc.app import create_app
from feedsvc.core.config import default_instance_path, load_settings
from feedsvc.render import FORMATS
from feedsvc.service import Service
from feedsvc.ingest.websub import changed_topics
from tests.support.paths import PACKAGE
from tests.support.stores import instance_folder

SOURCES = {path: path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")}


def _where(pattern: str) -> list[str]:
    return sorted(str(path.relative_to(PACKAGE)) for path, text in SOURCES.items() if re.search(pattern, text, re.M))


def test_each_thing_is_defined_once():
    assert _where(r"^FORMATS\b.*=") == ["render/formats.py"]
    assert _where(r"^def parse_networks\b") == ["core/networks.py"]
    assert _where(r"\brender_opml\(") == ["render/opml.py", "web/feeds.py"]
    assert _where(r"Asia/Shanghai") == ["core/models.py"]
    # CORS in one place: every Access-Control-* header is set by web/cors.py.
    assert _where(r"""headers\[["']Access-Control-""") == ["web/cors.py"]


def test_no_module_imports_a_private_name_of_another():
    private = []
    for path, text in SOURCES.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("feedsvc"):
                private += [f"{path.relative_to(PACKAGE)}: {node.module}.{a.name}" for a in node.names
                            if a.name.startswith("_") and a.name != "__version__"]
    assert not private, private


def test_no_name_is_reexported_under_noqa():
    assert not _where(r"^from .* import .*# noqa: F401")


def test_every_format_is_served_exported_and_published():
    topics = changed_topics("https://feeds.example.org", _report("s"), lambda name: None)
    assert {t.rpartition(".")[2] for t in topics} == set(FORMATS)
    assert [f.media_type for f in FORMATS.values()] == [
        "application/atom+xml", "application/rss+xml", "application/feed+json"]


def _report(source_id: str):
    from feedsvc.core.models import RefreshReport

    return RefreshReport(source_id, "ok", new=1)


def test_the_exported_opml_is_the_served_one(refreshed_app, tmp_path):
    from feedsvc.cli.exporter import export_feeds

    export_feeds(refreshed_app, tmp_path / "out", "https://example.org/news")
    served = refreshed_app.test_client().get("/feeds.opml").data
    exported = (tmp_path / "out" / "feeds.opml").read_bytes()
    created = re.compile(rb"<dateCreated>[^<]*</dateCreated>")
    assert created.sub(b"", exported) == created.sub(b"", served)
    assert b"https://example.org/news/feeds/outlet/luwang.atom" in exported


def test_settings_are_typed_once(tmp_path):
    settings = load_settings({"PRUNE_INTERVAL_SECONDS": "0", "FETCH_HOST_DELAY_SECONDS": 2,
                              "TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1", "DB_AUTO_UPGRADE": "yes"})
    assert settings["PRUNE_INTERVAL_SECONDS"] == 0.0 and isinstance(settings["PRUNE_INTERVAL_SECONDS"], float)
    assert isinstance(settings["FETCH_HOST_DELAY_SECONDS"], float) and settings["DB_AUTO_UPGRADE"] is True
    assert [str(n) for n in settings["TRUSTED_PROXIES"]] == ["10.0.0.0/8", "127.0.0.1/32"]
    assert not _where(r"\b(float|int)\((app\.)?config\["), "settings are re-cast after parsing"


def test_create_app_wraps_a_service_built_without_flask(tmp_path):
    settings = {"INSTANCE_PATH": instance_folder(tmp_path), "RECIPES_PATH": str(tmp_path / "feeds"),
                "CACHE_CHECK_INTERVAL_SECONDS": "0"}
    (tmp_path / "feeds").mkdir()
    service = Service.from_settings(load_settings(settings))
    app = create_app(service)
    assert app.extensions["feedsvc"] is service and app.config["CACHE_CHECK_INTERVAL_SECONDS"] == 0.0
    assert app.test_client().get("/healthz").status_code == 200
    older = create_app(settings)  # the settings alone still make an app
    assert isinstance(older.extensions["feedsvc"], Service)
    service.close()
    older.extensions["feedsvc"].close()


def test_the_instance_folder_is_where_flask_would_put_it():
    assert default_instance_path() == Flask("feedsvc.app").instance_path


def test_no_module_outside_the_web_layer_imports_flask():
    web = {PACKAGE / "app.py", *(PACKAGE / "web").rglob("*.py")}
    importers = []
    for path, text in SOURCES.items():
        for node in ast.walk(ast.parse(text)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            if any(n == "flask" or n.startswith("flask.") for n in names) and path not in web:
                importers.append(str(path.relative_to(PACKAGE)))
    assert not importers, importers


def test_scheduled_runs_are_logged_at_debug(tmp_path, caplog):
    """The recipe reload runs every few seconds: its runs are no INFO news."""
    from feedsvc.ingest.scheduler import make_scheduler

    (tmp_path / "feeds").mkdir()
    service = Service.from_settings(load_settings({
        "INSTANCE_PATH": instance_folder(tmp_path), "RECIPES_PATH": str(tmp_path / "feeds"), "RECIPES_RELOAD_SECONDS": 0.05,
        "SCHEDULER_TICK_SECONDS": 0.05}))
    def runs():
        return [r for r in caplog.records if r.name.startswith("apscheduler.executors")]

    with caplog.at_level(logging.DEBUG):
        scheduler = make_scheduler(service)
        scheduler.start()
        deadline = time.monotonic() + 10
        while not any("reload_recipes" in r.getMessage() for r in runs()) and time.monotonic() < deadline:
            time.sleep(0.02)
        scheduler.shutdown(wait=True)
    assert any("reload_recipes" in r.getMessage() for r in runs())
    assert all(r.levelno == logging.DEBUG for r in runs()), [(r.levelname, r.getMessage()) for r in runs()]
    service.close()


def test_each_migration_is_one_line(tmp_path, caplog):
    from feedsvc.core import logs
    from feedsvc.store.migrate import MIGRATIONS_DIR
    from feedsvc.store.store import Store

    logs.configure()
    store = Store.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    with caplog.at_level(logging.INFO):
        store.upgrade_schema()
    store.engine.dispose()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    migrations = sorted(p.stem for p in (MIGRATIONS_DIR / "versions").glob("0*.py"))
    assert [line.split()[0] for line in lines] == ["migration_applied"] * len(migrations), lines
    assert all("\n" not in line for line in lines)
    assert [line.rpartition("name=")[2] for line in lines] == migrations
