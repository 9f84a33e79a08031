"""A feed reader's OPML subscription list → one `feed` recipe per outline."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from feedsvc.core.errors import FeedsvcError
from feedsvc.core.outlets import slugify


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


@dataclass(frozen=True)
class SkippedOutline:
    text: str
    url: str
    reason: str


@dataclass(frozen=True)
class ImportPlan:
    drafts: list[RecipeDraft]
    skipped: list[SkippedOutline]


def plan_import(data: bytes, taken_ids: set[str] = frozenset(),
                known_urls: Mapping[str, Path] | None = None) -> ImportPlan:
    """A draft for every outline with a new http(s) xmlUrl, nested groups
    included, ids made from the title, unique against `taken_ids` and each
    other. An outline whose feed a recipe already reads (`known_urls`:
    URL → recipe file), that repeats an earlier one or has no usable
    address is skipped, with its reason. Group outlines are not feeds."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"not an OPML file: {exc}") from None
    if root.tag != "opml":
        raise OpmlError(f"not an OPML file: the root element is <{root.tag}>")
    known = dict(known_urls or {})
    drafts, skipped, seen_urls, used = [], [], set(), set(taken_ids)
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        name = (outline.get("title") or outline.get("text") or url).strip()
        if not url and len(outline):
            continue  # a group
        reason = _refusal(url, seen_urls, known)
        if reason:
            skipped.append(SkippedOutline(name, url, reason))
            continue
        seen_urls.add(url)
        base = slugify(name)[:56].strip("-") or "feed"
        recipe_id, n = base, 2
        while recipe_id in used:
            recipe_id, n = f"{base}-{n}", n + 1
        used.add(recipe_id)
        drafts.append(RecipeDraft(recipe_id, name, url))
    return ImportPlan(drafts, skipped)


def _refusal(url: str, seen_urls: set[str], known: Mapping[str, Path]) -> str | None:
    if not url:
        return "no xmlUrl"
    if not url.startswith(("http://", "https://")):
        return "not an http(s) address"
    if url in known:
        return f"already read by {known[url].name}"
    if url in seen_urls:
        return "listed twice in this file"
    return None
