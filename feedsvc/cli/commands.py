"""Command line: `feedsvc serve`, `feedsvc scheduler`, `feedsvc refresh`, `feedsvc sources`,
`feedsvc recipes check` and the rest (see docs/command-line.md). Every verb but `serve` and
`export` works on the service alone, without building the web app."""

from __future__ import annotations

import errno
import json
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from feedsvc import __version__
from feedsvc.core.errors import FeedsvcError, RecipeError

# What `{snapshot}` stands for when a verb looks at the demo's data without fetching it.
_SNAPSHOT_STAND_IN = "http://127.0.0.1"


@dataclass
class Options:
    """The global options: which instance folder, and whether the demo's."""

    instance: Path | None = None
    demo: bool = False

    def overrides(self, snapshot_base: str | None = None) -> dict:
        values: dict = {}
        if self.instance is not None:
            values["INSTANCE_PATH"] = str(self.instance)
        if self.demo:
            values.update(demo_config(snapshot_base or _SNAPSHOT_STAND_IN))
        return values


def demo_config(snapshot_base: str) -> dict:
    """Settings for --demo: only the bundled recipes, pointed at the
    snapshot server, in a database of their own. The snapshot is on
    loopback, which fetching otherwise refuses, and is ours to hurry."""
    from feedsvc.snapshot import RECIPES_DIR
    from feedsvc.fetch.ssrf import LOOPBACK_NETWORKS

    return {"RECIPES_PATH": str(RECIPES_DIR), "RECIPE_VARIABLES": {"snapshot": snapshot_base}, "DEMO": True,
            "FETCH_ALLOWED_NETWORKS": LOOPBACK_NETWORKS, "FETCH_HOST_DELAY_SECONDS": 0}


def _open_service(overrides: dict):
    from feedsvc.service import open_service
    from feedsvc.store.store import store_problem

    try:
        return open_service(overrides)
    except RecipeError as exc:
        raise click.ClickException(f"recipe refused: {exc}") from None
    except ValueError as exc:  # a malformed FEEDSVC_* setting
        raise click.ClickException(f"bad setting: {exc}") from None
    except (FeedsvcError, SQLAlchemyError) as exc:  # the store is unreachable, or not at this version
        raise click.ClickException(store_problem(exc)) from None


def _service(ctx: click.Context, fetching: bool = False, **extra):
    """The service for this command, closed when the command ends. With
    --demo, a verb that fetches gets the snapshot site served on loopback."""
    options: Options = ctx.find_object(Options) or Options()
    snapshot_base = None
    if options.demo and fetching:
        from feedsvc.snapshot import SnapshotServer

        snapshot = SnapshotServer().start()
        ctx.call_on_close(snapshot.stop)
        snapshot_base = snapshot.base_url
    service = _open_service({**options.overrides(snapshot_base), **extra})
    ctx.call_on_close(service.close)
    return service


def _settings(ctx: click.Context):
    from feedsvc.core.config import load_settings

    options: Options = ctx.find_object(Options) or Options()
    try:
        return load_settings(options.overrides())
    except ValueError as exc:
        raise click.ClickException(f"bad setting: {exc}") from None


def _error_cell(report, width: int = 100) -> str:
    if not report.error:
        return ""
    text = f"{report.error_kind}: {report.error}" if report.error_kind else report.error
    return text if len(text) <= width else text[: width - 1] + "…"


def report_table(reports, next_runs: dict | None = None) -> str:
    """One line per refresh: source, status, new, updated, time, next run, error."""
    from feedsvc.cli.tables import format_table

    next_runs = next_runs or {}
    rows = [(r.source_id, r.status, r.new, r.updated, f"{r.duration_seconds:.2f}s", _when(next_runs.get(r.source_id)),
             _error_cell(r)) for r in reports]
    return format_table(["source", "status", "new", "updated", "time", "next run (UTC)", "error"], rows)


def _backing_off(report) -> bool:
    return report.status == "skipped" and report.error_kind == "backoff"


