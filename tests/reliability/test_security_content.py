"""Hostile content from sites: script, event handlers, javascript: links,
CDATA terminators, control characters and characters XML cannot carry,
in an article page, its related list, RSS, Atom and JSON Feed. Read
through the real path (a loopback site, the app's refresher, the store on
SQLite and PostgreSQL) and served through the Flask test client."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import lxml.html
import pytest
from lxml import etree

from tests.support.checks import parse_strict, validate_atom

from tests.support.stores import empty_store
from feedsvc.app import create_app
from feedsvc.core.models import DETAIL_ARTICLE, ItemRecord
from feedsvc.web.security import CONTENT_SECURITY_POLICY
from tests.support.hostilesite import NOT_TEXT, SCRIPT_TEXT, HostileSite
from tests.support.paths import PACKAGE

STATIC = PACKAGE / "static"
FORBIDDEN_TAGS = {"script", "style", "iframe", "object", "embed", "svg", "math", "form", "input", "base", "link",
                  "meta"}
RAW_MARKUP = re.compile(rb"<\s*(?:[\w-]+:)?(?:script|iframe|img|svg|object|embed|style|form|base)\b", re.I)
BAD_SCHEME = re.compile(rb"(?:java|vb)script:|data:text/html", re.I)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hostile(request, tmp_path_factory):
    """The app after one refresh of every hostile source, on each store."""
    folder = tmp_path_factory.mktemp(f"hostile-{request.param}")
    url = empty_store(f"sqlite:///{folder / 'store.sqlite3'}" if request.param == "sqlite"
                      else request.getfixturevalue("pg_database"))
    site = HostileSite()
    sources = site.write_recipes(folder / "feeds")
    app = create_app({"INSTANCE_PATH": str(folder / "instance"), "DATABASE_URL": url, "DB_AUTO_UPGRADE": True,
                      "RECIPES_PATH": str(folder / "feeds"), "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
                      "FETCH_HOST_DELAY_SECONDS": 0, "CACHE_CHECK_INTERVAL_SECONDS": 0})
    reports = app.extensions["feedsvc"].refresher.refresh_many(sources)
    yield app, reports
    site.close()
    app.extensions["feedsvc"].refresher.close()
    app.extensions["feedsvc"].store.engine.dispose()


def assert_safe_html(fragment: str) -> None:
    """Only harmless elements, no event handlers, only http(s) links."""
    assert not NOT_TEXT.search(fragment), repr(fragment)
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # a comment
        assert element.tag not in FORBIDDEN_TAGS, lxml.html.tostring(element)
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (name, value)
            if name in ("href", "src", "action", "data"):
                assert value.startswith(("https://", "http://")), (name, value)


def assert_clean_bytes(body: bytes) -> str:
    text = body.decode("utf-8")  # strictly: no surrogates, no broken bytes
    assert not NOT_TEXT.search(text), NOT_TEXT.search(text)
    assert not RAW_MARKUP.search(body), RAW_MARKUP.search(body)
    assert not BAD_SCHEME.search(body), BAD_SCHEME.search(body)
    return text


ATOM = "{http://www.w3.org/2005/Atom}"


def test_every_hostile_source_is_read(hostile):
    app, reports = hostile
    assert {r.source_id: r.status for r in reports} == {s: "ok" for s in (
        "hostile-page", "hostile-feed-rss", "hostile-broken-rss", "hostile-feed-atom", "hostile-feed-json")}
    broken = next(r for r in reports if r.source_id == "hostile-broken-rss")
    assert broken.warnings and "malformed" in broken.warnings[0]
    # The page, its safe related entry, and one item per feed: javascript: links became no item.
    urls = sorted(item["url"] for item in app.test_client().get("/api/items?limit=500").get_json()["items"])
    assert urls == ["https://example.org/atom1.html", "https://example.org/broken1.html",
                    "https://example.org/hostile.html", "https://example.org/json1.html",
                    "https://example.org/rel1.html", "https://example.org/rss1.html"]


def test_atom_escapes_and_validates(hostile, tmp_path):
    app, _ = hostile
    body = app.test_client().get("/feeds/all.atom").data
    assert_clean_bytes(body)
    parse_strict(body)
    validate_atom(body, tmp_path)
    root = etree.fromstring(body)
    entries = {e.find(f"{ATOM}link[@rel='alternate']").get("href"): e for e in root.iter(f"{ATOM}entry")}
    page = entries["https://example.org/hostile.html"]
    title = page.find(f"{ATOM}title")
    assert title.get("type") in (None, "text") and SCRIPT_TEXT in title.text and "]]>" in title.text
    content = page.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert_safe_html(content.text)
    assert '<a href="https://example.org/ok" title="a]]&gt;b"' in content.text  # harmless markup stays
    for entry in entries.values():
        found = entry.find(f"{ATOM}content")
        if found is not None:
            assert_safe_html(found.text)
    for element in root.iter():
        assert not any(name.lower().startswith("on") for name in element.attrib)


def test_rss_escapes_and_parses(hostile):
    app, _ = hostile
    body = app.test_client().get("/feeds/all.rss").data
    assert_clean_bytes(body)
    parsed = parse_strict(body)
    assert len(parsed.entries) == 6
    root = etree.fromstring(body)
    titles = [item.findtext("title") for item in root.iter("item")]
    assert any(SCRIPT_TEXT in t for t in titles)  # text, escaped on the wire
    for item in root.iter("item"):
        assert item.findtext("link").startswith("https://example.org/")
        for tag in ("description", "{http://purl.org/rss/1.0/modules/content/}encoded"):
            if item.findtext(tag):
                assert_safe_html(item.findtext(tag))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_json_feed_and_api_escape(hostile):
    app, _ = hostile
    client = app.test_client()
    for path, key in (("/feeds/all.json", "content_html"), ("/api/items?limit=500", "body_html")):
        body = client.get(path).data
        assert not BAD_SCHEME.search(body)
        data = json.loads(body.decode("utf-8"))
        for text in _strings(data):
            assert not NOT_TEXT.search(text), (path, text)
        items = data["items"]
        assert len(items) == 6
        for item in items:
            assert item["url"].startswith("https://example.org/")
            if item.get(key):
                assert_safe_html(item[key])
        json_item = next(i for i in items if i["url"] == "https://example.org/json1.html")
        assert SCRIPT_TEXT in json_item["title"]  # plain text by the JSON Feed spec


def test_index_page_escapes(hostile):
    app, _ = hostile
    response = app.test_client().get("/")
    assert response.status_code == 200
    own_script = b'<script src="/static/index.js" defer></script>'
    assert response.data.count(own_script) == 1
    assert_clean_bytes(response.data.replace(own_script, b""))  # no other markup of note, no bad scheme
    root = lxml.html.document_fromstring(response.data.decode("utf-8"))
    assert [(s.get("src"), s.text) for s in root.iter("script")] == [("/static/index.js", None)]
    for element in root.iter():
        if isinstance(element.tag, str):
            assert not any(name.lower().startswith("on") for name in element.attrib), element.attrib
            href = element.get("href") or element.get("src") or ""
            assert not href or href.startswith(("/", "https://", "http://")), href
    assert SCRIPT_TEXT in root.text_content()  # shown as text


def test_feed_page_view_escapes(hostile):
    """A browser gets the feed as an HTML page: hostile item text is shown
    as text, with no script, style or handler. The feed's XSLT, kept for
    older browsers, gives the same with libxslt (the engine browsers use)."""
    app, _ = hostile
    transform = etree.XSLT(etree.parse(str(STATIC / "feed.xsl")))
    for path in ("/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json"):
        page = app.test_client().get(path, headers={"Accept": "text/html,application/xml;q=0.9"})
        assert page.headers["Content-Type"].startswith("text/html")
        assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        root = lxml.html.document_fromstring(page.data.decode("utf-8"))
        assert SCRIPT_TEXT in root.text_content()
        assert root.find(".//script") is None and root.find(".//style") is None
        for element in root.iter():
            if isinstance(element.tag, str):
                assert not any(name.lower().startswith("on") for name in element.attrib)
                assert (element.get("href") or "http").startswith(("http", "/"))
    for path in ("/feeds/all.atom", "/feeds/all.rss"):
        response = app.test_client().get(path)
        html = str(transform(etree.fromstring(response.data).getroottree()))
        assert SCRIPT_TEXT.replace("<", "&lt;").replace(">", "&gt;") in html
        root = lxml.html.document_fromstring(html)
        assert root.find(".//script") is None and root.find(".//style") is None
        assert root.find(".//link[@rel='stylesheet']").get("href") == "http://localhost/static/feed.css"
        for element in root.iter():
            if isinstance(element.tag, str):
                assert not any(name.lower().startswith("on") for name in element.attrib)
                assert (element.get("href") or "http").startswith("http")


def test_rows_stored_before_the_fix_still_render(hostile, tmp_path):
    """Text written to the store by an older feedsvc, with characters XML
    cannot carry: the feeds drop them rather than fail."""
    app, _ = hostile
    legacy = "\x01\x08\x1b\x7f\x9f\ufffe\uffff"  # PostgreSQL refuses NUL, so no old row holds one
    record = ItemRecord(url="https://example.org/legacy.html", source_id="hostile-page", detail=DETAIL_ARTICLE,
                        title=f"Legacy{legacy}title", summary=f"sum{legacy}", body_html=f"<p>body{legacy}</p>",
                        author=f"au{legacy}", outlet=f"Outlet{legacy}", editors=(f"ed{legacy}",))
    app.extensions["feedsvc"].store.upsert_items([record], now=datetime.now(timezone.utc))
    client = app.test_client()
    atom = client.get("/feeds/all.atom")
    assert atom.status_code == 200 and b"Legacytitle" in atom.data
    parse_strict(atom.data)
    validate_atom(atom.data, tmp_path)
    rss = client.get("/feeds/all.rss")
    assert rss.status_code == 200 and b"Legacytitle" in rss.data
    parse_strict(rss.data)
    opml = client.get("/feeds.opml")
    assert opml.status_code == 200 and b'text="Outlet"' in opml.data
    etree.fromstring(opml.data)
    assert client.get("/feeds/all.json").status_code == 200 and client.get("/").status_code == 200


@pytest.mark.parametrize("path,headers", [
    ("/", {}), ("/feeds/all.atom", {}), ("/feeds/all.atom", {"Accept": "text/html"}), ("/feeds/all.json", {}),
    ("/feeds.opml", {}), ("/api/items", {}), ("/healthz", {}), ("/static/feed.xsl", {}), ("/no/such/page", {}),
    ("/feeds/outlet/nope.atom", {}), ("/feeds/all.atom?q=%ZZ", {}),
])
def test_security_headers_on_every_response(hostile, path, headers):
    app, _ = hostile
    # Twice: a repeated feed request is answered from the fast path's copy.
    for response in (app.test_client().get(path, headers=headers), app.test_client().get(path, headers=headers)):
        assert response.status_code in (200, 400, 404)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
        assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def test_pages_need_no_inline_code():
    """The policy forbids inline script and style, so the index template
    and the feed view must have none: they use files under /static."""
    template = (STATIC.parent / "templates" / "index.html").read_text(encoding="utf-8")
    stylesheet = (STATIC / "feed.xsl").read_text(encoding="utf-8")
    for source in (template, stylesheet):
        assert "<style" not in source and "style=" not in source
        assert not re.search(r"<script(?![^>]*\bsrc=)", source)
        assert not re.search(r"\son[a-z]+\s*=", source)
    assert (STATIC / "index.css").exists() and (STATIC / "index.js").exists() and (STATIC / "feed.css").exists()
