"""The outlet statistics the store keeps as items change agree with a count
over every item, whatever mix of writes made them; and the migration
counts what a store already held."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func, select, text

from feedsvc.store import migrate
from feedsvc.core.models import DETAIL_ARTICLE, DETAIL_LISTING, ItemRecord, Timestamp
from feedsvc.core.outlets import OutletDirectory, slugify
from feedsvc.sources.recipes import parse_recipe
from feedsvc.store.schema import items
from feedsvc.store.engine import make_engine
from feedsvc.store.store import Store

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
RECIPE = parse_recipe('id = "s"\nname = "S"\nkind = "feed"\nstart_urls = ["http://127.0.0.1/"]\n', "s.toml")
OUTLETS = ["鲁网", "胶东在线", "大众日报", "BBC", None]


def recount(store: Store) -> dict:
    visible = items.c.gone_at.is_(None)
    query = (select(items.c.outlet, func.sum(case((visible, 1), else_=0)), func.max(case((visible, items.c.sort_at))))
             .where(items.c.outlet.is_not(None)).group_by(items.c.outlet))
    with store.engine.connect() as conn:
        return {name: (count, latest) for name, count, latest in conn.execute(query) if count}


def record(i: int, rng: random.Random, detail: int) -> ItemRecord:
    return ItemRecord(url=f"https://p/{i}", source_id="s", title=f"标题{rng.randrange(3)}", detail=detail,
                      outlet=rng.choice(OUTLETS),
                      published=Timestamp(T0 - timedelta(hours=rng.randrange(500))) if rng.random() < 0.8 else None)


def test_kept_statistics_match_a_full_count(database_url):
    store = Store.from_url(database_url)
    store.upgrade_schema()
    store.sync_sources([RECIPE])
    rng = random.Random(7)
    for step in range(25):
        # Listings then articles: later pages move items to other outlets and times.
        batch = [record(rng.randrange(60), rng, rng.choice((DETAIL_LISTING, DETAIL_ARTICLE))) for _ in range(12)]
        store.upsert_items(batch, now=T0 + timedelta(minutes=step))
        if step % 4 == 1:
            store.mark_gone([f"https://p/{rng.randrange(60)}" for _ in range(3)], T0)
        if step % 6 == 5:
            store.prune("s", max_age=timedelta(hours=300), max_items=40, keep_newest=2, now=T0)
        kept = {o.name: (o.count, o.latest) for o in store.outlets()}
        assert kept == recount(store), step
    stats = store.outlets()
    assert {o.slug for o in stats} == {slugify(o.name) for o in stats}
    directory = OutletDirectory(stats)
    assert {o.name for o in directory} == set(recount(store))
    store.engine.dispose()


def test_upgrade_counts_the_items_already_stored(blank_database_url):
    engine = make_engine(blank_database_url)
    migrate.upgrade(engine, "0002")
    now = datetime(2026, 1, 1)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sources (id, name, kind, consecutive_failures) VALUES ('s', 'S', 'feed', 0)"))
        for i, (outlet, gone) in enumerate([("鲁网", None), ("鲁网", None), ("鲁网", now), ("胶东在线", now)]):
            conn.execute(text(
                "INSERT INTO items (guid, url, source_id, title, editors, detail, first_seen_at, updated_at, sort_at, "
                "outlet, gone_at) VALUES (:guid, :url, 's', 't', '[]', 1, :at, :at, :at, :outlet, :gone)"),
                {"guid": f"urn:{i}", "url": f"https://p/{i}", "at": now - timedelta(days=i), "outlet": outlet,
                 "gone": gone})
    migrate.upgrade(engine)
    store = Store(engine)
    [stat] = store.outlets()  # 胶东在线 has no visible item left
    assert (stat.name, stat.count, stat.slug) == ("鲁网", 2, slugify("鲁网"))
    assert stat.latest == now.replace(tzinfo=timezone.utc)
    # Revisions start at 0 and move with every change.
    store.upsert_items([ItemRecord(url="https://p/0", source_id="s", title="新标题", detail=1)], now=T0)
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT url, revision FROM items")).all())["https://p/0"] == 1
    engine.dispose()


def named(url: str, outlet: str | None, source: str = "s") -> ItemRecord:
    return ItemRecord(url=url, source_id=source, title="标题", detail=DETAIL_LISTING, outlet=outlet)


def slugs_of(store: Store) -> dict[str, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(text("SELECT name, slug FROM outlet_stats")).all())


def test_slugs_are_given_once_in_the_order_names_appear(database_url):
    store = Store.from_url(database_url)
    store.upgrade_schema()
    store.sync_sources([RECIPE])
    # One write: the name seen first (the first record) keeps the bare slug.
    store.upsert_items([named("https://p/1", "胶东在线"), named("https://p/2", "jiaodong-zaixian"),
                        named("https://p/3", "outlet"), named("https://p/4", ".."), named("https://p/5", "")])
    store.upsert_items([named("https://p/6", "Jiaodong/Zaixian"), named("https://p/7", "%2F%2E%2E")])
    expected = {"胶东在线": "jiaodong-zaixian", "jiaodong-zaixian": "jiaodong-zaixian-2", "outlet": "outlet-2",
                "..": "outlet-3", "Jiaodong/Zaixian": "jiaodong-zaixian-3", "%2F%2E%2E": "2f-2e-2e"}
    assert slugs_of(store) == expected
    # A rebuild counts again and keeps every slug, also of an outlet whose items are all gone.
    store.mark_gone(["https://p/3"], T0)
    with store._writer() as conn, conn.begin():
        conn.execute(text("DELETE FROM outlet_stats WHERE name = '..'"))  # a row the table lost
    store.rebuild_outlet_stats()
    assert slugs_of(store)["outlet"] == "outlet-2" and slugs_of(store)[".."] == "outlet-3"
    assert {o.name: o.count for o in store.outlets()} == {"胶东在线": 1, "jiaodong-zaixian": 1, "..": 1,
                                                         "Jiaodong/Zaixian": 1, "%2F%2E%2E": 1}
    directory = OutletDirectory(store.outlets())
    assert directory.resolve("jiaodong-zaixian").name == "胶东在线"
    assert directory.display_name("jiaodong-zaixian") == "jiaodong-zaixian"  # an item's own outlet, not the slug's
    store.engine.dispose()


def test_a_source_names_a_bounded_number_of_outlets(database_url):
    store = Store.from_url(database_url)
    store.upgrade_schema()
    store.sync_sources([RECIPE])
    first = store.upsert_items([named(f"https://p/{n}", f"社{n}") for n in range(3)], outlets_max=2,
                               default_outlet="本站")
    assert first.outlets_refused == {"社2"}
    second = store.upsert_items([named("https://p/9", "本站"), named("https://p/1", "社1"),
                                 named("https://p/10", "社10")], outlets_max=2, default_outlet="本站")
    assert second.outlets_refused == {"社10"}  # the source's own outlet is always allowed, and not counted
    assert {i.url: i.outlet for i in store.query_items(limit=50)} == {
        "https://p/0": "社0", "https://p/1": "社1", "https://p/2": "本站", "https://p/9": "本站",
        "https://p/10": "本站"}
    store.engine.dispose()