def _summary(reports) -> str:
    failed = sum(r.status == "error" for r in reports)
    skipped = sum(r.status in ("skipped", "busy") for r in reports)
    text = (f"{len(reports)} source(s): {len(reports) - failed - skipped} ok, {skipped} skipped, {failed} failed; "
            f"{sum(r.new for r in reports)} new item(s)")
    if any(_backing_off(r) for r in reports):
        text += "\nA source backing off after failures waits for its next run; `feedsvc refresh --force` runs it now."
    return text


def _refresh_with_progress(refresher, source_ids: list[str], force: bool = False):
    """Refresh, with a progress bar on stderr when it is a terminal (so
    piped output stays clean). Sources finish in any order, so the bar
    moves as the refresher reports each one."""
    if not sys.stderr.isatty():
        return refresher.refresh_many(source_ids, force=force)
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
            return refresher.refresh_many(source_ids, force=force)
        finally:
            refresher.listeners.remove(advance)


@click.group()
@click.version_option(__version__, prog_name="feedsvc")
@click.option("--instance", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Instance folder holding the SQLite store (default: FEEDSVC_INSTANCE_PATH, else `instance/`).")
@click.option("--demo", is_flag=True,
              help="Work on the demo's data: its snapshot recipe and demo.sqlite3, as `serve --demo` serves them.")
@click.pass_context
def main(ctx: click.Context, instance: Path | None, demo: bool) -> None:
    """feedsvc: news sites in, Atom and RSS feeds out."""
    ctx.obj = Options(instance, demo)


def check_port(host: str, port: int) -> None:
    """Refuse a port another process listens on before anything starts,
    rather than after the demo's refresh and the server's retries."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                              flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise click.ClickException(f"cannot listen on {host}: {exc.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        # As the server binds: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(f"port {port} on {host} is already in use (another feedsvc serve?); "
                                           f"stop that process or choose another port with --port") from None
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Request threads.")
@click.option("--demo", is_flag=True, help="Serve the bundled snapshot site on loopback and read only it.")
@click.pass_obj
def serve(options: Options | None, host: str, port: int, threads: int, demo: bool) -> None:
    """Run the web service."""
    from feedsvc.app import stop_scheduler
    from feedsvc.web.server import run_server
    from feedsvc.snapshot import SnapshotServer

    check_port(host, port)
    options = options or Options()
    config = options.overrides()
    if demo or options.demo:
        snapshot = SnapshotServer().start()
        config = {**config, **demo_config(snapshot.base_url)}
    # Opened here first, so a bad setting or an unreachable store ends in one
    # line before the server starts.
    service = _open_service(config)
    if demo or options.demo:
        click.echo(report_table(service.refresher.refresh_many(service.recipes)))
        from feedsvc.core.outlets import OutletDirectory

        directory = OutletDirectory(service.store.outlets(), service.settings["OUTLET_ALIASES"])
        _print_demo_urls(f"http://{host}:{port}", snapshot.base_url, directory)
    service.close()  # the server process opens its own connections
    images = _start_images_process(config)
    if images is not None:
        config = {**config, "IMAGE_PROXY_UPSTREAM": images.url}
    try:
        run_server(lambda: _serving_app(config), host, port, threads, on_exit=stop_scheduler)
    finally:
        if images is not None:
            images.stop()


def _start_images_process(config: dict):
    """With FEEDSVC_IMAGE_PROXY on, the images process on a loopback port,
    so one `serve` answers /img/ on its own address."""
    from feedsvc.core.config import load_settings
    from feedsvc.images.process import ImagesProcess
    from feedsvc.service import database_url_for

    try:
        settings = load_settings(config)
    except ValueError as exc:
        raise click.ClickException(f"bad setting: {exc}") from None
    if not settings["IMAGE_PROXY"] or settings["IMAGE_PROXY_UPSTREAM"]:
        return None
    # The same store, so both processes read the same signing key.
    return ImagesProcess.start({**config, "DATABASE_URL": database_url_for(settings),
                                "INSTANCE_PATH": settings["INSTANCE_PATH"]})


@main.command("images")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
@click.pass_context
def images(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Run the image proxy (GET /img/<token>), asynchronous, on granian."""
    import os

    from granian import Granian

    from feedsvc.core.config import ENV_PREFIX
    from feedsvc.service import database_url_for

    # The workers build their settings from the environment: --instance
    # and --demo reach them as the store they name.
    settings = _settings(ctx)
    os.environ[f"{ENV_PREFIX}INSTANCE_PATH"] = settings["INSTANCE_PATH"]
    os.environ[f"{ENV_PREFIX}DATABASE_URL"] = database_url_for(settings)
    Granian("feedsvc.images.app:create_image_app", factory=True, interface="asgi", address=host, port=port,
            workers=workers).serve()


def _serving_app(config: dict):
    """The web app with its scheduler: `serve` is web and worker in one."""
    from feedsvc.app import create_app, start_scheduler

    app = create_app(_open_service(config))
    start_scheduler(app)
    return app


def _print_demo_urls(base: str, snapshot_base: str, outlets) -> None:
    from feedsvc.web.subscriptions import count_words, outlet_url

    click.echo(f"Snapshot site: {snapshot_base}/shandong/yaowen/index.shtml")
    click.echo(f"Index: {base}/")
    click.echo(f"All items: {base}/feeds/all.atom")
    click.echo(f"Every outlet feed, for a reader: {base}/feeds.opml")
    for outlet in outlets:
        click.echo(f"{outlet.name} ({count_words(outlet.count)}): {outlet_url(base, outlet.slug)}")
    click.echo("Other commands see this data with --demo, e.g. `feedsvc --demo outlets`.")
    sys.stdout.flush()


@main.command("scheduler")
@click.pass_context
def run_scheduler(ctx: click.Context) -> None:
    """Run the scheduler alone (no web server): the Procfile's worker.
    SIGHUP reloads the recipes at once; SIGTERM stops it."""
    import signal
    import threading

    from feedsvc.ingest.scheduler import make_scheduler, request_reload, stop_scheduler

    service = _service(ctx, fetching=True)
    settings = service.settings
    scheduler = make_scheduler(service, blocking=True)
    if settings["SCHEDULER_METRICS_PORT"]:
        _serve_metrics(service, settings["SCHEDULER_METRICS_PORT"], settings["SCHEDULER_METRICS_ADDRESS"])

    def stop(signum, _frame):
        click.echo(f"signal {signum}: stopping after the running refresh", err=True)
        stop_scheduler(scheduler, service)

    def reload(_signum, _frame):
        # Not in the handler itself: it may interrupt the scheduler while
        # that holds its own locks.
        threading.Thread(target=request_reload, args=(scheduler, service), daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, reload)
    click.echo(f"scheduler: {len(service.recipes)} sources, tick every {settings['SCHEDULER_TICK_SECONDS']:g} s",
               err=True)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    # The tick runs in a scheduler thread: wait for it here, before the
    # interpreter starts shutting down under it.
    stop_scheduler(scheduler, service, wait=True)
    click.echo("scheduler: stopped", err=True)


def _serve_metrics(service, port: int, address: str) -> None:
    """The worker has no web server: Prometheus scrapes this port instead."""
    from feedsvc.metrics.port import serve_metrics

    try:
        serve_metrics(service.metrics.registry, address, port, service.settings["METRICS_TOKEN"])
    except OSError as exc:
        raise click.ClickException(f"cannot serve metrics on {address}:{port}: {exc.strerror or exc}") from None
    click.echo(f"scheduler: metrics at http://{address}:{port}/metrics", err=True)


@main.command()
@click.argument("sources", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option("--force", is_flag=True, help="Also refresh sources that are backing off after failures.")
@click.pass_context
def refresh(ctx: click.Context, sources: tuple[str, ...], as_json: bool, force: bool) -> None:
    """Refresh SOURCES now (all sources when none are named): a progress
    bar on a terminal, then a table of the results with each source's next
    run. A source backing off after failures is skipped unless --force.
    Exit 1 if any source failed or is backing off after failures."""
    service = _service(ctx, fetching=True)
    unknown = [s for s in sources if s not in service.recipes]
    if unknown:
        raise click.ClickException(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(service.recipes)}")
    reports = _refresh_with_progress(service.refresher, list(dict.fromkeys(sources or service.recipes)), force)
    next_runs = {s.id: s.next_run_at for s in service.store.source_states()}
    if as_json:
        click.echo(json.dumps([{**r.as_dict(), "next_run_at": _iso(next_runs.get(r.source_id))} for r in reports],
                              ensure_ascii=False, indent=2))
    else:
        click.echo(report_table(reports, next_runs))
        click.echo(_summary(reports))
    if any(r.status == "error" or _backing_off(r) for r in reports):
        sys.exit(1)


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


@main.group()
def db() -> None:
    """The store's schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Migrate the store to this version's schema (safe to repeat)."""
    from feedsvc.service import database_url_for
    from feedsvc.store.store import Store, store_problem

    store = Store.from_url(database_url_for(_settings(ctx)))
    try:
        click.echo(f"schema at revision {store.upgrade_schema()}")
    except (FeedsvcError, SQLAlchemyError) as exc:
        raise click.ClickException(store_problem(exc)) from None
    finally:
        store.engine.dispose()


@main.group()
def recipes() -> None:
    """Write, check and import recipe files."""


@recipes.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.pass_context
def recipes_check(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Validate recipe files (default: the recipes folder). Exit 1 on errors."""
    from feedsvc.sources.recipes import read_recipe

    settings = _settings(ctx)
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
            hint = ""
            if "{snapshot}" in str(exc):
                hint = "; `{snapshot}` is the demo's snapshot site: check the demo recipe with `feedsvc --demo recipes check`"
            click.echo(f"error  {exc}{hint}", err=True)
    if errors:
        sys.exit(1)


@recipes.command("import-opml")
@click.argument("file", type=click.File("rb"))
@click.option("--into", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Recipes folder (default: FEEDSVC_RECIPES_PATH or feeds).")
@click.pass_context
def recipes_import_opml(ctx: click.Context, file, folder: Path | None) -> None:
    """One `feed` recipe per outline of a reader's OPML file. A feed that a
    recipe in the folder already reads is skipped, so importing twice
    writes nothing new; every skipped outline is listed with its reason."""
    from feedsvc.sources.opml_import import OpmlError, plan_import
    from feedsvc.sources.recipes import known_start_urls

    folder = folder or Path(_settings(ctx)["RECIPES_PATH"])
    folder.mkdir(parents=True, exist_ok=True)
    try:
        plan = plan_import(file.read(), {p.stem for p in folder.glob("*.toml")}, known_start_urls(folder))
    except OpmlError as exc:
        raise click.ClickException(str(exc)) from None
    for draft in plan.drafts:
        (folder / f"{draft.id}.toml").write_text(draft.toml(), encoding="utf-8")
        click.echo(f"wrote    {folder / (draft.id + '.toml')}  ({draft.url})")
    for skipped in plan.skipped:
        click.echo(f"skipped  {skipped.text}  ({skipped.url or 'no feed address'}): {skipped.reason}")
    click.echo(f"{len(plan.drafts)} recipe(s) written, {len(plan.skipped)} outline(s) skipped")


@main.command()
@click.pass_context
def sources(ctx: click.Context) -> None:
    """Each source's status: last success, last error, next run, items;
    then any recipe file that is refused, with its key and reason."""
    from feedsvc.cli.tables import format_table

    # Report broken recipe files rather than refuse to start over them.
    service = _service(ctx, LENIENT_RECIPES=True)
    counts = service.store.source_item_counts()
    from feedsvc.extract.reading import describe_read_stats

    states = [s for s in service.store.source_states() if s.id in service.recipes]
    rows = [(s.id, s.kind, _when(s.last_success_at), s.consecutive_failures, _when(s.next_run_at),
             counts.get(s.id, ""), (s.last_error or "")[:60]) for s in states]
    click.echo(format_table(["source", "kind", "last success (UTC)", "failures", "next run (UTC)", "items", "last error"], rows))
    read = [(s.id, describe_read_stats(s.read_stats)) for s in states if s.read_stats]
    if read:  # where each field came from: the recipe's selectors or the extractor
        click.echo("\nfields read (last refresh that read pages):")
        click.echo(format_table(["source", "fields"], read))
    if service.recipe_errors:
        click.echo("\nrecipe files refused (a running service keeps their last good version):")
        click.echo(format_table(["file", "key", "reason"], [(e.file, e.key, e.reason) for e in service.recipe_errors]))


@main.command()
@click.pass_context
def outlets(ctx: click.Context) -> None:
    """Every outlet with its slug, item count and newest item."""
    from feedsvc.core.outlets import OutletDirectory
    from feedsvc.cli.tables import format_table

    service = _service(ctx)
    directory = OutletDirectory(service.store.outlets(), service.settings["OUTLET_ALIASES"])
    rows = [(o.name, o.slug, o.count, _when(o.latest)) for o in directory]
    click.echo(format_table(["outlet", "slug", "items", "latest (UTC)"], rows))


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--base-url", required=True, help="Where the files will be served, e.g. https://example.org/news")
@click.pass_context
def export(ctx: click.Context, folder: Path, base_url: str) -> None:
    """Write every feed and the OPML into FOLDER for static hosting."""
    from feedsvc.app import create_app
    from feedsvc.cli.exporter import export_feeds

    # Rendered by the web app's own routes, so the files hold the bytes it serves.
    result = export_feeds(create_app(_service(ctx)), folder, base_url)
    if result.skipped_all:
        click.echo("store unchanged since the last export: nothing to do")
    else:
        click.echo(f"{len(result.written)} files written, {result.unchanged} unchanged")


# -- `feedsvc recipes test`: a dry run against the live site ------------------

def _recipe_to_test(target: str, settings: dict):
    """The recipe a `recipes test` TARGET names: a URL (read as kind =
    "auto"), a recipe file, or the id of a recipe in the recipes folder."""
    from feedsvc.sources.recipes import Recipe, read_recipe, read_recipe_folder

    variables = settings["RECIPE_VARIABLES"]
    if target.startswith(("http://", "https://")):
        return Recipe(id="test", name=target, kind="auto", start_urls=[target])
    try:
        if Path(target).is_file():
            return read_recipe(Path(target), variables)
    except RecipeError as exc:
        raise click.ClickException(f"recipe refused: {exc}") from None
    loaded = read_recipe_folder(settings["RECIPES_PATH"], variables)
    found = {r.id: r for r in loaded.recipes}
    if target not in found:
        refused = [str(e) for e in loaded.errors if Path(e.file).stem == target]
        raise click.ClickException(refused[0] if refused else
                                   f"no recipe {target!r} in {settings['RECIPES_PATH']}; known: {', '.join(found)}")
    return found[target]


@recipes.command("test")
@click.argument("target", metavar="ID|FILE|URL")
@click.pass_context
def recipes_test(ctx: click.Context, target: str) -> None:
    """Dry run: fetch and read a recipe's pages as a refresh would (same
    fetcher and settings, validators not sent) and print what would be
    stored, and which fields came from selectors or the extractor. Writes
    nothing. Exit 1 if the recipe does not read the site."""
    from feedsvc.ingest.dry_run import dry_run, report_lines
    from feedsvc.core.errors import FeedsvcError
    from feedsvc.service import fetch_settings

    settings = _settings(ctx)
    fetching = fetch_settings(settings)
    recipe = _recipe_to_test(target, settings)
    try:
        run = dry_run(recipe, fetching)
    except FeedsvcError as exc:
        kind = getattr(exc, "kind", "error")
        raise click.ClickException(f"{recipe.id}: {kind}: {exc}") from None
    click.echo("\n".join(report_lines(run)))


@main.group()
def rules() -> None:
    """Block/keep rules (FEEDSVC_RULES and recipes' [rules])."""


@rules.command("apply")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; remove nothing.")
@click.pass_context
def rules_apply(ctx: click.Context, dry_run: bool) -> None:
    """Remove stored items that the rules block now (rules act at ingest,
    so items stored before a rule was written stay until this runs)."""
    from feedsvc.store.rule_apply import apply_rules
    from feedsvc.cli.tables import format_table

    service = _service(ctx)
    removed = apply_rules(service.store, service.refresher.rules, service.recipes.values(), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(format_table(["source", verb], sorted(removed.items())) if removed else "no source has rules")


def _register_extract_commands() -> None:
    from feedsvc.cli.extract import extract_command, recipe_suggest

    main.add_command(extract_command)
    recipes.add_command(recipe_suggest)


_register_extract_commands()
