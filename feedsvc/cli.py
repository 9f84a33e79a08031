"""Command line: `feedsvc serve`, `feedsvc scheduler`, `feedsvc refresh`, `feedsvc sources`,
`feedsvc recipes check` and the rest (see README)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import quote

import click
from sqlalchemy.exc import SQLAlchemyError

from feedsvc import __version__
from feedsvc.errors import FeedsvcError, RecipeError


def _make_app(config: dict | None = None):
    from feedsvc.app import create_app
    from feedsvc.store import store_problem

    try:
        return create_app(config)
    except RecipeError as exc:
        raise click.ClickException(f"recipe refused: {exc}") from None
    except ValueError as exc:  # a malformed FEEDSVC_* setting
        raise click.ClickException(f"bad setting: {exc}") from None
    except (FeedsvcError, SQLAlchemyError) as exc:  # the store is unreachable, or not at this version
        raise click.ClickException(store_problem(exc)) from None


def demo_config(snapshot_base: str) -> dict:
    """Settings for --demo: only the bundled recipes, pointed at the
    snapshot server, in a database of their own. The snapshot is on
    loopback, which fetching otherwise refuses, and is ours to hurry."""
    from feedsvc.snapshot import RECIPES_DIR
    from feedsvc.ssrf import LOOPBACK_NETWORKS

    return {"RECIPES_PATH": str(RECIPES_DIR), "RECIPE_VARIABLES": {"snapshot": snapshot_base}, "DEMO": True,
            "FETCH_ALLOWED_NETWORKS": LOOPBACK_NETWORKS, "FETCH_HOST_DELAY_SECONDS": 0}


def _error_cell(report, width: int = 100) -> str:
    if not report.error:
        return ""
    text = f"{report.error_kind}: {report.error}" if report.error_kind else report.error
    return text if len(text) <= width else text[: width - 1] + "…"


def report_table(reports) -> str:
    """One line per refresh: source, status, new, updated, time, error."""
    from feedsvc.tables import format_table

    rows = [(r.source_id, r.status, r.new, r.updated, f"{r.duration_seconds:.2f}s", _error_cell(r)) for r in reports]
    return format_table(["source", "status", "new", "updated", "time", "error"], rows)


def _summary(reports) -> str:
    failed = sum(r.status == "error" for r in reports)
    return (f"{len(reports)} source(s): {len(reports) - failed} without error, {failed} failed; "
            f"{sum(r.new for r in reports)} new item(s)")


def _refresh_with_progress(refresher, source_ids: list[str]):
    """Refresh, with a progress bar on stderr when it is a terminal (so
    piped output stays clean). Sources finish in any order, so the bar
    moves as the refresher reports each one."""
    if not sys.stderr.isatty():
        return refresher.refresh_many(source_ids)
    import threading

    lock, wanted = threading.Lock(), set(source_ids)
    with click.progressbar(length=len(source_ids), label="refreshing", file=sys.stderr, show_pos=True,
                           item_show_func=lambda source_id: source_id) as bar:
        def advance(report) -> None:
            if report.source_id in wanted:
                with lock:
                    bar.update(1, report.source_id)

        refresher.listeners.append(advance)
        try:
            return refresher.refresh_many(source_ids)
        finally:
            refresher.listeners.remove(advance)


@click.group()
@click.version_option(__version__, prog_name="feedsvc")
def main() -> None:
    """feedsvc: news sites in, Atom and RSS feeds out."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Request threads.")
@click.option("--demo", is_flag=True, help="Serve the bundled snapshot site on loopback and read only it.")
def serve(host: str, port: int, threads: int, demo: bool) -> None:
    """Run the web service."""
    from feedsvc.scheduler import shutdown_app
    from feedsvc.server import run_server
    from feedsvc.snapshot import SnapshotServer

    config: dict | None = None
    if demo:
        snapshot = SnapshotServer().start()
        config = demo_config(snapshot.base_url)
    # Built here first, so a bad setting or an unreachable store ends in one line before the server starts.
    app = _make_app(config)
    rt = app.extensions["feedsvc"]
    if demo:
        click.echo(report_table(rt.refresher.refresh_many(rt.recipes)))
        _print_demo_urls(f"http://{host}:{port}", snapshot.base_url, rt.store.outlets())
    rt.refresher.close()
    rt.store.engine.dispose()  # the server process opens its own connections
    run_server(lambda: _serving_app(config), host, port, threads, on_exit=shutdown_app)


