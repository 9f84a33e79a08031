"""Property tests (hypothesis) of the date reader and the renderers: random
Unicode and random datetimes, datetime.min and max included, in zones
sampled from every zone the system knows. The reader never raises and
gives aware times; the renderers never raise, leave out only what they
cannot show, and every feed they write parses strictly (the Atom feeds are
validated with jing in one batch at the end)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.checks import examples, parse_strict, validate_atoms
from feedsvc.core.models import StoredItem
from feedsvc.parsers.dates import parse_timestamp
from feedsvc.render import FeedMeta, render_atom, render_json, render_rss
from feedsvc.core.times import plausible, shown_in

ZONE_NAMES = sorted(available_timezones())
ZONES = st.sampled_from(ZONE_NAMES).map(ZoneInfo)
EXTREMES = [datetime.min.replace(tzinfo=timezone.utc), datetime.max.replace(tzinfo=timezone.utc),
            datetime.min.replace(tzinfo=timezone(timedelta(hours=14))),
            datetime.max.replace(tzinfo=timezone(timedelta(hours=-12))),
            datetime.min.replace(tzinfo=ZoneInfo("America/New_York")),
            datetime.max.replace(tzinfo=ZoneInfo("Asia/Shanghai"))]
# Any aware datetime python can hold: fixed offsets and real zones.
OFFSETS = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
MOMENTS = st.one_of(st.sampled_from(EXTREMES),
                    st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=st.one_of(ZONES, OFFSETS)),
                    st.datetimes(min_value=datetime(1890, 1, 1), max_value=datetime(2100, 1, 1), timezones=ZONES))
NOW = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc))
# Text: random Unicode, and random datetimes written as pages and feeds write them.
WRITTEN = MOMENTS.flatmap(lambda m: st.sampled_from([
    m.isoformat(), m.replace(tzinfo=None).isoformat(), m.strftime("%Y-%m-%d %H:%M"), m.strftime("%Y年%m月%d日"),
    m.strftime("%m-%d %H:%M"), m.strftime("%Y-%m-%dT%H:%M:%S"), _rfc2822(m)]))
COUNTS = st.from_regex(r"\A[0-9]{1,30}(秒|分钟|小时|天|周|个月)前\Z")
TEXTS = st.one_of(st.text(), WRITTEN, COUNTS, st.from_regex(r"\A(今天|昨天|前天) ?[0-9]{1,3}:[0-9]{1,3}\Z"))


def _rfc2822(value: datetime) -> str:
    try:
        return format_datetime(value)
    except (ValueError, OverflowError):
        return value.ctime()


def _whole_minutes(value: datetime) -> bool:
    return value.utcoffset() is not None and value.utcoffset() % timedelta(minutes=1) == timedelta(0)


@settings(max_examples=examples(600), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, zone=ZONES, now=NOW)
def test_the_date_reader_never_raises(text, zone, now):
    found = parse_timestamp(text, zone, now)
    if found is None:
        return
    assert found.value.tzinfo is not None and found.precision in ("second", "day")
    assert _whole_minutes(found.value) or "+" in text or "-" in text  # an offset the text itself wrote
    plausible(found.value, now)  # the door compares any value it is given


def _item(n: int, published, updated, first_seen, source: str) -> StoredItem:
    return StoredItem(guid=f"urn:uuid:{n}", url=f"https://example.org/{n}.html", source_id=source, title=f"t{n}",
                      summary=None, body_html=None, author=None, outlet="报", editors=(), published=published,
                      precision="second" if published else None, first_seen=first_seen, updated=updated, seq=n)


ITEMS = st.lists(st.tuples(st.one_of(st.none(), MOMENTS), MOMENTS, MOMENTS, st.sampled_from(["a", "b"])),
                 min_size=1, max_size=5)


def test_the_renderers_never_raise_nor_write_an_invalid_feed(tmp_path):
    atoms: list[bytes] = []
    now = datetime.now(timezone.utc)

    @settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rows=ITEMS, zone_a=ZONES, zone_b=ZONES)
    def render_them(rows, zone_a, zone_b):
        items = [_item(n, *row) for n, row in enumerate(rows)]
        meta = FeedMeta(feed_id="tag:x,2026:all", title="t", self_url="https://example.org/all.atom",
                        alternate_url="https://example.org/", author="a", zones={"a": zone_a, "b": zone_b})
        def shows(item, times) -> bool:
            zone = zone_a if item.source_id == "a" else zone_b
            return all(shown_in(t, zone) is not None for t in times if t is not None)

        # Atom and JSON Feed show both times, RSS only the publication time
        # (the page's, else first seen: shown_published).
        showable = [i for i in items if shows(i, (i.shown_published, i.updated))]
        atom = render_atom(meta, items)
        assert len(parse_strict(atom).entries) == len(showable)
        rss_showable = [i for i in items if shows(i, (i.shown_published,))]
        assert len(parse_strict(render_rss(meta, items)).entries) == len(rss_showable)
        feed = json.loads(render_json(meta, items))
        assert len(feed["items"]) == len(showable)
        for entry in feed["items"]:
            for key in ("date_published", "date_modified"):
                if key in entry:
                    assert _whole_minutes(datetime.fromisoformat(entry[key])), entry[key]
        # Items with plausible times are never the ones left out.
        assert {i.guid for i in items if all(plausible(t, now) for t in (i.shown_published, i.updated))} <= {
            e["id"] for e in feed["items"]}
        atoms.append(atom)

    render_them()
    validate_atoms(atoms, tmp_path)


def test_offsets_are_whole_minutes_of_the_modern_rules(tmp_path):
    """Shanghai before 1901 kept local mean time, +08:05:43, and Monrovia
    -00:44:30 until 1972: shown as +08:00 and +00:00, in every format."""
    shanghai, monrovia = ZoneInfo("Asia/Shanghai"), ZoneInfo("Africa/Monrovia")
    old = datetime(1900, 6, 1, 4, tzinfo=timezone.utc)
    seventies = datetime(1971, 6, 1, 4, tzinfo=timezone.utc)
    assert shown_in(old, shanghai).isoformat() == "1900-06-01T12:00:00+08:00"
    assert shown_in(seventies, monrovia).isoformat() == "1971-06-01T04:00:00+00:00"
    # The reader attaches the modern offset to a wall-clock time, too.
    assert parse_timestamp("1900-06-01 12:00", shanghai).value.isoformat() == "1900-06-01T12:00:00+08:00"
    meta = FeedMeta(feed_id="tag:x,2026:all", title="t", self_url="https://example.org/all.atom",
                    alternate_url="https://example.org/", author="a", zones={"a": shanghai, "b": monrovia})
    items = [_item(0, old, seventies, seventies, "a"), _item(1, seventies, seventies, seventies, "b")]
    atom = render_atom(meta, items)
    assert b"<published>1900-06-01T12:00:00+08:00</published>" in atom
    assert b"<published>1971-06-01T04:00:00+00:00</published>" in atom
    assert b"Fri, 01 Jun 1900 12:00:00 +0800" in render_rss(meta, items)
    assert [i["date_published"] for i in json.loads(render_json(meta, items))["items"]] == [
        "1900-06-01T12:00:00+08:00", "1971-06-01T04:00:00+00:00"]
    validate_atoms([atom], tmp_path)
