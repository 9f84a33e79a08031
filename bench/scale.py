"""Group 4 (store scale): the feed queries on stores of 10k, 100k and 1M
seed-shaped items in SQLite, and 10k and 100k in PostgreSQL.

The schema is the real one (Store.upgrade_schema); rows carry the derived
columns exactly as Store._insert computes them. Each size is reached by
adding rows to the previous one. SQLite is loaded through a separate
connection with the journal off and its three secondary indexes dropped
during the load and re-created afterwards (the same DDL), then put back in
WAL mode; queries then go through Store.from_url, as feedsvc opens it. No
ANALYZE is run on SQLite (feedsvc never runs it); PostgreSQL gets one, as
autovacuum would after such a load.

Per size: the outlet-filtered 50-item feed query (Store.query_items with
outlets=(outlet,)), the keyword query (q=) with a word in ~1 % of the items
and with a word in none (answered from the keyword index; before it, every
row was looked at), the
unfiltered 50-item query, Store.outlets() (the outlet directory that every
web process rebuilds after each store change), and the size per item."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from bench import common

SQLITE_SIZES = (10_000, 100_000, 1_000_000)
PG_SIZES = (10_000, 100_000)
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _queries(store, big: bool) -> dict:
    from feedsvc.core.models import ItemQuery
    from feedsvc.core.folding import fold

    outlet = ItemQuery(outlets=(common.FEED_OUTLET,), limit=50)
    common_word = ItemQuery(text=fold(common.COMMON_KEYWORD), limit=50)
    absent_word = ItemQuery(text=fold(common.ABSENT_KEYWORD), limit=50)
    # Two characters: the length of most Chinese words (the pair index, 0005).
    absent_pair = ItemQuery(text=fold(common.ABSENT_KEYWORD[:2]), limit=50)
    everything = ItemQuery(limit=50)
    first = time.perf_counter()
    found = store.query_items(outlet)
    first_ms = (time.perf_counter() - first) * 1000
    assert len(found) == 50 and all(i.outlet == common.FEED_OUTLET for i in found)
    assert len(store.query_items(common_word)) == 50
    assert store.query_items(absent_pair) == []
    out = {
        "outlet_50_first_ms": round(first_ms, 2),
        "outlet_50": common.median_ms(lambda: store.query_items(outlet), 21),
        "all_50": common.median_ms(lambda: store.query_items(everything), 11),
        "keyword_common_50": common.median_ms(lambda: store.query_items(common_word), 11),
        "keyword_absent": common.median_ms(lambda: store.query_items(absent_word), 3 if big else 5,
                                           warmup=0 if big else 1),
        "keyword_absent_pair": common.median_ms(lambda: store.query_items(absent_pair), 3 if big else 5,
                                                warmup=0 if big else 1),
        "outlets_directory": common.median_ms(store.outlets, 3, warmup=0 if big else 1),
    }
    return out


def _statement(query):
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    from feedsvc.store.item_rows import feed_select  # the store's own statement

    statement = feed_select(query)
    return str(statement.compile(dialect=sqlite_dialect.dialect(), compile_kwargs={"literal_binds": True}))


def _raw_outlet_ms(path: Path) -> dict:
    """The same outlet query run by sqlite3 alone (rows fetched as tuples):
    what SQLite costs without SQLAlchemy and StoredItem building."""
    from feedsvc.core.models import ItemQuery

    sql = _statement(ItemQuery(outlets=(common.FEED_OUTLET,), limit=50))
    con = sqlite3.connect(path)
    try:
        return common.median_ms(lambda: con.execute(sql).fetchall(), 21)
    finally:
        con.close()


def _sqlite_plan(path: Path) -> dict:
    from feedsvc.core.models import ItemQuery
    from feedsvc.core.folding import fold

    plans = {}
    con = sqlite3.connect(path)
    for name, query in (("outlet", ItemQuery(outlets=(common.FEED_OUTLET,))),
                        ("keyword", ItemQuery(text=fold(common.COMMON_KEYWORD)))):
        plans[name] = [row[3] for row in con.execute("EXPLAIN QUERY PLAN " + _statement(query))]
    con.close()
    return plans


def _sqlite_load(path: Path, start: int, count: int) -> float:
    """Add rows start..start+count through a loading connection."""
    from sqlalchemy import create_engine, event, text

    from feedsvc.store import outlet_stats

    began = time.perf_counter()
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-524288", "temp_store=MEMORY"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    with engine.begin() as conn:
        indexes = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                    "AND tbl_name = 'items' AND sql IS NOT NULL")).all()
        for name, _ in indexes:
            conn.execute(text(f"DROP INDEX {name}"))
        # The keyword indexes' triggers index row by row; one rebuild after
        # the load is about 3x faster, as a bulk import would do it.
        triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                     "AND tbl_name = 'items'")).all()
        for name, _ in triggers:
            conn.execute(text(f"DROP TRIGGER {name}"))
    fake_store = type("S", (), {"engine": engine})()
    common.bulk_fill(fake_store, count, start=start, stats=False)
    with engine.begin() as conn:
        for _, sql in indexes:
            conn.execute(text(sql))
        for _, sql in triggers:
            conn.execute(text(sql))
        if triggers:
            for index in ("items_fts", "items_bigrams"):
                conn.execute(text(f"INSERT INTO {index} ({index}) VALUES ('rebuild')"))
    with engine.begin() as conn:
        outlet_stats.rebuild(conn)  # with the indexes back, as `feedsvc db upgrade` would count them
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    return time.perf_counter() - began


def sqlite(sizes=SQLITE_SIZES, profile: bool = False) -> dict:
    from feedsvc.store.store import Store

    folder = Path(tempfile.mkdtemp(prefix="feedsvc-bench-scale-"))
    path = folder / "scale.sqlite3"
    out: dict = {}
    try:
        common.open_store(f"sqlite:///{path}").engine.dispose()
        have = 0
        for size in sizes:
            build = _sqlite_load(path, have, size - have)
            have = size
            size_bytes = sum(p.stat().st_size for p in folder.glob("scale.sqlite3*"))
            store = Store.from_url(f"sqlite:///{path}")
            assert store.count_items() == size
            entry = out[str(size)] = {"load_seconds": round(build, 1), "bytes": size_bytes,
                                      "bytes_per_item": round(size_bytes / size)}
            entry.update(_queries(store, size >= 1_000_000))
            entry["outlet_50_sqlite3_only"] = _raw_outlet_ms(path)
            if size == sizes[-1]:
                out["plans"] = _sqlite_plan(path)
                if profile:
                    _profile_outlet(store, out)
            store.engine.dispose()
            _print("SQLite", size, entry)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def _profile_outlet(store, out: dict) -> None:
    from feedsvc.core.models import ItemQuery

    from bench import profiling

    query = ItemQuery(outlets=(common.FEED_OUTLET,), limit=50)
    prof: dict = {}
    with profiling.sampling(os.getpid(), 3, prof, "outlet_50"):
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            store.query_items(query)
    out["profile"] = prof
    profiling.print_summary("outlet 50-item query", prof["outlet_50"])


def _print(backend: str, size: int, e: dict) -> None:
    print(f"  {backend:<10} {size:>9,} items: outlet 50 {e['outlet_50']['median_ms']:7.2f} ms  all 50 "
          f"{e['all_50']['median_ms']:7.2f} ms  q= (1 %) {e['keyword_common_50']['median_ms']:7.2f} ms  "
          f"q= (none) {e['keyword_absent']['median_ms']:9.1f} ms  q= (none, 2 chars) "
          f"{e['keyword_absent_pair']['median_ms']:9.1f} ms  outlets() {e['outlets_directory']['median_ms']:8.1f} ms"
          f"  {e['bytes_per_item']:,} B/item  (loaded in {e['load_seconds']} s)", flush=True)


def postgresql(sizes=PG_SIZES) -> dict:
    from sqlalchemy import create_engine, text

    name = f"feedsvc_bench_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    out: dict = {"database": "a temporary database, dropped afterwards"}
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - no server: say so, skip the backend
        admin.dispose()
        return {"skipped": f"PostgreSQL not reachable: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"}
    try:
        store = common.open_store(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
        have = 0
        for size in sizes:
            build = common.bulk_fill(store, size - have, start=have)
            with store.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE items"))
                size_bytes = conn.execute(text("SELECT pg_total_relation_size('items')")).scalar_one()
            have = size
            entry = out[str(size)] = {"load_seconds": round(build, 1), "bytes": size_bytes,
                                      "bytes_per_item": round(size_bytes / size)}
            entry.update(_queries(store, False))
            _print("PostgreSQL", size, entry)
        store.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return out


def run(sqlite_sizes=SQLITE_SIZES, pg_sizes=PG_SIZES, profile: bool = False) -> dict:
    out = {"sqlite": sqlite(sqlite_sizes, profile)}
    if pg_sizes:
        out["postgresql"] = postgresql(pg_sizes)
    return out
