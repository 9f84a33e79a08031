"""Article pages: one item with its metadata, plus the page's related list."""

from __future__ import annotations

from datetime import tzinfo

from feedsvc.core.errors import RecipeMismatch
from feedsvc.core.models import Article
from feedsvc.parsers.dates import parse_timestamp
from feedsvc.parsers.dom import absolute_http, canonical_url, element_text, load_document, select, select_one, text_of, time_text
from feedsvc.parsers.sanitize import BODY_ATTRIBUTES, BODY_TAGS, clean_html, inner_html
from feedsvc.parsers.listing import check_required, extract_entries
from feedsvc.parsers.labels import author_of, editors_of, outlet_of, own_part
from feedsvc.parsers.text import shorten, squash
from feedsvc.sources.recipes import ArticleSelectors, ListingSelectors

# Deck lines and subheads are often whole-paragraph bold; the lead is the
# first paragraph of running text.
_LEAD_MIN_CHARS = 20
# Kept under these names for feedsvc.extract.
_BODY_TAGS, _BODY_ATTRIBUTES = BODY_TAGS, BODY_ATTRIBUTES


def _is_all_bold(paragraph) -> bool:
    text = element_text(paragraph)
    bold = "".join(element_text(b) for b in paragraph.iter("strong", "b"))
    return bool(text) and squash(bold) == text


def _lead_paragraph(body) -> str | None:
    paragraphs = [p for p in body.iter("p") if element_text(p)]
    for paragraph in paragraphs:
        if not _is_all_bold(paragraph) and len(element_text(paragraph)) >= _LEAD_MIN_CHARS:
            return element_text(paragraph)
    return element_text(paragraphs[0]) if paragraphs else element_text(body) or None


def _lead_image(root, body, base: str) -> str | None:
    if body is not None:
        for img in body.iter("img"):
            src = absolute_http(img.get("src"), base)
            if src:
                return src
    meta = select_one(root, 'meta[property="og:image"]')
    return absolute_http(meta.get("content"), base) if meta is not None else None


def _body(root, selector: str | None, base: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(sanitized HTML, plain text, lead paragraph, lead image) of the body."""
    body = select_one(root, selector)
    if body is None:
        return None, None, None, _lead_image(root, None, base)
    # A link no URL parser reads ("http://[::1") is dropped, not fatal.
    body.make_links_absolute(base, resolve_base_href=False, handle_failures="discard")
    clean = clean_html(inner_html(body))
    blocks = [element_text(p) for p in body.iter("p", "li", "h2", "h3", "h4")]
    text = "\n\n".join(b for b in blocks if b) or element_text(body)
    return clean or None, text or None, _lead_paragraph(body), _lead_image(root, body, base)


def parse_article(
    content: bytes,
    url: str,
    selectors: ArticleSelectors,
    related: ListingSelectors | None = None,
    *,
    zone: tzinfo,
    charset: str | None = None,
    encoding: str | None = None,
    language: str | None = None,
) -> Article:
    """One article. A missing title, or a missing field the recipe marks
    required, raises RecipeMismatch."""
    root = load_document(content, url, charset, encoding)
    canonical = canonical_url(root, url)
    title = text_of(root, selectors.title)
    if not title:
        raise RecipeMismatch(url, f"no title matched selector {selectors.title!r}")
    body_html, body_text, lead, image = _body(root, selectors.body, canonical)
    editors = tuple(name for el in select(root, selectors.editors) for name in editors_of(element_text(el)))
    article = Article(
        url=canonical,
        title=title,
        # One line often holds outlet, author and time: each field takes its own part.
        outlet=outlet_of(text_of(root, selectors.outlet)),
        author=author_of(text_of(root, selectors.author)),
        published=parse_timestamp(own_part(time_text(select_one(root, selectors.published)), "published"), zone),
        summary=shorten(text_of(root, selectors.summary) if selectors.summary else lead),
        body_html=body_html,
        body_text=body_text,
        editors=tuple(dict.fromkeys(editors)),
        language=language or root.get("lang") or None,
        image=image,
        related=extract_entries(root, related, canonical, zone) if related else (),
    )
    _check_required(article, selectors, url)
    if related:
        check_required(article.related, related, url)
    return article


# Recipe field → Article attribute, for `required`.
_ARTICLE_FIELDS = {"title": "title", "outlet": "outlet", "author": "author", "published": "published",
                   "body": "body_html", "editors": "editors", "summary": "summary"}


def _check_required(article: Article, selectors: ArticleSelectors, url: str) -> None:
    for name in selectors.required:
        if getattr(article, _ARTICLE_FIELDS[name]) in (None, "", ()):
            raise RecipeMismatch(url, f"article has no {name} (selector {getattr(selectors, name)!r})")
