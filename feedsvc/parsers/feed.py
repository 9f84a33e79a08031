"""Existing feeds: RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 read with feedparser
from the bytes feedsvc fetched itself (with the response's headers, so
charset and relative links come out right), and JSON Feed read here.
Each entry becomes an Article so aggregated items flow through the same
store as scraped ones."""

from __future__ import annotations

import io
from html import escape, unescape
import json
import re
from dataclasses import dataclass, replace
from datetime import timezone

import feedparser
import nh3

from feedsvc.fetch.encoding import charset_from_content_type, detect_encoding, normalize_encoding
from feedsvc.core.errors import ParseError
from feedsvc.core.models import OUTLET_SCHEME, Article, Timestamp
from feedsvc.parsers.dates import from_utc_struct, parse_timestamp
from feedsvc.parsers.sanitize import clean_fragment
from feedsvc.parsers.text import shorten, squash
from feedsvc.core.urls import absolute_http
from feedsvc.core.xmlchars import strip_invalid

_JSON_FEED_VERSION = "https://jsonfeed.org/version/"

# Feeds list their newest entries first, and a reader wants those. Beyond
# this many a feed is an archive dump (or an attack on memory: feedparser's
# cost grows with every entry), so the rest is cut before parsing.
MAX_ENTRIES = 1000
_ENTRY_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?(?:item|entry)\s*>", re.I)
_XML_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*""")


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    articles: tuple[Article, ...]
    warning: str | None = None  # a recoverable problem feedparser worked around


def _strip_tags(html: str | None) -> str:
    # nh3 answers HTML; a summary is plain text, escaped by each renderer.
    return unescape(nh3.clean(strip_invalid(html or ""), tags=set()))


def _permalink(link: str | None, entry_id: str | None) -> str | None:
    """The entry's link; its id only when that is itself a web address (an
    id like "2" must not become http://example.com/2)."""
    if link:
        return link
    if isinstance(entry_id, str) and entry_id.strip().lower().startswith(("http://", "https://")):
        return entry_id
    return None


def _article(link: str | None, title: str | None, summary_html: str | None, body_html: str | None,
             author: str | None, published: Timestamp | None, outlet: str | None, base: str,
             author_email: str | None = None) -> Article | None:
    url = absolute_http(link, base)
    if not url:
        return None
    summary = shorten(_strip_tags(summary_html or body_html)) or None
    return Article(
        url=url,
        title=squash(title) or shorten(summary, 80) or url,
        outlet=outlet,
        author=squash(author) or None,
        published=published,
        summary=summary,
        body_html=clean_fragment(body_html, url),
        author_email=squash(author_email) or None,
    )


# -- RSS and Atom ---------------------------------------------------------------


def _timestamp(entry) -> Timestamp | None:
    for key in ("published", "updated"):
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            return from_utc_struct(parsed)
        # A date feedparser gave up on (an RSS date of year 9999 at -12:00
        # is past its range): the date reader's turn, so the store's door
        # sees it and says so rather than the time silently vanishing.
        raw = entry.get(key)
        found = parse_timestamp(raw, timezone.utc) if isinstance(raw, str) else None
        if found:
            return found
    return None


def _author(entry) -> tuple[str | None, str | None]:
    """(name, e-mail). RSS's `<author>news@example.org (李四)</author>` is
    an address with the name in parentheses: feedparser splits it, as it
    does Atom's name and email; dc:creator is a name."""
    detail = entry.get("author_detail") or {}
    email = detail.get("email")
    if email:
        return detail.get("name") or None, email
    return entry.get("author"), None


def _own_outlet(entry) -> str | None:
    """The outlet category of an entry feedsvc itself wrote."""
    for tag in entry.get("tags") or ():
        if tag.get("scheme") == OUTLET_SCHEME and squash(tag.get("term")):
            return squash(tag.get("term"))
    return None


def _xml_entry(entry, base: str, outlet: str | None, feed_title: str | None) -> Article | None:
    content = entry.get("content") or []
    source = entry.get("source") or {}
    # Without a separate content element, RSS's description is the body, as readers show it.
    body = content[0].get("value") if content else entry.get("summary")
    name, email = _author(entry)
    return _article(_permalink(entry.get("link"), entry.get("id")), entry.get("title"), entry.get("summary"),
                    body, name, _timestamp(entry),
                    outlet or _own_outlet(entry) or squash(source.get("title")) or feed_title, base, email)


def _response_headers(url: str, headers: dict[str, str] | None) -> dict[str, str]:
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    headers["content-location"] = url
    charset = charset_from_content_type(headers.get("content-type"))
    if charset and normalize_encoding(charset) == "gb18030":
        # GB2312 and GBK feeds use GB18030 characters too, as pages do.
        headers["content-type"] = headers["content-type"].replace(charset, "gb18030")
    return headers


def _first_entries(content: bytes) -> tuple[bytes, str | None]:
    """The feed without its entries past MAX_ENTRIES, and a warning when
    some were dropped. What follows the last entry (the closing tags) is
    kept, so the rest of the document stays well-formed."""
    ends = [m.end() for m in _ENTRY_END.finditer(content)]
    if len(ends) <= MAX_ENTRIES:
        return content, None
    kept = content[:ends[MAX_ENTRIES - 1]] + content[ends[-1]:]
    return kept, f"feed has {len(ends)} entries; only the first {MAX_ENTRIES} were read"


