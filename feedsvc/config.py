"""Every setting feedsvc reads, in one place. Each is read from the
environment as FEEDSVC_<NAME> (or a FEEDSVC_CONFIG TOML file) and documented
in docs/configuration.md, generated from this table; a test fails when the
two differ."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from feedsvc.ssrf import parse_networks


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    doc: str
    parse: Callable[[str], object] = str


def _log_format(text: str) -> str:
    if text not in ("text", "json"):
        raise ValueError("expected text or json")
    return text


def _json_object(text: str) -> dict:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def _networks(text: str) -> str:
    parse_networks(text)  # refuse a malformed entry at start-up, by name
    return text


SETTINGS: tuple[Setting, ...] = (
    Setting("CONFIG", None, "Path of an optional TOML file of settings: the names below without `FEEDSVC_` (`site_title = \"…\"`); environment variables win over it."),
    Setting("LOG_LEVEL", "INFO", "Least severe log level written: DEBUG, INFO, WARNING, ERROR."),
    Setting("LOG_FORMAT", "text", "`text` (`event key=value …`) or `json` (one JSON object per line, same keys).", _log_format),
    Setting("INSTANCE_PATH", None, "Folder for the SQLite database and other state (default: Flask's instance folder)."),
    Setting("DATABASE_URL", None, "SQLAlchemy URL of the store (default: SQLite file `feedsvc.sqlite3` in the instance folder; `demo.sqlite3` with `--demo`)."),
    Setting("DB_AUTO_UPGRADE", False, "Run schema migrations at start-up on PostgreSQL too (SQLite always upgrades itself); otherwise run `feedsvc db upgrade`.", lambda v: v.lower() in ("1", "true", "yes", "on")),
    Setting("RECIPES_PATH", "feeds", "Folder of recipe files (`*.toml`)."),
    Setting("RECIPE_VARIABLES", {}, "JSON object of `{name}` placeholders filled into recipes' `start_urls`, e.g. `{\"mirror\": \"http://10.0.0.5\"}`.", _json_object),
    Setting("SITE_TITLE", "feedsvc", "Name shown on the index page, and feed author when a feed spans several recipes."),
    Setting("BASE_URL", None, "Public URL of the service (e.g. `https://feeds.example.org`) for self links; default: taken from each request."),
    Setting("FETCH_TIMEOUT_SECONDS", 20.0, "Longest wait for one page, body included.", float),
    Setting("FETCH_CONNECT_TIMEOUT_SECONDS", 10.0, "Longest wait to connect to a site.", float),
    Setting("FETCH_MAX_BYTES", 10 * 1024 * 1024, "Largest page body read; a larger one fails that fetch.", int),
    Setting("FETCH_MAX_REDIRECTS", 5, "Most redirects followed for one URL.", int),
    Setting("USER_AGENT", None, "User-Agent sent to sites (default: `feedsvc/<version> (self-hosted news feed generator)`)."),
    Setting("FETCH_HOST_DELAY_SECONDS", 1.0, "Shortest time between two requests to one host (robots.txt included), across all sources.", float),
    Setting("FETCH_ALLOWED_NETWORKS", "", "Comma-separated addresses or networks sites may resolve to besides public ones (e.g. `127.0.0.0/8,::1` for a local mirror). Private, loopback and link-local addresses are refused otherwise.", _networks),
    Setting("REFRESH_JITTER_RATIO", 0.1, "A source's next run is its interval × (1 + up to this ratio, at random), so sources spread out.", float),
    Setting("REFRESH_CONCURRENCY", 4, "Sources refreshed at the same time by one process.", int),
    Setting("LEASE_SECONDS", 30.0, "How long a source's lease lasts without renewal: a process renews the leases of the sources it is refreshing every `LEASE_HEARTBEAT_SECONDS`, so one that dies or hangs loses them (and another process takes them over) within this time.", float),
    Setting("LEASE_HEARTBEAT_SECONDS", 10.0, "How often a process renews the leases it holds (at most a third of `LEASE_SECONDS`). `feedsvc_source_leases_stale` counts leases not renewed for two heartbeats.", float),
    Setting("PRUNE_INTERVAL_SECONDS", 3600.0, "How often the scheduler deletes items past their recipe's retention (0 = never).", float),
    Setting("SCHEDULER_TICK_SECONDS", 30.0, "How often the scheduler looks for due sources.", float),
    Setting("SCHEDULER_METRICS_PORT", 0, "Port on which `feedsvc scheduler` serves its Prometheus metrics at `/metrics` (0: none; web processes serve `/metrics` themselves).", int),
    Setting("SCHEDULER_METRICS_ADDRESS", "127.0.0.1", "Address the scheduler's metrics port listens on (`0.0.0.0` for every interface)."),
    Setting("METRICS_TOKEN", None, "Bearer token that `/metrics` requires, on web processes and on the scheduler's metrics port (Prometheus: `authorization: {credentials: …}`). Unset: anyone who reaches `/metrics` may read it, so keep it behind the proxy."),
    Setting("RECIPES_RELOAD_SECONDS", 5.0, "How often a running process looks for added, removed or edited recipe files and loads them (0: only on SIGHUP to `feedsvc scheduler`, or at restart).", float),
    Setting("OUTLET_ALIASES", {}, "JSON object mapping outlet names to the name they are shown and filtered as, e.g. `{\"大众网\": \"大众日报\"}`: one outlet, one feed.", _json_object),
    Setting("FEED_CACHE_MAX_BYTES", 64 * 1024 * 1024, "Bytes of rendered feeds one web worker process keeps (the feed cache and the fast path's answers share this budget); the least recently used go first.", int),
    Setting("FEED_RENDER_RATE_PER_MINUTE", 120.0, "Feeds one client address (an IPv6 /64) may have rendered per minute, per web worker process: requests for feeds not in the cache (new filter values, first requests). More get 429 with `Retry-After`; cached feeds are never limited (0: no limit).", float),
    Setting("FEED_RENDER_BURST", 60, "Feed renders one client may ask for at once before the per-minute rate applies.", int),
    Setting("CACHE_CHECK_INTERVAL_SECONDS", 0.25, "How often a web process checks the store for changes before serving a cached feed.", float),
    Setting("WEBSUB_HUB", None, "URL of a WebSub hub: feeds carry `rel=hub` and the hub is pinged after a refresh that changed them."),
    Setting("REFRESH_TOKEN", None, "Bearer token that `POST /refresh` requires. Unset: only loopback clients may refresh."),
    Setting("TRUSTED_PROXIES", "", "Comma-separated addresses or networks of reverse proxies whose `X-Forwarded-For` is believed (e.g. `127.0.0.1,10.0.0.0/8`)."),
    Setting("ADMIN_RATE_LIMIT_PER_MINUTE", 10.0, "Requests per minute one client address (an IPv6 /64) may make to `POST /refresh` and the other admin endpoints, refused ones included; more get 429 with `Retry-After` (0: no limit). Counted in each process: with N worker processes a client may get up to N times this.", float),
    Setting("ADMIN_RATE_LIMIT_BURST", 10, "Admin requests one client may make at once before the per-minute rate applies.", int),
)

DEFAULTS = {s.name: s.default for s in SETTINGS}
ENV_PREFIX = "FEEDSVC_"


def from_environment(environ: Mapping[str, str] = os.environ) -> dict:
    """Settings present in the environment, parsed; a malformed value
    names its variable."""
    values = {}
    for setting in SETTINGS:
        raw = environ.get(ENV_PREFIX + setting.name)
        if raw is None or raw == "":
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ValueError(f"{ENV_PREFIX}{setting.name}={raw!r}: {exc}") from None
    return values


def from_file(path: str | None) -> dict:
    """Settings from a TOML file (`FEEDSVC_CONFIG`): the same names as the
    environment variables without the prefix, upper- or lower-case. Values
    may be TOML types or the strings the environment would hold."""
    if not path:
        return {}
    import tomllib

    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ValueError(f"{ENV_PREFIX}CONFIG={path!r}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    known = {s.name: s for s in SETTINGS}
    values = {}
    for key, value in data.items():
        setting = known.get(key.upper())
        if setting is None:
            raise ValueError(f"{path}: {key}: unknown setting")
        try:
            values[setting.name] = setting.parse(value) if isinstance(value, str) else value
        except ValueError as exc:
            raise ValueError(f"{path}: {key}: {exc}") from None
    return values


def markdown_table() -> str:
    """The settings table of docs/configuration.md."""
    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for s in SETTINGS:
        default = "" if s.default in (None, "", {}, ()) else f"`{s.default}`"
        rows.append(f"| `{ENV_PREFIX}{s.name}` | {default} | {s.doc} |")
    return "\n".join(rows)


_DOCUMENT_HEAD = """# Configuration

Every setting feedsvc reads is listed here; the table is the one in
`feedsvc/config.py` (`SETTINGS`), and a test fails when they differ.

Each setting is an environment variable. The same names without the
`FEEDSVC_` prefix may also be put in a TOML file named by `FEEDSVC_CONFIG`:

```toml
# feedsvc.toml
site_title = "山东新闻"
database_url = "postgresql+psycopg://feedsvc@db.internal/feedsvc"
refresh_concurrency = 8
outlet_aliases = { "大众网" = "大众日报" }
```

Precedence, lowest first: defaults, the TOML file, environment variables. A
malformed value stops start-up with the variable's (or key's) name.

<!-- generated from feedsvc/config.py by `python -m feedsvc.config > docs/configuration.md` -->
"""


def markdown_document() -> str:
    """All of docs/configuration.md, so regenerating it keeps its introduction."""
    return f"{_DOCUMENT_HEAD}\n{markdown_table()}"


if __name__ == "__main__":
    print(markdown_document())
