"""Every setting feedsvc reads, in one place. Each is read from the
environment as FEEDSVC_<NAME> (or a FEEDSVC_CONFIG TOML file) and documented
in docs/configuration.md, generated from this table; a test fails when the
two differ."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from feedsvc.core.networks import parse_networks


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    doc: str
    parse: Callable[[str], object] = str

    def coerce(self, value: object) -> object:
        """A value from any source as its typed value: text is parsed, a
        number given where another kind of number is expected is converted
        (`0` for a float setting), anything else is taken as it is."""
        if isinstance(value, str):
            return self.parse(value)
        if self.parse in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.parse(value)
        return value


def _log_format(text: str) -> str:
    if text not in ("text", "json"):
        raise ValueError("expected text or json")
    return text


def _json_object(text: str) -> dict:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def _flag(text: str) -> bool:
    return text.lower() in ("1", "true", "yes", "on")


SETTINGS: tuple[Setting, ...] = (
    Setting("CONFIG", None, "Path of an optional TOML file of settings: the names below without `FEEDSVC_` (`site_title = \"…\"`); environment variables win over it."),
    Setting("LOG_LEVEL", "INFO", "Least severe log level written: DEBUG, INFO, WARNING, ERROR."),
    Setting("LOG_FORMAT", "text", "`text` (`event key=value …`) or `json` (one JSON object per line, same keys).", _log_format),
    Setting("INSTANCE_PATH", None, "Folder for the SQLite database and other state (default: `instance/` beside the `feedsvc` package in a source checkout, `<venv>/var/feedsvc.app-instance` when installed into a virtual environment)."),
    Setting("DATABASE_URL", None, "SQLAlchemy URL of the store (default: SQLite file `feedsvc.sqlite3` in the instance folder; `demo.sqlite3` with `--demo`)."),
    Setting("DB_AUTO_UPGRADE", False, "Run schema migrations at start-up on PostgreSQL too (SQLite always upgrades itself); otherwise run `feedsvc db upgrade`.", _flag),
    Setting("RECIPES_PATH", "feeds", "Folder of recipe files (`*.toml`)."),
    Setting("RECIPE_VARIABLES", {}, "JSON object of `{name}` placeholders filled into recipes' `start_urls`, e.g. `{\"mirror\": \"http://10.0.0.5\"}`.", _json_object),
    Setting("RULES", {}, "JSON object of block/keep rules for every source's items, as a recipe's `[rules]` table: `{\"block\": [\"广告\", \"regex:^【推广】\"], \"keep\": []}` (see docs/peers.md). Applied at ingest; `feedsvc rules apply` applies them to stored items. A malformed rule stops start-up.", _json_object),
    Setting("FEED_REGEX_SCAN_MAX_ITEMS", 5000, "Most items one request with a `regex:` filter (`q=regex:…`, `exclude=regex:…`) reads, newest first, to fill its page; older items are not searched by it.", int),
    Setting("SITE_TITLE", "feedsvc", "Name shown on the index page, and feed author when a feed spans several recipes."),
    Setting("BASE_URL", None, "Public URL of the service (e.g. `https://feeds.example.org`) for self links; default: taken from each request."),
    Setting("FEED_ID_AUTHORITY", None, "Domain name or e-mail address you own, under which feed ids are minted (RFC 4151 `tag:` URIs), optionally with its date (`example.org,2026-05-01`). Default: the host of `FEEDSVC_BASE_URL`, else of the first request. Recorded in the store the first time it is known, so ids never change; a store made before feedsvc recorded one keeps `feedsvc,2026` until this is set (readers then see the feeds as new ones)."),
    Setting("FEED_LANGUAGE", "zh-CN", "Language (`xml:lang`, `<language>`) of feeds whose items come from sources of different languages; other feeds take their sources' `language`."),
    Setting("FETCH_TIMEOUT_SECONDS", 20.0, "Longest wait for one page, body included.", float),
    Setting("FETCH_CONNECT_TIMEOUT_SECONDS", 10.0, "Longest wait to connect to a site.", float),
    Setting("FETCH_MAX_BYTES", 10 * 1024 * 1024, "Largest page body read; a larger one fails that fetch.", int),
    Setting("FETCH_MAX_REDIRECTS", 5, "Most redirects followed for one URL.", int),
    Setting("USER_AGENT", None, "User-Agent sent to sites (default: `feedsvc/<version> (self-hosted news feed generator)`)."),
    Setting("FETCH_HOST_DELAY_SECONDS", 1.0, "Shortest time between two requests to one host (robots.txt included), across all sources.", float),
    Setting("FETCH_ALLOWED_NETWORKS", "", "Comma-separated addresses or networks sites may resolve to besides public ones (e.g. `127.0.0.0/8,::1` for a local mirror). Private, loopback and link-local addresses are refused otherwise.", parse_networks),
    Setting("FETCH_PROXY_FROM_ENVIRONMENT", False, "Send fetches through the proxy `HTTPS_PROXY`/`HTTP_PROXY` name, except to hosts `NO_PROXY` lists (off: the environment's proxies are ignored, so loopback sources are not routed away). A recipe's own `request.proxy` wins. The SSRF guard still checks every target.", _flag),
    Setting("BROWSER_PAGES", 2, "Most pages of `render = \"browser\"` recipes one process renders at once (one headless Chromium each, about 100 MB).", int),
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
    Setting("OUTLETS_PER_SOURCE_MAX", 200, "Most outlet names one source may file items under, counted over its whole life; past it a new name is not taken, its items go to the source's own outlet (the recipe's `outlet`, else the source's name) and the refresh reports a warning. Bounds the outlet list a source that names a new outlet in every item could grow; raise it for a portal carrying many outlets.", int),
    Setting("OUTLET_ALIASES", {}, "JSON object mapping outlet names to the name they are shown and filtered as, e.g. `{\"大众网\": \"大众日报\"}`: one outlet, one feed.", _json_object),
    Setting("FEED_CACHE_MAX_BYTES", 64 * 1024 * 1024, "Bytes of rendered feeds one web worker process keeps (the feed cache and the fast path's answers share this budget); the least recently used go first.", int),
    Setting("FEED_RENDER_RATE_PER_MINUTE", 120.0, "Feeds one client address (an IPv6 /64) may have rendered per minute, per web worker process: requests for feeds not in the cache (new filter values, first requests). More get 429 with `Retry-After`; cached feeds are never limited (0: no limit).", float),
    Setting("FEED_RENDER_BURST", 60, "Feed renders one client may ask for at once before the per-minute rate applies.", int),
    Setting("EXTRACT_OUTLETS_FILE", None, "Path of a JSON file of more news outlets for automatic extraction (`feedsvc extract`, `feedsvc recipes suggest`), in the shape of the shipped `feedsvc/parsers/outlets.json`: `{\"outlets\": [{\"name\": \"…\", \"hosts\": [\"…\"], \"also\": [\"…\"]}], \"placeholders\": [\"…\"]}`. Recognition only; merging names is `FEEDSVC_OUTLET_ALIASES`."),
    Setting("CACHE_CHECK_INTERVAL_SECONDS", 0.25, "How often a web process checks the store for changes before serving a cached feed.", float),
    Setting("WEBSUB_HUB", None, "URL of a WebSub hub: feeds carry `rel=hub` and the hub is pinged, with every URL the changed feeds are advertised at, after a refresh that changed them."),
    Setting("WEBSUB_EXPORT_BASE_URL", None, "Public base URL of the files `feedsvc export` writes, when the hub should be pinged for them: only then do exported feeds carry `rel=hub`, and each export pings the hub with the URLs of the feed files it rewrote."),
    Setting("SECRET_KEY", None, "Key that signs image proxy URLs (HMAC). Unset: a random key is generated at first start and kept in the store, so every process of one store shares it.", str),
    Setting("IMAGE_PROXY", False, "Point the images of item bodies (feeds, exports) at the image proxy, `/img/<signed token>`, at render time; stored bodies stay as fetched. The proxy is its own process (`feedsvc images`, the Procfile's `images:`); `feedsvc serve` runs it alongside.", _flag),
    Setting("IMAGE_PROXY_UPSTREAM", None, "URL of an images process that web processes pass `/img/` requests on to (`feedsvc serve` sets it for the one it starts). Behind a reverse proxy, route `/img/` to the images process instead."),
    Setting("IMAGE_MAX_BYTES", 5 * 1024 * 1024, "Largest image the proxy fetches; a larger one is refused.", int),
    Setting("IMAGE_CACHE_PATH", None, "Folder of the image proxy's disk cache (default: `images` in the instance folder)."),
    Setting("IMAGE_CACHE_MAX_BYTES", 256 * 1024 * 1024, "Most bytes the image cache keeps on disk; the least recently used images go first.", int),
    Setting("REFRESH_TOKEN", None, "Bearer token that `POST /refresh` requires. Unset: only loopback clients may refresh."),
    Setting("TRUSTED_PROXIES", "", "Comma-separated addresses or networks of reverse proxies whose `X-Forwarded-For` is believed (e.g. `127.0.0.1,10.0.0.0/8`).", parse_networks),
    Setting("ADMIN_RATE_LIMIT_PER_MINUTE", 10.0, "Requests per minute one client address (an IPv6 /64) may make to `POST /refresh` and the other admin endpoints, refused ones included; more get 429 with `Retry-After` (0: no limit). Counted in each process: with N worker processes a client may get up to N times this.", float),
    Setting("ADMIN_RATE_LIMIT_BURST", 10, "Admin requests one client may make at once before the per-minute rate applies.", int),
)

DEFAULTS = {s.name: s.default for s in SETTINGS}
ENV_PREFIX = "FEEDSVC_"
_BY_NAME = {s.name: s for s in SETTINGS}


class Settings(Mapping[str, object]):
    """Every setting as its typed value (floats for `_SECONDS`, networks for
    address lists…), parsed once when the service is built. Keys outside
    SETTINGS (`DEMO`, `LENIENT_RECIPES`: how a command opens the service)
    are kept as given."""

    def __init__(self, values: Mapping[str, object]):
        self._values = {name: _BY_NAME[name].coerce(value) if name in _BY_NAME else value
                        for name, value in values.items()}

    def __getitem__(self, name: str) -> object:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def replace(self, **changes: object) -> Settings:
        return Settings({**self._values, **changes})


def default_instance_path() -> str:
    """Where Flask puts the app's instance folder, worked out without Flask
    so worker processes need not import it: `instance/` beside the package
    in a source checkout, `<prefix>/var/feedsvc.app-instance` when the
    package is installed (system or virtual environment)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    prefix = os.path.abspath(sys.prefix)
    if Path(root).is_relative_to(prefix):
        return os.path.join(prefix, "var", "feedsvc.app-instance")
    parent, folder = os.path.split(root)
    if folder.lower() == "site-packages":
        lib_parent, lib = os.path.split(parent)
        if lib.lower() == "lib":
            installed = lib_parent
        elif os.path.basename(lib_parent).lower() == "lib":
            installed = os.path.dirname(lib_parent)
        else:
            installed = parent
        return os.path.join(installed, "var", "feedsvc.app-instance")
    return os.path.join(root, "instance")


