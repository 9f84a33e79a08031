"""The OpenAPI 3.1 document of the read-only JSON API (feedsvc.web.api).

Kept as data beside the code that answers: tests validate the document
itself and every response against the schema of its operation, so the
two cannot drift apart unnoticed. 3.1 is plain JSON Schema 2020-12, so a
nullable field is `"type": [..., "null"]`."""

from __future__ import annotations

from typing import get_args

from feedsvc import __version__
from feedsvc.core.models import DEFAULT_ZONE_NAME
from feedsvc.core.outlets import OUTLETS_PAGE_SIZE
from feedsvc.store.query import CONVERSIONS, LIMIT_DEFAULT, LIMIT_MAX, PAGE_MAX
from feedsvc.sources.recipes import RecipeKind

JSON = "application/json"


def _nullable(kind: str, **extra) -> dict:
    return {"type": [kind, "null"], **extra}


def _strict(properties: dict, description: str) -> dict:
    # Every field is always present (null when unknown), and nothing else is:
    # clients can rely on the shape, and the tests catch any drift.
    return {"type": "object", "description": description, "properties": properties,
            "required": list(properties), "additionalProperties": False}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


TIME = {"type": "string", "format": "date-time"}
STATUS_TIME = _nullable("string", format="date-time", description="UTC, ISO 8601 with offset; null if never")
STRINGS = {"type": "array", "items": {"type": "string"}}
# A recipe file refused at the last reload: its previous version keeps running.
RECIPE_ERROR = {"type": "object", "required": ["file", "key", "reason"], "additionalProperties": False,
                "properties": {"file": {"type": "string"}, "key": {"type": "string"}, "reason": {"type": "string"}}}

