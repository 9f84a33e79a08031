"""A draft recipe from one page: the selectors the extractor's guesses came
from, written as TOML for a person to check, save into feeds/ and edit.

A selector is built from the element's own id or classes, climbing to the
nearest ancestor with an id when that alone is ambiguous, and is kept only
if it finds the element again in the same page."""

from __future__ import annotations

import json
import re
from datetime import tzinfo
from urllib.parse import urlsplit

from feedsvc.extract.analysis import Analysis, analyse
from feedsvc.extract.tree import runs_of
from feedsvc.models import DEFAULT_ZONE_NAME
from feedsvc.parsers.dom import select

_IDENT = re.compile(r"^[A-Za-z_][\w-]*$")
_LISTING_MIN_ENTRIES = 8  # an index page lists many headlines and has little prose


def _step(el) -> str:
    if el.get("id") and _IDENT.match(el.get("id")):
        return f"{el.tag}#{el.get('id')}"
    classes = [c for c in (el.get("class") or "").split() if _IDENT.match(c)]
    return el.tag + "".join(f".{c}" for c in classes[:2])


def selector_for(root, el, *, many: bool = False) -> str | None:
    """A CSS selector that finds `el` (first match) — or, with `many`, a
    selector for `el` and its look-alike siblings (listing items)."""
    steps = []
    for node in [el, *el.iterancestors()]:
        if node.tag in ("html", "body"):
            break
        steps.insert(0, _step(node))
        selector = " ".join(steps)
        found = select(root, selector)
        if found and (found[0] is el if not many else el in found and len(found) >= 3):
            return selector
        if "#" in steps[0]:
            break
    return None


def _toml(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _field_lines(root, analysis: Analysis) -> list[str]:
    lines = []
    fields = {"title": analysis.title_run.block if analysis.title_run else None,
              "published": analysis.date_run.block if analysis.date_run else None}
    for kind, name in (("outlet", "outlet"), ("author", "author"), ("editor", "editors")):
        found = analysis.labels.get(kind)
        fields[name] = found.run.block if found and found.run else None
    fields["body"] = max(analysis.body_nodes, key=lambda n: len(runs_of(n)), default=None)
    for name, element in fields.items():
        selector = selector_for(root, element) if element is not None else None
        if selector:
            lines.append(f"{name} = {_toml(selector)}")
        elif name == "title":
            lines.append('title = "h1"  # not found: check')
    return lines


def _listing_lines(root, group, table: str) -> list[str]:
    item, anchor = group.items[0]
    container = selector_for(root, group.container)
    item_selector = f"{container} > {_step(item)}" if container else selector_for(root, item, many=True)
    if not item_selector or re.fullmatch(r"[a-z0-9]+", item_selector) or len(select(root, item_selector)) < 3:
        return []
    lines = [f"[{table}]", f"item = {_toml(item_selector)}"]
    inner = [anchor, *anchor.iterancestors()]
    title = "a" if inner.index(item) == 1 else f"{anchor.getparent().tag} a"
    lines.append(f"title = {_toml(title)}")
    return lines


def suggest_recipe(data: bytes, url: str | None = None, *, zone: tzinfo | None = None,
                   charset: str | None = None) -> str:
    """TOML text of a draft recipe for the page in `data`."""
    from feedsvc.extract import DEFAULT_ZONE

    analysis = analyse(data, url, zone or DEFAULT_ZONE, charset, None, keep_tree=True)
    root, page = analysis.root, analysis.extracted
    host = urlsplit(page.url or url or "").hostname or "example"
    # An index page's "body" is its list of headlines.
    top = analysis.groups[0] if analysis.groups else None
    is_listing = top is not None and len(top.items) >= _LISTING_MIN_ENTRIES // 2 and any(
        top.container is node or top.container in set(node.iterdescendants()) for node in analysis.body_nodes)
    kind = "listing_page" if is_listing else "article_page"
    lines = [
        "# Draft recipe written by `feedsvc recipes suggest`: check every selector,",
        "# then save it into feeds/ (see docs/recipes.md).",
        f"id = {_toml(re.sub(r'[^a-z0-9_-]+', '-', host.lower()).strip('-')[:64] or 'site')}",
        f"name = {_toml(page.title if not is_listing else host)}",
        f'kind = "{kind}"',
        f"start_urls = [{_toml(page.url or url or 'https://' + host + '/')}]",
        f'timezone = "{getattr(zone, "key", DEFAULT_ZONE_NAME)}"',
    ]
    if page.language:
        lines.append(f"language = {_toml(page.language)}")
    if is_listing:
        lines += ["follow_links = false  # set true once [article] selectors are added", ""]
        lines += _listing_lines(root, analysis.groups[0], "listing")
        return "\n".join(lines) + "\n"
    lines += ["", "[article]", *_field_lines(root, analysis)]
    if analysis.related:
        related = _listing_lines(root, analysis.related[0], "related")
        lines += ["", *related] if related else []
    return "\n".join(lines) + "\n"
