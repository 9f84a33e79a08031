"""Article pages: one item with its metadata, plus the page's related list."""

from __future__ import annotations

from datetime import tzinfo

import lxml.html
import nh3

from feedsvc.errors import ParseError
from feedsvc.models import Article
from feedsvc.parsers.dates import parse_timestamp
from feedsvc.parsers.dom import absolute_http, canonical_url, element_text, load_document, select, select_one, text_of, time_text
from feedsvc.parsers.listing import extract_entries
from feedsvc.parsers.text import shorten, split_names, squash, strip_label
from feedsvc.recipes import ArticleSelectors, ListingSelectors

# Deck lines and subheads are often whole-paragraph bold; the lead is the
# first paragraph of running text.
_LEAD_MIN_CHARS = 20
_BODY_TAGS = {"p", "br", "div", "span", "a", "img", "strong", "b", "em", "i", "u", "blockquote", "ul", "ol", "li",
              "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "table", "thead", "tbody", "tr", "td", "th",
              "pre", "code", "sub", "sup", "hr"}
_BODY_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
                    "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}


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
    body.make_links_absolute(base, resolve_base_href=False)
    inner = (body.text or "") + "".join(lxml.html.tostring(child, encoding="unicode") for child in body)
    clean = nh3.clean(inner, tags=_BODY_TAGS, attributes=_BODY_ATTRIBUTES, url_schemes={"http", "https"}).strip()
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
    root = load_document(content, url, charset, encoding)
    canonical = canonical_url(root, url)
    title = text_of(root, selectors.title)
    if not title:
        raise ParseError(url, f"no title matched selector {selectors.title!r}")
    body_html, body_text, lead, image = _body(root, selectors.body, canonical)
    editors = tuple(name for el in select(root, selectors.editors) for name in split_names(element_text(el)))
    return Article(
        url=canonical,
        title=title,
        outlet=strip_label(text_of(root, selectors.outlet)),
        author=strip_label(text_of(root, selectors.author)),
        published=parse_timestamp(time_text(select_one(root, selectors.published)), zone),
        summary=shorten(text_of(root, selectors.summary) if selectors.summary else lead),
        body_html=body_html,
        body_text=body_text,
        editors=tuple(dict.fromkeys(editors)),
        language=language or root.get("lang") or None,
        image=image,
        related=extract_entries(root, related, canonical, zone) if related else (),
    )
