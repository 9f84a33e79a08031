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
from feedsvc.extract.tree import runs_of, weighted_len
from feedsvc.parsers.dom import link_of, load_document, select, select_one
from feedsvc.core.models import DEFAULT_ZONE_NAME

_IDENT = re.compile(r"^[A-Za-z_][\w-]*$")
_LISTING_MIN_ENTRIES = 8  # an index page lists many headlines and has little prose
_ARTICLE_PARAGRAPHS = 3  # paragraphs outside any list that make a page an article
_SENTENCE_END = re.compile(r"[。！？]|[.!?](?:\s|$)")


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


def _exactly(root, selector: str | None, wanted: list) -> bool:
    return bool(selector) and select(root, selector) == wanted


def _shape(items: list) -> str | None:
    """tag.class for what every item shares (ty-card beside ty-card ty-card-type2)."""
    if len({item.tag for item in items}) != 1:
        return None
    common = set.intersection(*({c for c in (item.get("class") or "").split() if _IDENT.match(c)} for item in items))
    first = [c for c in (items[0].get("class") or "").split() if c in common]
    return items[0].tag + "".join(f".{c}" for c in first[:2])


def _block_items(root, block, raw=None) -> str | None:
    """A selector matching exactly the block's items, nothing around them
    (nor, on the page as fetched, a hidden copy of them)."""
    items = [item for item, _ in block.items]
    if not items or any(item is None for item in items):
        return None  # a <br> list has no element per item
    parents = {id(item.getparent()): item.getparent() for item in items}
    shapes = {_step(item) for item in items}
    if len(shapes) > 1 and _shape(items):
        shapes = {_shape(items)}
    candidates = []
    if len(shapes) == 1:
        shape = shapes.pop()
        for holder in ([*parents.values()] if len(parents) == 1 else []) + [block.container]:
            container = selector_for(root, holder)
            if container:
                candidates += [f"{container} > {shape}", f"{container} {shape}"]
    candidates.append(selector_for(root, items[0], many=True))
    return next((c for c in candidates if _exactly(root, c, items)
                 and (raw is None or len(select(raw, c)) == len(items))), None)


def _title_in_item(blocks) -> str | None:
    """A selector that finds each item's title link first."""
    pairs = [pair for block in blocks for pair in block.items]
    first = pairs[0][1]
    parent = first.getparent()
    options = ["a", f"{parent.tag} > a", f"{_step(parent)} > a", f"{_step(parent)} a", _step(first)]
    for option in options:
        if all(select(item, option) and select(item, option)[0] is a for item, a in pairs):
            return option
    return None


def _related_lines(root, raw, blocks) -> list[str]:
    """[related] for exactly the items of the blocks the extractor chose
    that a selector can name, or nothing: an item selector that also
    matches a sidebar is worse than none. Checked on the page as fetched
    (`raw`), where hidden copies are still in the tree."""
    blocks = [block for block in blocks if _block_items(root, block, raw)]
    if not blocks:
        return []
    item = ", ".join(dict.fromkeys(_block_items(root, block, raw) for block in blocks))
    title = _title_in_item(blocks)
    wanted = [a.get("href") for block in blocks for _, a in block.items]
    if not title or [link_of(select_one(el, title)) for el in select(raw, item)] != wanted:
        return []
    return ["[related]", f"item = {_toml(item)}", f"title = {_toml(title)}"]


def _is_listing(analysis: Analysis) -> bool:
    """A channel page: a list of headlines and almost no prose of its own.
    Paragraphs inside lists (an item's summary) do not count; an article
    has several paragraphs outside any list, however long its related list."""
    related = {id(block.container) for block in analysis.related}
    top = next((g for g in analysis.groups if id(g.container) not in related), None)
    if top is None or len(top.items) < _LISTING_MIN_ENTRIES // 2:
        return False
    in_lists = set()
    for group in analysis.groups:
        in_lists.update(group.container.iter())
    dated = analysis.date_run.block not in in_lists if analysis.date_run is not None \
        else analysis.extracted.published is not None
    if dated and analysis.title_run is not None and analysis.title_run.block not in in_lists:
        return False  # a headline with its own date line: an article, however short
    paragraphs = sum(1 for run in runs_of(analysis.root) if run.link_chars == 0 and weighted_len(run.text) >= 60
                     and _SENTENCE_END.search(run.text) and run.block not in in_lists)
    return paragraphs < _ARTICLE_PARAGRAPHS


def suggest_recipe(data: bytes, url: str | None = None, *, zone: tzinfo | None = None,
                   charset: str | None = None, outlets=None) -> str:
    """TOML text of a draft recipe for the page in `data`."""
    from feedsvc.extract import DEFAULT_ZONE

    analysis = analyse(data, url, zone or DEFAULT_ZONE, charset, None, keep_tree=True, known=outlets)
    root, page = analysis.root, analysis.extracted
    host = urlsplit(page.url or url or "").hostname or "example"
    # An index page's "body" is its list of headlines.
    is_listing = _is_listing(analysis)
    kind = "listing_page" if is_listing else "article_page"
    lines = [
        "# Draft recipe written by `feedsvc recipes suggest`: check every selector,",
        "# then save it into feeds/ (see docs/recipes.md).",
        f"id = {_toml(re.sub(r'[^a-z0-9_-]+', '-', host.lower()).strip('-')[:64] or 'site')}",
        f"name = {_toml(page.title if page.title and not is_listing else host)}",
        f'kind = "{kind}"',
        f"start_urls = [{_toml(page.url or url or 'https://' + host + '/')}]",
        f'timezone = "{getattr(zone, "key", DEFAULT_ZONE_NAME)}"',
    ]
    if page.language:
        lines.append(f"language = {_toml(page.language)}")
    if is_listing:
        lines += ["follow_links = false  # set true once [article] selectors are added", ""]
        related = {id(block.container) for block in analysis.related}
        top = next(g for g in analysis.groups if id(g.container) not in related)
        lines += _listing_lines(root, top, "listing")
        return "\n".join(lines) + "\n"
    lines += ["", "[article]", *_field_lines(root, analysis)]
    related = _related_lines(root, load_document(data, url or "page", charset), analysis.related)
    lines += ["", *related] if related else []
    return "\n".join(lines) + "\n"