def _transcoded(content: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str], str | None]:
    """A feed with a few bytes that are invalid in its encoding, as UTF-8
    with U+FFFD for those bytes (browsers do the same). Left to itself,
    feedparser would drop the declared encoding and read the whole feed as
    another one: mojibake in every entry."""
    content_type = headers.get("content-type") or "application/xml"
    encoding = detect_encoding(content, charset_from_content_type(content_type))
    try:
        content.decode(encoding)
        return content, headers, None
    except (UnicodeDecodeError, LookupError):
        pass
    text = content.decode(encoding, errors="replace").removeprefix("\ufeff")
    content = _XML_ENCODING.sub(rb"\1utf-8", text.encode("utf-8"), count=1)
    headers = {**headers, "content-type": content_type.split(";")[0].strip() + "; charset=utf-8"}
    return content, headers, f"bytes invalid in {encoding} were replaced with U+FFFD"


def _parse_xml(content: bytes, url: str, headers: dict[str, str] | None, outlet: str | None) -> ParsedFeed:
    # Whitespace before the XML declaration is common and makes the strict
    # XML parser give up on an otherwise good feed.
    content, cut = _first_entries(content.lstrip(b" \t\r\n"))
    content, response_headers, replaced = _transcoded(content, _response_headers(url, headers))
    try:
        # A stream, never bytes: feedparser tries bytes as a file name first,
        # so a body that is a path ("/proc/self/environ") would be read.
        parsed = feedparser.parse(io.BytesIO(content), response_headers=response_headers, sanitize_html=False)
    except (ValueError, LookupError, TypeError) as exc:
        # feedparser's own slips on hostile bytes: an encoding name that is
        # not UTF-8 or holds a NUL. The bytes are no usable feed.
        raise ParseError(url, strip_invalid(f"not a usable feed: {type(exc).__name__}: {exc}")) from None
    # feedparser's message quotes the document (a declared encoding, say):
    # it is kept and shown as source status, so it is cleaned like content.
    problem = strip_invalid(str(parsed.get("bozo_exception") or "")) or None
    if not parsed.entries and not parsed.get("version"):
        raise ParseError(url, f"not a usable feed: {problem or 'no feed format recognised'}")
    feed_title = squash(parsed.feed.get("title")) or None
    articles = (_xml_entry(e, url, outlet, feed_title) for e in parsed.entries)
    warning = f"feed is malformed but was read: {problem}" if parsed.bozo and problem else None
    warning = "; ".join(w for w in (cut, replaced, warning) if w) or None
    return ParsedFeed(feed_title, tuple(a for a in articles if a is not None), warning)


# -- JSON Feed -------------------------------------------------------------------


def _string(value) -> str | None:
    # JSON Feed's fields are strings; a number or list in one is no value.
    return value if isinstance(value, str) else None


def _json_author(item: dict) -> str | None:
    authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
    names = [a["name"] for a in authors if isinstance(a, dict) and _string(a.get("name"))]
    return ", ".join(names) or None


def _json_item(item: dict, base: str, outlet: str | None) -> Article | None:
    if not isinstance(item, dict):
        return None
    when = item.get("date_published") or item.get("date_modified")
    published = parse_timestamp(when, timezone.utc) if isinstance(when, str) else None
    body = _string(item.get("content_html"))
    if not body and item.get("content_text"):
        body = "".join(f"<p>{escape(p)}</p>" for p in str(item["content_text"]).split("\n\n"))
    own = item.get("_feedsvc") if isinstance(item.get("_feedsvc"), dict) else {}
    return _article(_permalink(_string(item.get("url")) or _string(item.get("external_url")), item.get("id")),
                    _string(item.get("title")), _string(item.get("summary")), body, _json_author(item), published,
                    outlet or squash(_string(own.get("outlet"))) or None, base)


def _parse_json(content: bytes, url: str, outlet: str | None) -> ParsedFeed:
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParseError(url, f"not a usable JSON Feed: {exc}") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(_JSON_FEED_VERSION):
        raise ParseError(url, "not a usable feed: JSON without a JSON Feed version")
    title = squash(_string(data.get("title"))) or None
    items = data.get("items") if isinstance(data.get("items"), list) else []
    cut = f"feed has {len(items)} entries; only the first {MAX_ENTRIES} were read" if len(items) > MAX_ENTRIES else None
    base = absolute_http(data.get("home_page_url"), url) or url
    articles = (_json_item(item, base, outlet) for item in items[:MAX_ENTRIES])
    articles = (replace(a, outlet=a.outlet or title) if a else None for a in articles)
    return ParsedFeed(title, tuple(a for a in articles if a is not None), cut)


def _is_json(content: bytes, headers: dict[str, str] | None) -> bool:
    content_type = {k.lower(): v for k, v in (headers or {}).items()}.get("content-type", "")
    return "json" in content_type.lower() or content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def parse_feed(
    content: bytes,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    outlet: str | None = None,
) -> ParsedFeed:
    """Entries of a feed. Outlet: `outlet` (the recipe's), else the entry's
    own source element, else the feed's title. A feed feedparser can only
    partly read is still used, with a warning; one with no entries and a
    parse error is refused with ParseError."""
    if _is_json(content, headers):
        return _parse_json(content, url, outlet)
    return _parse_xml(content, url, headers, outlet)