def load_settings(overrides: Mapping[str, object] | None = None) -> Settings:
    """Settings from DEFAULTS, then the FEEDSVC_CONFIG file, then FEEDSVC_*
    environment variables, then `overrides` (tests and the command line),
    typed, with INSTANCE_PATH resolved."""
    values = {**DEFAULTS, **from_file(os.environ.get(f"{ENV_PREFIX}CONFIG")), **from_environment(),
              **(overrides or {})}
    path = values["INSTANCE_PATH"]
    values["INSTANCE_PATH"] = os.path.abspath(path) if path else default_instance_path()
    return Settings(values)


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
`feedsvc/core/config.py` (`SETTINGS`), and a test fails when they differ.

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
malformed value (say `FEEDSVC_FETCH_MAX_BYTES=ten`) stops start-up with the
variable's (or key's) name. Values are parsed once, when the service is
built, into their types (numbers, flags, networks).

The ones most deployments set: `FEEDSVC_DATABASE_URL`, `FEEDSVC_BASE_URL`
(see [deployment.md](deployment.md#behind-a-reverse-proxy) for why it matters
behind a proxy), `FEEDSVC_REFRESH_TOKEN`, `FEEDSVC_TRUSTED_PROXIES`,
`FEEDSVC_RECIPES_PATH`.

The instance folder (`FEEDSVC_INSTANCE_PATH`, or `--instance PATH` on the
command line) holds the SQLite store: `feedsvc.sqlite3`, and
`demo.sqlite3` for `--demo`.

<!-- generated from feedsvc/core/config.py by `python -m feedsvc.core.config > docs/configuration.md` -->
"""


def markdown_document() -> str:
    """All of docs/configuration.md, so regenerating it keeps its introduction."""
    return f"{_DOCUMENT_HEAD}\n{markdown_table()}"


if __name__ == "__main__":
    print(markdown_document())