SOURCE_PUBLIC = {
    "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
    "name": {"type": "string"},
    "kind": {"type": "string", "enum": list(get_args(RecipeKind))},
    "status": {"type": "string", "enum": ["ok", "failing", "waiting"],
               "description": "failing: the last refresh failed; waiting: never refreshed yet"},
    "refresh_interval_minutes": {"type": "number", "exclusiveMinimum": 0},
    "timezone": {"type": "string", "description": "IANA zone for times a page writes without one"},
    "item_count": {"type": "integer", "minimum": 0},
    "last_attempt_at": STATUS_TIME,
    "last_success_at": STATUS_TIME,
    "last_error_kind": _nullable("string"),
    "consecutive_failures": {"type": "integer", "minimum": 0},
    "next_run_at": STATUS_TIME,
    "fields": {"type": "object", "description": "from the last refresh that read pages: per field "
               "(`article.author`, `listing.date`, …), how many values came from `selector`s, the "
               "`extractor` or the `recipe`",
               "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}}},
    "linked_pages": {"type": "object", "description": "full_text: entries' own pages read and failed "
                     "in the last refresh that read pages", "required": ["read", "failed"],
                     "additionalProperties": False,
                     "properties": {"read": {"type": "integer", "minimum": 0},
                                    "failed": {"type": "integer", "minimum": 0}}},
    "feeds": _ref("FeedLinks"),
}
# Shown only with the refresh token: start URLs carry FEEDSVC_RECIPE_VARIABLES
# values, error messages may name them, a lease names a host and a pid.
SOURCE_PRIVATE = {
    "start_urls": {"type": "array", "items": {"type": "string", "format": "uri"}, "minItems": 1},
    "last_error": _nullable("string"),
    "last_error_at": STATUS_TIME,
    "lease_holder": _nullable("string", description="process refreshing it now (host:pid), if any"),
    "lease_expires_at": STATUS_TIME,
}

SCHEMAS = {
    "FeedLinks": _strict({f: {"type": "string", "format": "uri"} for f in ("atom", "rss", "json")},
                         "The same feed as Atom 1.0, RSS 2.0 and JSON Feed 1.1."),
    "Source": _strict(SOURCE_PUBLIC, "A recipe the service runs, with its refresh status from the store: "
                                     "what anyone may see."),
    "SourceDetails": _strict({**SOURCE_PUBLIC, **SOURCE_PRIVATE},
                             "A source as the holder of the refresh token sees it (Authorization: Bearer "
                             "<FEEDSVC_REFRESH_TOKEN>): with its start URLs, error message and lease."),
    "Outlet": _strict({
        "name": {"type": "string", "description": "canonical name, as feeds show it"},
        "slug": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
        "aliases": {**STRINGS, "description": "other names pages use for it (FEEDSVC_OUTLET_ALIASES)"},
        "members": {**STRINGS, "description": "every stored name gathered under it"},
        "count": {"type": "integer", "minimum": 0},
        "latest": _nullable("string", format="date-time", description="newest item time, UTC"),
        "feeds": _ref("FeedLinks"),
    }, "A source outlet (来源) with its feeds."),
    "Item": _strict({
        "id": {"type": "string", "description": "stored id (urn:uuid:…), never recomputed"},
        "url": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "summary": _nullable("string"),
        "body_html": _nullable("string"),
        "author": _nullable("string"),
        "outlet": _nullable("string"),
        "editors": STRINGS,
        "image": _nullable("string", format="uri"),
        "published": _nullable("string", format="date-time", description="with the source's offset"),
        "published_precision": {"enum": ["second", "day", None],
                                "description": "day: the page gave only a date, shown at 00:00"},
        "updated": {**TIME, "description": "last change of title, summary or body, source's offset"},
        "source": {"type": "string"},
    }, "One stored item."),
    "ItemPage": _strict({
        "items": {"type": "array", "items": _ref("Item")},
        "next": _nullable("string", description="`before` cursor of the next (older) page; null on the last"),
        "next_url": _nullable("string", format="uri"),
    }, "Items, newest first. A full page links to the next one."),
    "OutletPage": _strict({
        "outlets": {"type": "array", "items": _ref("Outlet")},
        "total": {"type": "integer", "minimum": 0, "description": "outlets on all pages"},
        "page": {"type": "integer", "minimum": 1},
        "pages": {"type": "integer", "minimum": 1},
        "next_url": _nullable("string", format="uri", description="the next page; null on the last"),
    }, f"Outlets by name, {OUTLETS_PAGE_SIZE} a page."),
    "Error": _strict({
        "error": {"type": "string", "description": "starts with the parameter's name"},
        "parameter": _nullable("string"),
    }, "A malformed request."),
}

_HEADERS = {"Access-Control-Allow-Origin": {"required": True, "schema": {"const": "*"}}}
_VALIDATED = {**_HEADERS, "ETag": {"required": True, "schema": {"type": "string"}},
              "Cache-Control": {"required": True, "schema": {"type": "string"}}}


def _ok(schema: dict, description: str) -> dict:
    return {"description": description, "headers": _VALIDATED, "content": {JSON: {"schema": schema}}}


def _get(operation_id: str, summary: str, ok: dict, parameters: list | None = None, bad: bool = False,
         token: bool = False) -> dict:
    responses = {"200": ok, "304": {"description": "Not modified (If-None-Match matched the ETag)",
                                    "headers": _VALIDATED}}
    error = {"headers": _HEADERS, "content": {JSON: {"schema": _ref("Error")}}}
    # Any request: a query string that is not percent-encoded UTF-8 (400)
    # or a target over 8 KB (414) is refused before the operation runs.
    responses["400"] = {"description": "A malformed parameter" if bad else "A malformed query string", **error}
    responses["414"] = {"description": "The request target is longer than 8 KB", **error}
    if token:
        responses["401"] = {"description": "Authorization is not `Bearer <token>`", **error}
        responses["403"] = {"description": "Not the refresh token (or none is configured)", **error}
        responses["429"] = {"description": "Too many token checks from this client (the admin rate limit)",
                            **error}
    params = [{"$ref": "#/components/parameters/IfNoneMatch"}, *(parameters or [])]
    return {"get": {"operationId": operation_id, "summary": summary, "parameters": params, "responses": responses}}


def _query(name: str, description: str, schema: dict | None = None, repeatable: bool = False) -> dict:
    schema = schema or {"type": "string"}
    if repeatable:
        schema = {"type": "array", "items": schema}
    return {"name": name, "in": "query", "description": description, "schema": schema,
            "style": "form", "explode": True}


AUTHORIZATION = {"name": "Authorization", "in": "header", "required": False,
                 "description": "`Bearer <FEEDSVC_REFRESH_TOKEN>`: adds start URLs, error messages and leases",
                 "schema": {"type": "string"}}
PAGE = _query("page", "page number, from 1", {"type": "integer", "minimum": 1, "maximum": PAGE_MAX, "default": 1})

TIME_FILTER = (f"ISO date or date-time ({DEFAULT_ZONE_NAME} when it has no zone; a bare date covers its whole day), "
               "or a duration back from now: 7d, 12h, 30m, 2w (at most 100000d); dates from 1000 to 2999")
ITEM_PARAMETERS = [
    _query("outlet", "outlet name, alias or slug; repeated: their union", repeatable=True),
    _query("source", "recipe id"),
    _query("q", "keyword in title or summary (NFKC, case-folded)", {"type": "string", "maxLength": 200}),
    _query("exclude", "drop items whose title or summary contains it", {"type": "string", "maxLength": 200},
           repeatable=True),
    _query("author", "exact match on one of the item's authors", {"type": "string", "maxLength": 200}),
    _query("since", TIME_FILTER),
    _query("until", TIME_FILTER),
    _query("limit", "items per page", {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX,
                                       "default": LIMIT_DEFAULT}),
    _query("before", "paging cursor: `next` of the previous page"),
    _query("convert", "Traditional↔Simplified Chinese for titles and summaries",
           {"type": "string", "enum": list(CONVERSIONS)}),
]

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "feedsvc JSON API", "version": __version__,
             "description": "Read-only: sources, outlets and items of this feedsvc. Every response allows "
                            "any origin (CORS) and carries a strong ETag."},
    "paths": {
        "/api/sources": _get("listSources", "Every source with its status and item count",
                             _ok({"type": "object", "properties": {
                                 "sources": {"type": "array", "items": {"oneOf": [_ref("Source"),
                                                                                  _ref("SourceDetails")]}},
                                 "recipe_errors": {"type": "array", "items": RECIPE_ERROR}},
                                  "required": ["sources", "recipe_errors"],
                                  "additionalProperties": False},
                                 "Sources by id, and refused recipe files. Anonymous callers get Source; "
                                 "the refresh token's holder gets SourceDetails"),
                             [AUTHORIZATION], token=True),
        "/api/outlets": _get("listOutlets", "Outlets with their feeds, by name, a page at a time",
                             _ok(_ref("OutletPage"), "One page of outlets"), [PAGE], bad=True),
        "/api/items": _get("listItems", "Items with the feeds' filters, newest first, paged by cursor",
                           _ok(_ref("ItemPage"), "One page of items"), ITEM_PARAMETERS, bad=True),
        "/api/openapi.json": _get("getOpenApi", "This document",
                                  _ok({"type": "object", "required": ["openapi", "info", "paths"]}, "OpenAPI 3.1")),
    },
    "components": {
        "schemas": SCHEMAS,
        "parameters": {"IfNoneMatch": {"name": "If-None-Match", "in": "header", "required": False,
                                       "description": "an ETag from an earlier response: 304 if unchanged",
                                       "schema": {"type": "string"}}},
    },
}
