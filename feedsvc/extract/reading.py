"""What a recipe reads from a fetched page: its selectors first, then the
extractor for every field they leave out or that matches nothing on the
page; with kind = "auto", the extractor alone. Each reading tells where
its fields came from, for the source's status.

Pure like the parsers: bytes in, dataclasses out. A field a recipe marks
`required`, and an article's title, still come from selectors only: they
are how a recipe notices that the site changed under it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from feedsvc.core.errors import RecipeMismatch
from feedsvc.extract import Extracted, extract_listing, extract_page
from feedsvc.core.models import Article, Listing, ListingEntry
from feedsvc.parsers import parse_article, parse_listing
from feedsvc.parsers.text import char_len
from feedsvc.sources.recipes import Recipe

SELECTOR, EXTRACTOR, RECIPE = "selector", "extractor", "recipe"

# An article page has running text signed with a time and a source or
# byline; a channel page has neither, only its listing.
_ARTICLE_MIN_CHARS = 150

# Article fields a recipe may name, as Article attributes. Related lists
# count as one field: a recipe without [related] gets the extractor's.
_ARTICLE_FIELDS = {"outlet": "outlet", "author": "author", "published": "published", "body": "body_html",
                   "editors": "editors", "summary": "summary", "related": "related"}
_ENTRY_FIELDS = {"summary": "summary", "outlet": "outlet", "date": "published"}


@dataclass(frozen=True)
class PageReading:
    """A page as a recipe reads it: an article (with its related list) or
    a listing, and how many fields came from selectors or the extractor."""

    article: Article | None = None
    listing: Listing | None = None
    origins: Counter = field(default_factory=Counter)  # ("article.outlet", "selector") -> fields


def _empty(value) -> bool:
    return value in (None, "", ())


def _from_extracted(found: Extracted, url: str) -> Article:
    if not found.title:
        raise RecipeMismatch(url, "the extractor found no headline on the page")
    return Article(url=found.url or url, title=found.title, outlet=found.outlet, author=found.author,
                   published=found.published, summary=found.summary, body_html=found.body_html,
                   body_text=found.body_text, editors=found.editors, language=found.language, image=found.image,
                   related=found.related)


def _extracted(content: bytes, url: str, recipe: Recipe, charset: str | None) -> Extracted:
    # The recipe's encoding outranks the HTTP header, as for selector parsing.
    return extract_page(content, url, zone=recipe.zone, charset=recipe.encoding or charset)


def _with_recipe_defaults(article: Article, recipe: Recipe, origins: Counter) -> Article:
    """The recipe's `outlet` for a page that names none; its `language`."""
    if recipe.language:
        article = replace(article, language=recipe.language)
    if recipe.outlet and not article.outlet:
        origins["article.outlet", RECIPE] += 1
        article = replace(article, outlet=recipe.outlet)
    return article


def _count(article: Article, origin: str, origins: Counter, names=_ARTICLE_FIELDS, title: bool = True) -> None:
    origins["article.title", origin] += title
    for name, attr in names.items():
        if not _empty(getattr(article, attr)):
            origins[f"article.{name}", origin] += 1


def read_article(content: bytes, url: str, recipe: Recipe, charset: str | None = None) -> PageReading:
    """An article: [article] selectors if the recipe has them, the
    extractor for the fields they do not give."""
    origins: Counter = Counter()
    if recipe.article is None:
        article = _from_extracted(_extracted(content, url, recipe, charset), url)
        _count(article, EXTRACTOR, origins)
        return PageReading(article=_with_recipe_defaults(article, recipe, origins), origins=origins)
    article = parse_article(content, url, recipe.article, recipe.related, zone=recipe.zone, charset=charset,
                            encoding=recipe.encoding, language=recipe.language)
    _count(article, SELECTOR, origins)
    missing = {name: attr for name, attr in _ARTICLE_FIELDS.items() if _empty(getattr(article, attr))}
    if missing:
        found = _extracted(content, url, recipe, charset)
        filled = {attr: getattr(found, attr) for attr in missing.values() if not _empty(getattr(found, attr))}
        if "body_html" in filled:
            filled["body_text"] = found.body_text
        article = replace(article, **filled, image=article.image or found.image,
                          language=article.language or found.language)
        _count(article, EXTRACTOR, origins, {name: attr for name, attr in missing.items() if attr in filled},
               title=False)
    return PageReading(article=_with_recipe_defaults(article, recipe, origins), origins=+origins)