def _serving_app(config: dict | None):
    """The web app with its scheduler: `serve` is web and worker in one."""
    from feedsvc import scheduler

    app = _make_app(config)
    scheduler.init_app(app)
    return app


def _print_demo_urls(base: str, snapshot_base: str, outlets) -> None:
    click.echo(f"Snapshot site: {snapshot_base}/shandong/yaowen/index.shtml")
    click.echo(f"Index: {base}/")
    click.echo(f"All items: {base}/feeds/all.atom")
    for outlet in outlets:
        click.echo(f"{outlet.name} ({outlet.count}): {base}/feeds/outlet/{quote(outlet.name)}.atom")
    sys.stdout.flush()


@main.command("scheduler")
def run_scheduler() -> None:
    """Run the scheduler alone (no web server): the Procfile's worker.
    SIGHUP reloads the recipes at once; SIGTERM stops it."""
    import signal
    import threading

    from feedsvc.scheduler import make_scheduler, request_reload, stop_scheduler

    app = _make_app()
    scheduler = make_scheduler(app, blocking=True)
    if app.config["SCHEDULER_METRICS_PORT"]:
        _serve_metrics(app, int(app.config["SCHEDULER_METRICS_PORT"]), app.config["SCHEDULER_METRICS_ADDRESS"])

    def stop(signum, _frame):
        click.echo(f"signal {signum}: stopping after the running refresh", err=True)
        stop_scheduler(scheduler, app)

    def reload(_signum, _frame):
        # Not in the handler itself: it may interrupt the scheduler while
        # that holds its own locks.
        threading.Thread(target=request_reload, args=(scheduler, app), daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, reload)
    click.echo(f"scheduler: {len(app.extensions['feedsvc'].recipes)} sources, "
               f"tick every {app.config['SCHEDULER_TICK_SECONDS']:g} s", err=True)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    # The tick runs in a scheduler thread: wait for it here, before the
    # interpreter starts shutting down under it.
    stop_scheduler(scheduler, app, wait=True)
    click.echo("scheduler: stopped", err=True)


def _serve_metrics(app, port: int, address: str) -> None:
    """The worker has no web server: Prometheus scrapes this port instead."""
    from feedsvc.metrics_port import serve_metrics

    try:
        serve_metrics(app.extensions["feedsvc"].metrics.registry, address, port, app.config["METRICS_TOKEN"])
    except OSError as exc:
        raise click.ClickException(f"cannot serve metrics on {address}:{port}: {exc.strerror or exc}") from None
    click.echo(f"scheduler: metrics at http://{address}:{port}/metrics", err=True)


