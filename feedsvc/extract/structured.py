"""What a page says about itself in machine-readable form: JSON-LD
(NewsArticle and kin), OpenGraph and other <meta> tags, microdata and
<time datetime>. Read first, because when present it is what the publisher
meant; page heuristics only fill the gaps."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from feedsvc.parsers.text import squash

_ARTICLE_TYPES = {"newsarticle", "article", "blogposting", "reportagenews", "analysisnewsarticle", "webpage",
                  "opinionnewsarticle", "backgroundnewsarticle", "scholarlyarticle", "liveblogposting"}
# <meta> names (lower-cased name/property/itemprop) that carry a
# publication time, most specific first.
_PUBLISHED_META = ("article:published_time", "og:article:published_time", "og:published_time", "datepublished",
                   "article:published", "og:release_date", "pubdate", "publishdate", "publish_date",
                   "publish-date", "publishtime", "publish_time", "firstpublishedtime", "dc.date.issued",
                   "dcterms.issued", "dc.date", "dcterms.created", "sailthru.date", "parsely-pub-date",
                   "article.published", "weibo:article:create_at", "originalpublicationdate", "date",
                   "og:time", "apub:time", "dc.date.created", "creationdate", "article_date_original")
_AUTHOR_META = ("author", "article:author", "byl", "dc.creator", "dcterms.creator", "sailthru.author",
                "parsely-author", "og:article:author", "twitter:creator")
# articletitle: the metadata set Chinese government sites are required to
# carry (ArticleTitle, PubDate, ContentSource), sometimes with markup inside.
_TITLE_META = ("og:title", "twitter:title", "headline", "title", "dc.title", "articletitle")
_MARKUP = re.compile(r"<[^>]*>")
_SITE_META = ("og:site_name", "application-name", "twitter:site", "site_name", "sitename")
_URLISH = re.compile(r"^(?:https?:)?//|^www\.|^@")


@dataclass
class Structured:
    titles: list[str] = field(default_factory=list)
    times: list[str] = field(default_factory=list)  # raw strings, best first
    authors: list[str] = field(default_factory=list)
    site_name: str | None = None
    image: str | None = None
    language: str | None = None
    description: str | None = None
    article_body: str | None = None
    page_title: str = ""


def _json_objects(root):
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text.strip().rstrip(";"), strict=False)
        except ValueError:
            continue
        yield from _flatten(data)


def _flatten(data):
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten(data["@graph"])


def _types(obj: dict) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds if k}


def _names(value) -> list[str]:
    """Author names from a string, a Person, or a list of either."""
    if isinstance(value, str):
        return [squash(value)] if value.strip() else []
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    return []


def _first_str(value) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("name")
    return squash(value) if isinstance(value, str) and value.strip() else None


def _read_json_ld(root, found: Structured) -> None:
    for obj in _json_objects(root):
        if not _types(obj) & _ARTICLE_TYPES:
            continue
        is_page = _types(obj) == {"webpage"}
        for key in ("headline", "name"):
            if _first_str(obj.get(key)) and not is_page:
                found.titles.append(_first_str(obj.get(key)))
                break
        if _first_str(obj.get("datePublished")):
            found.times.append(_first_str(obj.get("datePublished")))
        names = [n for n in _names(obj.get("author")) if not _URLISH.match(n)]
        if names:
            found.authors.append(", ".join(names))  # co-authors are one byline
        publisher = obj.get("publisher")
        if isinstance(publisher, dict) and not found.site_name:
            found.site_name = _first_str(publisher.get("name"))
        found.image = found.image or _first_str(obj.get("image"))
        found.language = found.language or _first_str(obj.get("inLanguage"))
        found.description = found.description or _first_str(obj.get("description"))
        if isinstance(obj.get("articleBody"), str) and not is_page:
            found.article_body = found.article_body or obj["articleBody"]


def _meta_values(root) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for meta in root.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get("http-equiv") or ""
        key = key.strip().lower()
        value = meta.get("content")
        if key and value and value.strip():
            values.setdefault(key, []).append(squash(value))
    return values


def _microdata_times(root) -> list[str]:
    """itemprop=datePublished on any element, then <time datetime>/pubdate."""
    times = []
    for el in root.iter("time", "span", "div", "p", "abbr", "meta"):
        if (el.get("itemprop") or "").lower() in ("datepublished", "datecreated"):
            value = el.get("datetime") or el.get("content") or squash(el.text_content())
            if value:
                times.append(value)
    for el in root.iter("time"):
        if el.get("datetime") and (el.get("pubdate") is not None or not times):
            times.append(el.get("datetime"))
    return times


# Pages rendered by script carry their metadata in a JS object literal.
_SCRIPT_TIME = re.compile(
    r"""["']?(?:publish_?time|publishTime|pub_?date|pubDate|publish_?date|publishDate|datePublished|ctime)["']?"""
    r"""\s*[:=]\s*["'](?P<value>(?:19|20)\d\d[^"']{4,25})["']""",
    re.I,
)


def _script_times(root) -> list[str]:
    for script in root.iter("script"):
        match = _SCRIPT_TIME.search(script.text or "")
        if match:
            return [match.group("value")]
    return []


def read_structured(root) -> Structured:
    found = Structured()
    title = root.find(".//title")
    found.page_title = squash(title.text_content()) if title is not None else ""
    _read_json_ld(root, found)
    meta = _meta_values(root)
    for key in _TITLE_META:
        found.titles.extend(plain for v in meta.get(key, [])[:1] if (plain := squash(_MARKUP.sub("", v))))
    for key in _PUBLISHED_META:
        found.times.extend(meta.get(key, [])[:1])
    found.times.extend(_microdata_times(root))
    found.times.extend(_script_times(root))
    for key in _AUTHOR_META:
        found.authors.extend(v for v in meta.get(key, [])[:1] if not _URLISH.match(v))
    for key in _SITE_META:
        if not found.site_name and meta.get(key):
            found.site_name = meta[key][0]
    image = meta.get("og:image") or meta.get("twitter:image")
    found.image = found.image or (image[0] if image else None)
    found.description = found.description or next(iter(meta.get("og:description") or meta.get("description") or []), None)
    locale = meta.get("og:locale") or meta.get("content-language") or meta.get("language")
    found.language = root.get("lang") or root.get("xml:lang") or found.language or (locale[0] if locale else None)
    return found
