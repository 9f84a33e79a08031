"""Bodies are shown by feed readers, so they are cleaned here once: only
harmless tags and attributes (no script, style or event handlers), only
http(s) links, and every link and image absolute."""

from __future__ import annotations

import re

import lxml.html
import nh3
from lxml.etree import ParserError

from feedsvc.core.xmlchars import strip_invalid

BODY_TAGS = {"p", "br", "div", "span", "a", "img", "strong", "b", "em", "i", "u", "blockquote", "ul", "ol", "li",
             "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "table", "thead", "tbody", "tr", "td", "th",
             "pre", "code", "sub", "sup", "hr"}
BODY_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
                   "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}


_FIRST_SEGMENT = re.compile(r"[^/?#]*")


def _no_pseudo_scheme(tag: str, attribute: str, value: str) -> str | None:
    """nh3 drops javascript: and every scheme but http(s); a value it cannot
    read as a scheme at all ("java%0Ascript:…", which lxml writes for a
    newline inside "javascript:") passes as a relative link. A relative
    link has no colon in its first segment (RFC 3986, 4.2): such a value
    goes."""
    if attribute in ("href", "src") and not value.lower().startswith(("http://", "https://")):
        if ":" in _FIRST_SEGMENT.match(value).group():
            return None
    return value


def clean_html(html: str) -> str:
    """Allow-listed tags and attributes only; URLs other than http(s) go,
    and so do characters no feed can carry."""
    return nh3.clean(strip_invalid(html), tags=BODY_TAGS, attributes=BODY_ATTRIBUTES,
                     url_schemes={"http", "https"}, attribute_filter=_no_pseudo_scheme).strip()


def inner_html(element) -> str:
    return (element.text or "") + "".join(lxml.html.tostring(child, encoding="unicode") for child in element)


def clean_fragment(html: str | None, base: str) -> str | None:
    """An HTML fragment (a feed entry's content) cleaned, with relative
    links and images resolved against `base`."""
    if not html or not html.strip():
        return None
    html = strip_invalid(html)  # lxml refuses them, and nh3 cannot take lone surrogates
    try:
        wrapper = lxml.html.fragment_fromstring(html, create_parent="div")
        # A link no URL parser reads ("http://[::1") is dropped, not fatal.
        wrapper.make_links_absolute(base, resolve_base_href=False, handle_failures="discard")
        html = inner_html(wrapper)
    except (ParserError, ValueError):
        pass  # nh3 still cleans what lxml could not read
    return clean_html(html) or None
