"""Feed ids under a tagging authority the operator owns (RFC 4151: a
domain name or an e-mail address, with a date on which it was theirs).

The authority is recorded in the store the first time it is known, so ids
never change afterwards: from FEEDSVC_FEED_ID_AUTHORITY, else the host of
FEEDSVC_BASE_URL, else the host of the first request served. A store made
before feed ids had an owner keeps the authority it had (`feedsvc,2026`,
recorded by migration 0010_honest_dates) until the operator sets one."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, urlsplit

AUTHORITY_KEY = "feed_id_authority"


def authority_name(value: str | None) -> str | None:
    """The domain or e-mail address in a setting, or the host of a URL."""
    if not value:
        return None
    value = value.strip()
    if "://" in value:
        return (urlsplit(value).hostname or "").lower() or None
    return value.split(",", 1)[0].lower() or None


def settle_authority(store, setting: str | None, fallback_url: str | None, now: datetime) -> str | None:
    """The tagging entity (`name,date`) feed ids use: the operator's
    setting wins and is recorded; otherwise what the store holds; otherwise
    the host of `fallback_url`, recorded. None when nothing is known yet."""
    stored = store.setting(AUTHORITY_KEY)
    chosen = authority_name(setting)
    if chosen:
        if stored and authority_name(stored) == chosen:
            return stored
        entity = setting.strip() if "," in setting else f"{chosen},{now:%Y-%m-%d}"
        return store.keep_setting(AUTHORITY_KEY, entity, replace=True)
    if stored:
        return stored
    name = authority_name(fallback_url)
    return store.keep_setting(AUTHORITY_KEY, f"{name},{now:%Y-%m-%d}") if name else None


def feed_id(authority: str, path: str) -> str:
    """`tag:` id of the feed at `path` (its canonical path, without format)."""
    return f"tag:{authority}:{quote(path)}"
