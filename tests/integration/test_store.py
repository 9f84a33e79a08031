"""Store semantics on a real SQLite file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from feedsvc.core.models import DETAIL_ARTICLE, DETAIL_LISTING, ItemRecord, Timestamp
from feedsvc.sources.recipes import parse_recipe
from feedsvc.store.store import Store

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
RECIPE = parse_recipe('id = "s"\nname = "S"\nkind = "feed"\nstart_urls = ["http://127.0.0.1/"]\n', "s.toml")


@pytest.fixture
def store(database_url):
    s = Store.from_url(database_url)
    s.upgrade_schema()
    s.sync_sources([RECIPE])
    yield s
    s.engine.dispose()


def listing(url="https://p/1", **kw):
    values = dict(url=url, source_id="s", title="标题", detail=DETAIL_LISTING, summary="摘要...", outlet="鲁网",
                  published=Timestamp(datetime(2019, 10, 23, tzinfo=SHANGHAI), "day"))
    values.update(kw)
    return ItemRecord(**values)


def article(url="https://p/1", **kw):
    values = dict(url=url, source_id="s", title="标题", detail=DETAIL_ARTICLE, summary="全文摘要", body_html="<p>正文</p>",
                  outlet="鲁网", author="记者", editors=("杨凡",),
                  published=Timestamp(datetime(2019, 10, 23, 9, 12, 5, tzinfo=SHANGHAI)))
    values.update(kw)
    return ItemRecord(**values)


def test_refetch_never_duplicates_and_keeps_updated(store):
    assert store.upsert_items([listing()], now=T0).new == 1
    again = store.upsert_items([listing()], now=T0 + timedelta(hours=1))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
    [item] = store.query_items()
    # An unchanged 2019 item says 2019 in updated too, not when it was first seen.
    assert item.updated == item.published == datetime(2019, 10, 23, tzinfo=SHANGHAI) and item.first_seen == T0


def test_listing_then_article_enriches_one_item(store):
    store.upsert_items([listing()], now=T0)
    [before] = store.query_items()
    result = store.upsert_items([article()], now=T0 + timedelta(hours=1))
    assert (result.new, result.updated) == (0, 1)
    [after] = store.query_items()
    assert after.guid == before.guid and after.first_seen == T0
    assert after.body_html == "<p>正文</p>" and after.author == "记者" and after.editors == ("杨凡",)
    assert after.precision == "second" and after.published == datetime(2019, 10, 23, 1, 12, 5, tzinfo=timezone.utc)
    # Reading the article after its listing entry is no change of the item.
    assert after.updated == after.published


def test_listing_after_article_only_fills_gaps(store):
    store.upsert_items([article(author=None)], now=T0)
    result = store.upsert_items([listing(title="旧标题", author="别人")], now=T0 + timedelta(hours=1))
    assert result.updated == 0
    [item] = store.query_items()
    assert item.title == "标题" and item.summary == "全文摘要" and item.precision == "second"
    assert item.author == "别人"  # the article had none: a gap is filled


def test_updated_moves_only_on_title_summary_or_body(store):
    store.upsert_items([article()], now=T0)
    store.upsert_items([article(author="另一位", editors=("怀初侠",))], now=T0 + timedelta(hours=1))
    [item] = store.query_items()
    assert item.author == "另一位" and item.updated == item.published
    store.upsert_items([article(title="新标题")], now=T0 + timedelta(hours=2))
    assert store.query_items()[0].updated == T0 + timedelta(hours=2)


def test_item_without_a_time_shows_first_seen_as_both(store):
    store.upsert_items([article(published=None)], now=T0)
    [item] = store.query_items()
    assert item.published is None and item.precision == "seen"  # the store says the time is first seen
    assert item.shown_published == item.updated == item.first_seen == T0
    # A time found later replaces first seen, and stays the updated time.
    store.upsert_items([article()], now=T0 + timedelta(hours=1))
    [item] = store.query_items()
    assert item.precision == "second" and item.updated == item.published


def test_updated_is_never_before_published(store):
    store.upsert_items([article()], now=T0)
    store.upsert_items([article(title="新标题")], now=T0 + timedelta(hours=1))
    later = datetime(2026, 3, 1, tzinfo=timezone.utc)  # the page now names a later time, content unchanged
    store.upsert_items([article(title="新标题", published=Timestamp(later))], now=T0 + timedelta(hours=2))
    assert store.query_items()[0].updated == later


def test_other_source_never_moves_an_items_outlet(store):
    other = parse_recipe('id = "o"\nname = "O"\nkind = "feed"\nstart_urls = ["http://127.0.0.1/o"]\n', "o.toml")
    store.sync_sources([RECIPE, other])
    store.upsert_items([article()], now=T0)
    store.upsert_items([article(source_id="o", outlet="大众日报", title="新标题")], now=T0 + timedelta(hours=1))
    [item] = store.query_items()
    assert item.source_id == "s" and item.outlet == "鲁网" and item.title == "新标题"


def test_guid_is_minted_once_and_stored(store):
    store.upsert_items([listing()], now=T0)
    guid = store.query_items()[0].guid
    assert guid.startswith("urn:uuid:")
    with store.engine.begin() as conn:  # a later change of minting rules must not change stored ids
        conn.exec_driver_sql("UPDATE items SET guid = 'urn:uuid:kept'")
    store.upsert_items([article()], now=T0 + timedelta(hours=1))
    assert store.query_items()[0].guid == "urn:uuid:kept"


def test_order_newest_first_then_first_seen(store):
    day = Timestamp(datetime(2019, 10, 22, tzinfo=SHANGHAI), "day")
    store.upsert_items([listing("https://p/b", published=day), listing("https://p/a", published=day)], now=T0)
    store.upsert_items([article("https://p/new")], now=T0)
    assert [i.url for i in store.query_items()] == ["https://p/new", "https://p/a", "https://p/b"]
    assert [i.url for i in store.query_items(limit=1)] == ["https://p/new"]


def test_outlets_and_filters(store):
    store.upsert_items([listing("https://p/1"), listing("https://p/2", outlet="胶东在线"), listing("https://p/3")],
                       now=T0)
    assert [(o.name, o.count) for o in store.outlets()] == [("胶东在线", 1), ("鲁网", 2)]
    assert {i.url for i in store.query_items(outlets=["鲁网"])} == {"https://p/1", "https://p/3"}


def test_version_moves_on_change_only(store):
    assert store.version() == 0
    store.upsert_items([listing()], now=T0)
    assert store.version() == 1
    store.upsert_items([listing()], now=T0)
    assert store.version() == 1


def test_prune_by_age_keeps_what_default_feeds_show_but_the_cap_wins(store):
    day = timedelta(days=1)
    old = [listing(f"https://p/old{i}", published=Timestamp(T0 - 100 * day + i * timedelta(minutes=1)))
           for i in range(6)]
    new = [listing(f"https://p/new{i}", published=Timestamp(T0 - day + i * timedelta(minutes=1))) for i in range(4)]
    store.upsert_items(old + new, now=T0)
    # Default feeds show 3 items: the 3 newest are protected whatever the rules say.
    assert store.prune("s", max_age=30 * day, max_items=None, keep_newest=3, now=T0) == 6
    assert len(store.query_items(limit=500)) == 4
    # A count cap bounds what the source holds: it prunes what default feeds show too.
    assert store.prune("s", max_age=None, max_items=1, keep_newest=3, now=T0) == 3
    assert [i.url for i in store.query_items(limit=500)] == ["https://p/new3"]
    assert store.prune("s", max_age=None, max_items=None, keep_newest=3, now=T0) == 0


def test_prune_protects_each_outlets_newest(store):
    day = timedelta(days=1)
    rare = listing("https://p/rare", outlet="新华网", published=Timestamp(T0 - 200 * day))
    common = [listing(f"https://p/c{i}", published=Timestamp(T0 - i * day)) for i in range(5)]
    store.upsert_items([rare, *common], now=T0)
    assert store.prune("s", max_age=30 * day, max_items=None, keep_newest=2, now=T0) == 0
    assert "https://p/rare" in {i.url for i in store.query_items(limit=500)}  # the 新华网 feed still shows it
    store.prune("s", max_age=30 * day, max_items=2, keep_newest=2, now=T0)
    assert {i.url for i in store.query_items(limit=500)} == {"https://p/c0", "https://p/c1"}  # the cap wins


def test_leases(store):
    ttl = timedelta(minutes=5)
    assert store.try_lease("s", "worker-a", ttl, now=T0)
    assert not store.try_lease("s", "worker-b", ttl, now=T0 + timedelta(minutes=1))
    assert store.try_lease("s", "worker-a", ttl, now=T0 + timedelta(minutes=1))  # renewal
    assert store.try_lease("s", "worker-b", ttl, now=T0 + timedelta(minutes=7))  # expired: taken over
    store.release_lease("s", "worker-a")  # not the holder: no effect
    assert store.source_state("s").lease_holder == "worker-b"
    store.release_lease("s", "worker-b")
    assert store.source_state("s").lease_holder is None


def test_claim_due_gives_each_due_source_to_one_claimer(store):
    other = parse_recipe('id = "t"\nname = "T"\nkind = "feed"\nstart_urls = ["http://127.0.0.1/"]\n', "t.toml")
    store.sync_sources([RECIPE, other])
    store.set_next_run("t", T0 + timedelta(hours=1))
    ttl = timedelta(minutes=5)
    assert store.claim_due("a", ttl, ["s", "t"], limit=10, now=T0) == ["s"]
    assert store.claim_due("b", ttl, ["s", "t"], limit=10, now=T0) == []
    # Later: "a" never finished (its lease ran out) and "t" came due.
    assert store.claim_due("b", ttl, ["s", "t"], limit=10, now=T0 + timedelta(hours=2)) == ["s", "t"]


def test_processes_starting_together_add_each_source_once(database_url):
    """Web workers start at the same instant and each makes sure the source
    rows exist: the loser of a race must not fail to start."""
    import threading

    first = Store.from_url(database_url)
    first.upgrade_schema()
    stores = [first, *(Store.from_url(database_url) for _ in range(3))]
    recipes = [parse_recipe(f'id = "n{i}"\nname = "N{i}"\nkind = "feed"\nstart_urls = ["http://127.0.0.1/"]\n',
                            f"n{i}.toml") for i in range(20)]
    barrier, failures = threading.Barrier(len(stores)), []

    def start(store):
        barrier.wait()
        try:
            store.sync_sources(recipes)
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(s.id for s in first.source_states()) == sorted(r.id for r in recipes)
    for store in stores:
        store.engine.dispose()


def test_an_error_quoting_control_characters_is_recorded_clean(store):
    """A site's bytes can end up in an error message (a declared encoding,
    a header); PostgreSQL refuses a NUL, and the status pages show it."""
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert store.record_failure(RECIPE.id, at, "declared as \x00\x15tf-8\x7f", "parse", at) == 1
    assert store.source_state(RECIPE.id).last_error == "declared as tf-8"


def _updated_by_url(store) -> dict[str, datetime]:
    return {i.url: i.updated for i in store.query_items(limit=10_000)}


def test_every_item_keeps_a_second_of_its_own_across_hours_and_writes(store):
    # 60 undated entries first seen together take the seconds below that
    # time, into the hour before it; a second write's undated entries go on
    # below those, and its entries dated inside the taken run go up past it.
    now = datetime(2026, 1, 1, 0, 0, 20, tzinfo=timezone.utc)
    store.upsert_items([listing(f"https://p/a{n}", published=None) for n in range(60)], now=now)
    first = _updated_by_url(store)
    assert sorted(first.values()) == [now - timedelta(seconds=s) for s in range(59, -1, -1)]
    inside = Timestamp(now - timedelta(seconds=40), "second")
    store.upsert_items([listing(f"https://p/b{n}", published=None) for n in range(3)]
                       + [listing(f"https://p/c{n}", published=inside) for n in range(3)], now=now)
    both = _updated_by_url(store)
    assert len(set(both.values())) == len(both) == 66
    assert [both[f"https://p/b{n}"] for n in range(3)] == [now - timedelta(seconds=60 + n) for n in range(3)]
    assert sorted(both[f"https://p/c{n}"] for n in range(3)) == [now + timedelta(seconds=n) for n in (1, 2, 3)]


def test_an_item_whose_updated_moves_frees_its_second(store):
    minute = Timestamp(datetime(2025, 6, 1, 8, 0, tzinfo=timezone.utc), "second")
    store.upsert_items([listing("https://p/1", published=minute), listing("https://p/2", published=minute)], now=T0)
    held = _updated_by_url(store)
    assert sorted(held.values()) == [minute.value, minute.value + timedelta(seconds=1)]
    # The first item's title changes: its updated becomes now; its old second is free again.
    store.upsert_items([listing("https://p/1", published=minute, title="新标题")], now=T0 + timedelta(days=1))
    store.upsert_items([listing("https://p/3", published=minute)], now=T0 + timedelta(days=1))
    after = _updated_by_url(store)
    assert after["https://p/1"] == T0 + timedelta(days=1)
    assert after["https://p/3"] == held["https://p/1"]  # the freed second
    assert len(set(after.values())) == 3
