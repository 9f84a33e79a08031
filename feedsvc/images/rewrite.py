"""Item bodies with their images pointed at the proxy, at render time: the
stored body stays as fetched (so `updated` never moves for it), and
turning FEEDSVC_IMAGE_PROXY off gives the original URLs back."""

from __future__ import annotations

from urllib.parse import urljoin

import lxml.html
from lxml.etree import ParserError

from feedsvc.images.tokens import ImageRef, Signer


def _proxied(url: str, page_url: str, referer: str | None, signer: Signer, prefix: str) -> str:
    absolute = urljoin(page_url, url.strip())
    if not absolute.startswith(("http://", "https://")):
        return url  # data: and the like stay as they are
    return prefix + signer.sign(ImageRef(absolute, referer))


def _srcset(value: str, page_url: str, referer: str | None, signer: Signer, prefix: str) -> str:
    candidates = []
    for candidate in value.split(","):
        parts = candidate.split()
        if parts:
            parts[0] = _proxied(parts[0], page_url, referer, signer, prefix)
            candidates.append(" ".join(parts))
    return ", ".join(candidates)


def proxy_images(body_html: str | None, page_url: str, referer: str | None, signer: Signer,
                 prefix: str) -> str | None:
    """`body_html` with every <img src> and srcset (and <source srcset>)
    through the proxy at `prefix` (…/img/), sending `referer`."""
    if not body_html or "<img" not in body_html and "<source" not in body_html:
        return body_html
    try:
        root = lxml.html.fragment_fromstring(body_html, create_parent="div")
    except (ParserError, ValueError):
        return body_html
    for element in root.iter("img", "source"):
        if element.get("src"):
            element.set("src", _proxied(element.get("src"), page_url, referer, signer, prefix))
        if element.get("srcset"):
            element.set("srcset", _srcset(element.get("srcset"), page_url, referer, signer, prefix))
        element.attrib.pop("referrerpolicy", None)
    inner = (root.text or "") + "".join(lxml.html.tostring(child, encoding="unicode") for child in root)
    return inner
