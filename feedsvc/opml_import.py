"""A feed reader's OPML subscription list → one `feed` recipe per outline."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from feedsvc.errors import FeedsvcError
from feedsvc.outlets import slugify


class OpmlError(FeedsvcError):
    pass


@dataclass(frozen=True)
class RecipeDraft:
    id: str
    name: str
    url: str

    def toml(self) -> str:
        return (f"# Imported from an OPML subscription list.\n"
                f"id = {_quote(self.id)}\nname = {_quote(self.name)}\nkind = \"feed\"\n"
                f"start_urls = [{_quote(self.url)}]\nrefresh_interval_minutes = 60\n")


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped) + '"'


def drafts_from_opml(data: bytes, taken_ids: set[str] = frozenset()) -> list[RecipeDraft]:
    """Every outline with an xmlUrl, nested groups included; ids made from
    the title, unique against `taken_ids` and each other."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"not an OPML file: {exc}") from None
    if root.tag != "opml":
        raise OpmlError(f"not an OPML file: the root element is <{root.tag}>")
    drafts, seen_urls, used = [], set(), set(taken_ids)
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        if not url.startswith(("http://", "https://")) or url in seen_urls:
            continue
        seen_urls.add(url)
        name = (outline.get("title") or outline.get("text") or url).strip()
        base = slugify(name)[:56].strip("-") or "feed"
        recipe_id, n = base, 2
        while recipe_id in used:
            recipe_id, n = f"{base}-{n}", n + 1
        used.add(recipe_id)
        drafts.append(RecipeDraft(recipe_id, name, url))
    return drafts
