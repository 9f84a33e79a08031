"""Checks of what feedsvc serves: feedparser strict, jing against the
RFC 4287 schema, Prometheus text; how many inputs a property test draws;
and the warnings the W3C feed validator gives feedsvc's feeds (it is not
packaged for the machines the tests run on): entries sharing one updated
(DuplicateUpdated), dates before 1995 or in the future (ImplausibleDate), a
feed without a language, and rel=self not naming the URL the feed was
fetched by. Each of those returns the problems it found."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from prometheus_client.parser import text_string_to_metric_families

from tests.support.paths import SPEC

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EARLIEST = datetime(1995, 1, 1, tzinfo=timezone.utc)
# A clock a little ahead of the server's is no reason for a warning.
FUTURE_SLACK = timedelta(minutes=5)


def _kind(body: bytes) -> str:
    if body.lstrip().startswith(b"{"):
        return "json"
    return "atom" if etree.fromstring(body).tag == f"{ATOM}feed" else "rss"


def _dates(body: bytes) -> list[tuple[str, datetime]]:
    """(where, value) of every date in the feed."""
    kind = _kind(body)
    if kind == "json":
        data = json.loads(body)
        return [(f"item {i} {key}", datetime.fromisoformat(item[key])) for i, item in enumerate(data["items"])
                for key in ("date_published", "date_modified") if key in item]
    root = etree.fromstring(body)
    if kind == "atom":
        found = [("feed updated", root.findtext(f"{ATOM}updated"))]
        for i, entry in enumerate(root.iter(f"{ATOM}entry")):
            found += [(f"entry {i} {tag}", entry.findtext(f"{ATOM}{tag}")) for tag in ("updated", "published")]
        return [(where, datetime.fromisoformat(text)) for where, text in found if text]
    channel = root.find("channel")
    found = [("lastBuildDate", channel.findtext("lastBuildDate")), ("pubDate", channel.findtext("pubDate"))]
    found += [(f"item {i} pubDate", item.findtext("pubDate")) for i, item in enumerate(channel.iter("item"))]
    return [(where, parsedate_to_datetime(text)) for where, text in found if text]


def duplicate_updated(body: bytes) -> list[str]:
    """DuplicateUpdated: entries sharing one updated instant."""
    kind = _kind(body)
    if kind == "rss":
        return []  # RSS items carry no updated
    if kind == "json":
        values = [item.get("date_modified") for item in json.loads(body)["items"]]
    else:
        values = [e.findtext(f"{ATOM}updated") for e in etree.fromstring(body).iter(f"{ATOM}entry")]
    seen: dict[datetime, int] = {}
    problems = []
    for i, text in enumerate(values):
        if not text:
            continue
        instant = datetime.fromisoformat(text)
        if instant in seen:
            problems.append(f"entries {seen[instant]} and {i} share updated {text}")
        seen.setdefault(instant, i)
    return problems


def implausible_dates(body: bytes, now: datetime | None = None) -> list[str]:
    """ImplausibleDate: before 1995, or in the future."""
    latest = (now or datetime.now(timezone.utc)) + FUTURE_SLACK
    return [f"{where}: {value.isoformat()}" for where, value in _dates(body)
            if value < EARLIEST or value > latest]


def missing_language(body: bytes) -> list[str]:
    kind = _kind(body)
    if kind == "json":
        return [] if json.loads(body).get("language") else ["JSON Feed without language"]
    root = etree.fromstring(body)
    if kind == "atom":
        return [] if root.get(XML_LANG) else ["Atom feed without xml:lang"]
    return [] if (root.find("channel").findtext("language") or "").strip() else ["RSS channel without language"]


def self_mismatch(body: bytes, fetched_url: str) -> list[str]:
    """rel=self (JSON Feed: feed_url) must be the URL the feed was fetched by."""
    kind = _kind(body)
    if kind == "json":
        own = json.loads(body).get("feed_url")
    else:
        root = etree.fromstring(body)
        scope = root if kind == "atom" else root.find("channel")
        own = next((link.get("href") for link in scope.findall(f"{ATOM}link") if link.get("rel") == "self"), None)
    return [] if own == fetched_url else [f"rel=self is {own!r}, the feed was fetched at {fetched_url!r}"]


def problems(body: bytes, fetched_url: str, now: datetime | None = None) -> list[str]:
    return (duplicate_updated(body) + implausible_dates(body, now) + missing_language(body)
            + self_mismatch(body, fetched_url))


def examples(count: int) -> int:
    """How many inputs a property test draws: `count`, or ten times that
    when exploring (FEEDSVC_TEST_HYPOTHESIS=explore)."""
    return count * 10 if os.environ.get("FEEDSVC_TEST_HYPOTHESIS") == "explore" else count


def parse_strict(body: bytes):
    """Parse a feed and fail on any well-formedness problem."""
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


ATOM_SCHEMA = SPEC / "atom.rnc"


def validate_atom(body: bytes, tmp_path: Path) -> None:
    """Validate against the RFC 4287 RELAX NG schema with jing. Skipped
    only outside CI when jing is not installed."""
    validate_atoms([body], tmp_path)


def validate_atoms(bodies: list[bytes], tmp_path: Path) -> None:
    """Validate many feeds with one jing process (a JVM start each is slow)."""
    jing = shutil.which("jing")
    if jing is None:
        if os.environ.get("CI"):
            pytest.fail("jing is not installed (apt-get install jing)")
        pytest.skip("jing is not installed (apt-get install jing)")
    paths = []
    for n, body in enumerate(bodies):
        paths.append(tmp_path / f"feed-{n}.atom")
        paths[-1].write_bytes(body)
    # A short-lived JVM: the quick compiler and one GC thread start it in three quarters of the CPU time.
    env = {**os.environ, "JDK_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}
    result = subprocess.run([jing, "-c", str(ATOM_SCHEMA), *map(str, paths)], capture_output=True, text=True,
                            timeout=600, env=env)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} from Prometheus text."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client) -> dict[tuple, float]:
    """/metrics of an app's test client, parsed."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return samples(response.get_data(as_text=True))


def value(metrics: dict, name: str, **labels) -> float | None:
    return metrics.get((name, tuple(sorted(labels.items()))))
