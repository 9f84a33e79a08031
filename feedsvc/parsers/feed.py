"""Existing RSS/Atom feeds, read with feedparser. Each entry becomes an
Article so aggregated items flow through the same store as scraped ones."""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import datetime, timezone

import feedparser
import nh3

from feedsvc.errors import ParseError
from feedsvc.models import Article, Timestamp
from feedsvc.parsers.dom import absolute_http
from feedsvc.parsers.text import shorten, squash


def _timestamp(entry) -> Timestamp | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            return Timestamp(datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc), "second")
    return None


def _plain(html: str | None) -> str | None:
    return squash(nh3.clean(html or "", tags=set())) or None


def _entry(entry, base: str, outlet: str | None) -> Article | None:
    link = absolute_http(entry.get("link") or entry.get("id"), base)
    title = squash(entry.get("title")) or None
    if not link:
        return None
    content = entry.get("content") or []
    body = content[0].get("value") if content else None
    summary_html = entry.get("summary")
    source = entry.get("source") or {}
    return Article(
        url=link,
        title=title or shorten(_plain(summary_html or body), 80) or link,
        outlet=outlet or squash(source.get("title")) or None,
        author=squash(entry.get("author")) or None,
        published=_timestamp(entry),
        summary=shorten(_plain(summary_html or body)),
        body_html=nh3.clean(body) if body else None,
    )


def parse_feed(
    content: bytes,
    url: str,
    *,
    charset: str | None = None,
    outlet: str | None = None,
) -> tuple[Article, ...]:
    """Entries of a feed. A feed feedparser can only partly read is still
    used; one with no entries and a parse error is refused."""
    headers = {"content-location": url}
    if charset:
        headers["content-type"] = f"application/xml; charset={charset}"
    parsed = feedparser.parse(content, response_headers=headers, sanitize_html=False)
    if parsed.bozo and not parsed.entries:
        raise ParseError(url, f"not a usable feed: {parsed.get('bozo_exception')}")
    feed_title = squash(parsed.feed.get("title")) or None
    entries = (_entry(e, url, outlet) for e in parsed.entries)
    return tuple(a if a.outlet else replace(a, outlet=feed_title) for a in entries if a is not None)