def _fill_entries(listing: Listing, recipe: Recipe, content: bytes, charset: str | None,
                  origins: Counter) -> Listing:
    """Entry fields the [listing] table leaves out or that match nothing,
    from the extractor's reading of the same entries (matched by link)."""
    missing = {name: attr for name, attr in _ENTRY_FIELDS.items()
               if any(_empty(getattr(e, attr)) for e in listing.entries)}
    if not missing:
        return listing
    found = {e.link: e for e in extract_listing(content, listing.url, zone=recipe.zone,
                                                charset=recipe.encoding or charset)}
    entries = []
    for entry in listing.entries:
        other = found.get(entry.link)
        filled = {attr: getattr(other, attr) for attr in missing.values()
                  if other is not None and _empty(getattr(entry, attr)) and not _empty(getattr(other, attr))}
        for name, attr in missing.items():
            if attr in filled:
                origins[f"listing.{name}", EXTRACTOR] += 1
        entries.append(replace(entry, **filled))
    return replace(listing, entries=tuple(entries))


def read_listing(content: bytes, url: str, recipe: Recipe, charset: str | None = None) -> PageReading:
    """A channel page through the recipe's [listing] table, the extractor
    filling the entry fields the table does not give."""
    listing = parse_listing(content, url, recipe.listing, zone=recipe.zone, charset=charset, encoding=recipe.encoding)
    origins: Counter = Counter()
    origins["listing.entries", SELECTOR] += len(listing.entries)
    for name, attr in _ENTRY_FIELDS.items():
        origins[f"listing.{name}", SELECTOR] += sum(not _empty(getattr(e, attr)) for e in listing.entries)
    listing = _fill_entries(listing, recipe, content, charset, origins)
    return PageReading(listing=listing, origins=+origins)


def _channel(entries: tuple[ListingEntry, ...], url: str) -> PageReading:
    origins: Counter = Counter()
    origins["listing.entries", EXTRACTOR] += len(entries)
    for name, attr in _ENTRY_FIELDS.items():
        origins[f"listing.{name}", EXTRACTOR] += sum(not _empty(getattr(e, attr)) for e in entries)
    return PageReading(listing=Listing(url=url, entries=entries), origins=+origins)


def is_article(found: Extracted) -> bool:
    """Whether a page the extractor read is an article rather than a
    channel page: a headline over running text, with a time and a
    source, byline or editor."""
    prose = char_len(found.body_text or "") >= _ARTICLE_MIN_CHARS
    signed = found.published is not None and bool(found.author or found.outlet or found.editors)
    return bool(found.title) and prose and signed


def read_auto(content: bytes, url: str, recipe: Recipe, charset: str | None = None) -> PageReading:
    """A start page of a kind = "auto" recipe: an article (with its related
    list) when it reads as one, else a channel page's listing of article
    links (navigation, hot lists, ads and footers left out)."""
    found = _extracted(content, url, recipe, charset)
    if not is_article(found):
        entries = extract_listing(content, url, zone=recipe.zone, charset=recipe.encoding or charset)
        if entries:
            return _channel(entries, found.url or url)
        if char_len(found.body_text or "") < _ARTICLE_MIN_CHARS:
            raise RecipeMismatch(url, "the extractor found neither an article nor a listing of article links")
    if recipe.article is not None:
        return read_article(content, url, recipe, charset)
    origins: Counter = Counter()
    article = _from_extracted(found, url)
    _count(article, EXTRACTOR, origins)
    return PageReading(article=_with_recipe_defaults(article, recipe, origins), origins=origins)


def describe_read_stats(stats: dict | None) -> str:
    """A source's read_stats for people: which fields came from selectors
    and which from the extractor (`author: extractor`, or with counts when
    pages differed), and how many linked pages full_text read and failed."""
    if not stats:
        return ""
    parts = []
    for name, origins in (stats.get("fields") or {}).items():
        if len(origins) == 1:
            parts.append(f"{name}: {next(iter(origins))}")
        else:
            parts.append(f"{name}: " + ", ".join(f"{origin} {count}" for origin, count in origins.items()))
    if stats.get("pages_read") or stats.get("page_failures"):
        parts.append(f"linked pages: {stats.get('pages_read', 0)} read, {stats.get('page_failures', 0)} failed")
    return "; ".join(parts)
