"""Shared HTML plumbing for the parsers: decoding, the document tree,
canonical URLs and element text."""

from __future__ import annotations

import re
from functools import lru_cache
import lxml.html
from lxml.cssselect import CSSSelector
from lxml.etree import ParserError

from feedsvc.fetch.encoding import decode_document
from feedsvc.core.errors import ParseError
from feedsvc.parsers.text import squash
from feedsvc.core.urls import absolute_http, canonicalize
from feedsvc.core.xmlchars import has_invalid, strip_invalid

__all__ = ["absolute_http", "canonical_url", "compiled", "element_text", "link_of", "load_document", "select",
           "select_one", "text_of", "time_text"]

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


@lru_cache(maxsize=512)
def compiled(selector: str) -> CSSSelector:
    return CSSSelector(selector)


def select(root, selector: str | None) -> list:
    return compiled(selector)(root) if selector else []


def select_one(root, selector: str | None):
    found = select(root, selector)
    return found[0] if found else None


def load_document(content: bytes, url: str, charset: str | None = None, encoding: str | None = None):
    text, _ = decode_document(content, charset, encoding)
    text = _XML_DECL.sub("", text, count=1)  # lxml refuses str input that declares an encoding
    if not text.strip():
        raise ParseError(url, "page is empty")
    try:
        root = lxml.html.document_fromstring(text)
    except (ParserError, ValueError) as exc:
        raise ParseError(url, f"page is not parseable HTML: {exc}") from None
    if _may_hold_invalid(text):  # the walk below is a tenth of ingest time; most pages need none
        _strip_invalid_characters(root)
    return root


_NUMERIC_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+))")


def _may_hold_invalid(text: str) -> bool:
    """Whether the tree of `text` can hold a character XML cannot carry:
    written as it is, or as a numeric reference (&#1;) that libxml2 keeps."""
    if has_invalid(text):
        return True
    for match in _NUMERIC_REFERENCE.finditer(text):
        value = int(match.group(1), 16) if match.group(1) else int(match.group(2))
        if value > 0x10FFFF or has_invalid(chr(value)):
            return True
    return False


def _strip_invalid_characters(root) -> None:
    """libxml2 keeps control characters in the tree, written or as
    references (&#1;), but lxml refuses them in any text set later
    (dropping an element moves its tail) and no feed can carry them."""
    for element in root.iter():
        for name in ("text", "tail"):
            value = getattr(element, name)
            if value and has_invalid(value):
                setattr(element, name, strip_invalid(value))
        if isinstance(element.tag, str):
            attributes = element.attrib.items()
            if any(has_invalid(key) or has_invalid(value) for key, value in attributes):
                _rewrite_attributes(element, attributes)


def _rewrite_attributes(element, attributes) -> None:
    # lxml can neither set nor delete an attribute whose name it refuses,
    # so all are cleared and the valid ones put back; such a name is dropped.
    element.attrib.clear()
    for key, value in attributes:
        if not has_invalid(key):
            try:
                element.set(key, strip_invalid(value))
            except ValueError:  # a name lxml refuses for other reasons than characters
                continue


def canonical_url(root, fetched_url: str) -> str:
    """The page's own idea of its address, so an item keeps one identity
    whichever mirror, port or tracking query it was fetched through."""
    for selector, attr in (('link[rel~="canonical"]', "href"), ('meta[property="og:url"]', "content")):
        element = select_one(root, selector)
        found = absolute_http(element.get(attr) if element is not None else None, fetched_url)
        if found:
            return found
    return canonicalize(fetched_url)


def element_text(element) -> str:
    if element is None:
        return ""
    return squash(element.text_content())


def text_of(root, selector: str | None) -> str | None:
    """Text of the first match, or None."""
    value = element_text(select_one(root, selector))
    return value or None


def time_text(element) -> str | None:
    """A date element's machine-readable value if it has one, else its text."""
    if element is None:
        return None
    return element.get("datetime") or element.get("content") or element_text(element) or None


def link_of(element) -> str | None:
    """The href of an element, or of the first link inside it."""
    if element is None:
        return None
    if element.get("href"):
        return element.get("href")
    inner = element.find(".//a[@href]")
    return inner.get("href") if inner is not None else None
