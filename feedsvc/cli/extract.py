"""Command line for automatic extraction: `feedsvc extract PATH_OR_URL`
and `feedsvc recipes suggest URL_OR_PATH`. Registered by feedsvc.cli.commands.

A URL goes through the same fetcher and fetch settings (timeouts, sizes,
user agent, allowed networks; charset from the HTTP header) as sources do;
a path is read as the bytes a fetch returns."""

from __future__ import annotations

import json
from pathlib import Path

import click

from feedsvc.core.errors import FeedsvcError
from feedsvc.core.models import DEFAULT_ZONE_NAME


def known_outlets():
    """The shipped outlet directory plus the file FEEDSVC_EXTRACT_OUTLETS_FILE names."""
    import os

    from feedsvc.core.config import ENV_PREFIX, from_environment, from_file
    from feedsvc.parsers.outlet_names import OutletFileError, load_outlets

    try:
        settings = {**from_file(os.environ.get(f"{ENV_PREFIX}CONFIG")), **from_environment()}
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    path = settings.get("EXTRACT_OUTLETS_FILE")
    try:
        return load_outlets([path] if path else [])
    except OutletFileError as exc:
        raise click.ClickException(str(exc)) from None


def _is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def load_target(target: str) -> tuple[bytes, str | None, str | None]:
    """(bytes, URL they came from, charset the server declared)."""
    if not _is_url(target):
        try:
            return Path(target).read_bytes(), None, None
        except OSError as exc:
            raise click.ClickException(f"cannot read {target}: {exc.strerror or exc}") from None
    from feedsvc.core.config import load_settings
    from feedsvc.fetch.page import fetch_page, make_client
    from feedsvc.service import fetch_settings

    try:  # the service's own: allowed networks, user agent, limits
        settings = fetch_settings(load_settings())
    except ValueError as exc:
        raise click.ClickException(f"bad setting: {exc}") from None
    with make_client(settings) as client:
        try:
            page = fetch_page(client, target, settings)
        except FeedsvcError as exc:
            raise click.ClickException(str(exc)) from None
    return page.content, page.final_url, page.charset


@click.command("extract")
@click.argument("target", metavar="PATH_OR_URL")
@click.option("--url", "page_url", help="Address of a saved page, for its canonical URL and links.")
@click.option("--timezone", "zone_name", default=DEFAULT_ZONE_NAME, show_default=True,
              help="Zone for times the page writes without one.")
@click.option("--listing", is_flag=True, help="Print the page's listing entries instead of an article.")
def extract_command(target: str, page_url: str | None, zone_name: str, listing: bool) -> None:
    """Extract an article (title, time, author, outlet, editors, body, related
    list) from a page without selectors, and print it as JSON."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from feedsvc.extract import extract_listing, extract_page
    from feedsvc.extract.analysis import iso

    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.ClickException(f"unknown time zone {zone_name!r}") from None
    data, fetched_url, charset = load_target(target)
    url = page_url or fetched_url
    try:
        if listing:
            entries = extract_listing(data, url, zone=zone, charset=charset)
            result = [{"title": e.title, "link": e.link, "summary": e.summary, "outlet": e.outlet,
                       "date": iso(e.published)} for e in entries]
        else:
            result = extract_page(data, url, zone=zone, charset=charset, outlets=known_outlets()).as_json()
    except FeedsvcError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


@click.command("suggest")
@click.argument("target", metavar="URL_OR_PATH")
@click.option("--url", "page_url", help="Address of a saved page.")
def recipe_suggest(target: str, page_url: str | None) -> None:
    """Print a draft recipe (TOML) with the selectors found in the page."""
    from feedsvc.extract.suggest import suggest_recipe

    data, fetched_url, charset = load_target(target)
    try:
        click.echo(suggest_recipe(data, page_url or fetched_url, charset=charset, outlets=known_outlets()), nl=False)
    except FeedsvcError as exc:
        raise click.ClickException(str(exc)) from None
