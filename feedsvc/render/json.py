"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1): each item encoded on its own,
so it can be reused like the XML entries."""

from __future__ import annotations

import json
from collections.abc import Sequence

from feedsvc.core.models import StoredItem
from feedsvc.render.meta import FeedMeta, local_time, rendered_or_none

JSON_TYPE = "application/feed+json"
VERSION = "https://jsonfeed.org/version/1.1"


def _item(item: StoredItem, meta: FeedMeta) -> dict:
    data: dict = {"id": item.guid, "url": item.url, "title": item.title}
    if item.body_html:
        data["content_html"] = item.body_html
    else:
        data["content_text"] = item.summary or item.title
    if item.summary:
        data["summary"] = item.summary
    if item.image:
        data["image"] = item.image
    data["date_published"] = local_time(item.shown_published, item, meta).isoformat()
    data["date_modified"] = local_time(item.updated, item, meta).isoformat()
    if item.author:
        data["authors"] = [{"name": item.author}]
    if item.outlet:
        data["tags"] = [item.outlet]
    # JSON Feed has no place for these; extensions start with an underscore.
    extension = {"outlet": item.outlet, "editors": list(item.editors), "source": item.source_id,
                 "published_precision": item.precision}
    data["_feedsvc"] = {k: v for k, v in extension.items() if v not in (None, [])}
    return data


def json_item(item: StoredItem, meta: FeedMeta) -> bytes:
    return json.dumps(_item(item, meta), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_document(meta: FeedMeta, entries: Sequence[bytes]) -> bytes:
    feed: dict = {
        "version": VERSION,
        "title": meta.title,
        "home_page_url": meta.alternate_url,
        "feed_url": meta.self_url,
        "description": meta.subtitle or meta.title,
        "authors": [{"name": meta.author}],
    }
    if meta.language:
        feed["language"] = meta.language
    if meta.next_url:
        feed["next_url"] = meta.next_url
    # feedsvc reading one of its own feeds back knows it by this.
    feed["_feedsvc"] = {"generator": "feedsvc"}
    if meta.hub_url:
        feed["hubs"] = [{"type": "WebSub", "url": meta.hub_url}]
    head = json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # The items go last, as json.dumps of the whole feed would put them.
    return b"".join((head[:-1], b',"items":[', b",".join(entries), b"]}"))


def render_json(meta: FeedMeta, items: Sequence[StoredItem]) -> bytes:
    found = (rendered_or_none(lambda item: json_item(item, meta), i, "json") for i in items)
    return json_document(meta, [entry for entry in found if entry is not None])
