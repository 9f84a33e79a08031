"""OPML 2.0 subscription lists, so a reader subscribes to every feed at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from feedsvc.core.xmlchars import strip_invalid

OPML_TYPE = "text/x-opml"


@dataclass(frozen=True)
class OpmlOutline:
    text: str
    xml_url: str
    html_url: str | None = None
    description: str | None = None


def render_opml(title: str, created: datetime, groups: Sequence[tuple[str, Sequence[OpmlOutline]]]) -> bytes:
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = strip_invalid(title)
    etree.SubElement(head, "dateCreated").text = format_datetime(created)
    body = etree.SubElement(opml, "body")
    for group_title, outlines in groups:
        group = etree.SubElement(body, "outline", text=group_title, title=group_title)
        for outline in outlines:
            attrs = {"type": "rss", "text": outline.text, "title": outline.text, "xmlUrl": outline.xml_url}
            if outline.html_url:
                attrs["htmlUrl"] = outline.html_url
            if outline.description:
                attrs["description"] = outline.description
            # Outlet names come from sites: lxml refuses a control character in one.
            etree.SubElement(group, "outline", {k: strip_invalid(v) for k, v in attrs.items()})
    return etree.tostring(opml, xml_declaration=True, encoding="UTF-8")
