"""The feed formats, in one registry: URL suffix → media type → how an
entry and a document are rendered. The web routes, the exporter, WebSub
topics and the index page all list formats from here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from feedsvc.core.models import StoredItem
from feedsvc.render.json import JSON_TYPE, json_document, json_item
from feedsvc.render.meta import ATOM_TYPE, RSS_TYPE, FeedMeta
from feedsvc.render.xml import atom_document, atom_entry, rss_document, rss_item


@dataclass(frozen=True)
class Format:
    suffix: str
    media_type: str
    entry: Callable[[StoredItem, FeedMeta], bytes]
    document: Callable[[FeedMeta, datetime, Sequence[bytes]], bytes]


FORMATS: dict[str, Format] = {f.suffix: f for f in (
    Format("atom", ATOM_TYPE, atom_entry, atom_document),
    Format("rss", RSS_TYPE, rss_item, rss_document),
    Format("json", JSON_TYPE, json_item, lambda meta, _updated, entries: json_document(meta, entries)),
)}
