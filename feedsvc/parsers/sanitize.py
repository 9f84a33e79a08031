"""Bodies are shown by feed readers, so they are cleaned here once: only
harmless tags and attributes (no script, style or event handlers), only
http(s) links, and every link and image absolute."""

from __future__ import annotations

import lxml.html
import nh3
from lxml.etree import ParserError

BODY_TAGS = {"p", "br", "div", "span", "a", "img", "strong", "b", "em", "i", "u", "blockquote", "ul", "ol", "li",
             "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "table", "thead", "tbody", "tr", "td", "th",
             "pre", "code", "sub", "sup", "hr"}
BODY_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
                   "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}


def clean_html(html: str) -> str:
    """Allow-listed tags and attributes only; URLs other than http(s) go."""
    return nh3.clean(html, tags=BODY_TAGS, attributes=BODY_ATTRIBUTES, url_schemes={"http", "https"}).strip()


def inner_html(element) -> str:
    return (element.text or "") + "".join(lxml.html.tostring(child, encoding="unicode") for child in element)


def clean_fragment(html: str | None, base: str) -> str | None:
    """An HTML fragment (a feed entry's content) cleaned, with relative
    links and images resolved against `base`."""
    if not html or not html.strip():
        return None
    try:
        wrapper = lxml.html.fragment_fromstring(html, create_parent="div")
        wrapper.make_links_absolute(base, resolve_base_href=False)
        html = inner_html(wrapper)
    except (ParserError, ValueError):
        pass  # nh3 still cleans what lxml could not read
    return clean_html(html) or None
