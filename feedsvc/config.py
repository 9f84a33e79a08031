"""Every setting feedsvc reads, in one place. Each is read from the
environment as FEEDSVC_<NAME> (JSON values are parsed, so numbers are
numbers), and documented in README.md's "Configuration" table; a test fails
when one of them is missing there."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("INSTANCE_PATH", None, "Folder for the SQLite database and other state (default: Flask's instance folder)."),
    Setting("DATABASE_URL", None, "SQLAlchemy URL of the store (default: SQLite file `feedsvc.sqlite3` in the instance folder)."),
    Setting("RECIPES_PATH", "feeds", "Folder of recipe files (`*.toml`)."),
    Setting("SITE_TITLE", "feedsvc", "Name shown on the index page and used as feed author when a feed spans several recipes."),
    Setting("BASE_URL", None, "Public URL of the service (e.g. https://feeds.example.org), for self links behind a proxy; default: from the request."),
    Setting("FETCH_TIMEOUT_SECONDS", 20.0, "Longest wait for one page, body included."),
    Setting("FETCH_CONNECT_TIMEOUT_SECONDS", 10.0, "Longest wait to connect to a site."),
    Setting("FETCH_MAX_BYTES", 10 * 1024 * 1024, "Largest page body read; a larger one fails that fetch."),
    Setting("FETCH_MAX_REDIRECTS", 5, "Most redirects followed for one URL."),
    Setting("USER_AGENT", None, "User-Agent sent to sites (default: `feedsvc/<version> (self-hosted news feed generator)`)."),
    Setting("REFRESH_JITTER_RATIO", 0.1, "Next run = interval × (1 + up to this ratio at random), so sources spread out."),
)

DEFAULTS = {s.name: s.default for s in SETTINGS}
ENV_PREFIX = "FEEDSVC"