@main.command()
@click.argument("sources", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
def refresh(sources: tuple[str, ...], as_json: bool) -> None:
    """Refresh SOURCES now (all sources when none are named): a progress
    bar on a terminal, then a table of the results. Exit 1 if any failed."""
    app = _make_app()
    rt = app.extensions["feedsvc"]
    unknown = [s for s in sources if s not in rt.recipes]
    if unknown:
        raise click.ClickException(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(rt.recipes)}")
    reports = _refresh_with_progress(rt.refresher, list(dict.fromkeys(sources or rt.recipes)))
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        click.echo(report_table(reports))
        click.echo(_summary(reports))
    if any(r.status == "error" for r in reports):
        sys.exit(1)


@main.group()
def db() -> None:
    """The store's schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the store to this version's schema (safe to repeat)."""
    from feedsvc.app import instance_settings
    from feedsvc.runtime import database_url_for
    from feedsvc.store import Store, store_problem

    settings = instance_settings()
    store = Store.from_url(database_url_for(settings))
    try:
        click.echo(f"schema at revision {store.upgrade_schema()}")
    except (FeedsvcError, SQLAlchemyError) as exc:
        raise click.ClickException(store_problem(exc)) from None
    finally:
        store.engine.dispose()


@main.group()
def recipes() -> None:
    """Work with recipe files."""


@recipes.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def recipes_check(paths: tuple[str, ...]) -> None:
    """Validate recipe files (default: the recipes folder). Exit 1 on errors."""
    from feedsvc.app import instance_settings
    from feedsvc.recipes import read_recipe

    try:
        settings = instance_settings()
    except ValueError as exc:
        raise click.ClickException(f"bad setting: {exc}") from None
    files: list[Path] = []
    for path in paths or (settings["RECIPES_PATH"],):
        p = Path(path)
        files.extend(sorted(p.glob("*.toml")) if p.is_dir() else [p])
    errors = 0
    for file in files:
        try:
            # The placeholders the service fills in, so `{mirror}/…` URLs check as they will run.
            recipe = read_recipe(file, settings["RECIPE_VARIABLES"])
            click.echo(f"ok     {file}  ({recipe.id}, {recipe.kind})")
        except RecipeError as exc:
            errors += 1
            click.echo(f"error  {exc}", err=True)
    if errors:
        sys.exit(1)


@main.command()
def sources() -> None:
    """Each source's status: last success, last error, next run, items;
    then any recipe file that is refused, with its key and reason."""
    from feedsvc.tables import format_table

    # Report broken recipe files rather than refuse to start over them.
    app = _make_app({"LENIENT_RECIPES": True})
    rt = app.extensions["feedsvc"]
    counts = rt.store.source_item_counts()
    rows = [(s.id, s.kind, _when(s.last_success_at), s.consecutive_failures, _when(s.next_run_at),
             counts.get(s.id, ""), (s.last_error or "")[:60]) for s in rt.store.source_states() if s.id in rt.recipes]
    click.echo(format_table(["source", "kind", "last success (UTC)", "failures", "next run (UTC)", "items", "last error"], rows))
    if rt.recipe_errors:
        click.echo("\nrecipe files refused (a running service keeps their last good version):")
        click.echo(format_table(["file", "key", "reason"], [(e.file, e.key, e.reason) for e in rt.recipe_errors]))


@main.command()
def outlets() -> None:
    """Every outlet with its slug, item count and newest item."""
    from feedsvc.outlets import OutletDirectory
    from feedsvc.tables import format_table

    app = _make_app()
    rt = app.extensions["feedsvc"]
    directory = OutletDirectory(rt.store.outlets(), app.config["OUTLET_ALIASES"])
    rows = [(o.name, o.slug, o.count, _when(o.latest)) for o in directory]
    click.echo(format_table(["outlet", "slug", "items", "latest (UTC)"], rows))


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--base-url", required=True, help="Where the files will be served, e.g. https://example.org/news")
def export(folder: Path, base_url: str) -> None:
    """Write every feed and the OPML into FOLDER for static hosting."""
    from feedsvc.exporter import export_feeds

    result = export_feeds(_make_app(), folder, base_url)
    if result.skipped_all:
        click.echo("store unchanged since the last export: nothing to do")
    else:
        click.echo(f"{len(result.written)} files written, {result.unchanged} unchanged")


@recipes.command("import-opml")
@click.argument("file", type=click.File("rb"))
@click.option("--into", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Recipes folder (default: FEEDSVC_RECIPES_PATH or feeds).")
def recipes_import_opml(file, folder: Path | None) -> None:
    """One `feed` recipe per outline of a reader's OPML file."""
    from feedsvc.opml_import import OpmlError, drafts_from_opml

    folder = folder or Path(os.environ.get("FEEDSVC_RECIPES_PATH", "feeds"))
    folder.mkdir(parents=True, exist_ok=True)
    taken = {p.stem for p in folder.glob("*.toml")}
    try:
        drafts = drafts_from_opml(file.read(), taken)
    except OpmlError as exc:
        raise click.ClickException(str(exc)) from None
    for draft in drafts:
        (folder / f"{draft.id}.toml").write_text(draft.toml(), encoding="utf-8")
        click.echo(f"wrote {folder / (draft.id + '.toml')}  ({draft.url})")
    click.echo(f"{len(drafts)} recipes written")


def _register_extract_commands() -> None:
    from feedsvc.extract.cli import extract_command, recipe_group

    main.add_command(extract_command)
    main.add_command(recipe_group)


_register_extract_commands()
