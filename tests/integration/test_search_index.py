"""The keyword indexes (migrations 0004 and 0005) change how q= is found, never what:
results equal a plain substring filter over the folded texts, in feed
order, through updates, deletes and paging, on both backends."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, make_url, text

from feedsvc.store import migrate
from feedsvc.store.item_rows import OVERLONG, feed_select, keyword_index
from feedsvc.core.models import DETAIL_ARTICLE, DETAIL_LISTING, ItemQuery, ItemRecord, Timestamp
from feedsvc.sources.recipes import parse_recipe
from feedsvc.core.folding import fold
from feedsvc.store.search import search_text
from feedsvc.store.engine import make_engine
from feedsvc.store.store import Store

from tests.support.checks import examples

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
RECIPE = parse_recipe('id = "s"\nname = "S"\nkind = "feed"\nstart_urls = ["http://127.0.0.1/"]\n', "s.toml")
# Chinese, full-width, mixed case, what folding changes (ß, ①, Ü) and LIKE's
# special characters, so generated texts share many short substrings.
FRAGMENTS = ("乡村振兴", "振兴", "中文新闻", "ＡＢＣ", "abc", "AbC", "Über", "straße", "①②", "100%", "a_b",
             "back\\slash", '引"号', "ｑｕｉｃｋ", "Quick", " ", "济南")
ALPHABET = "".join(sorted(set("".join(FRAGMENTS))))
ITEMS = 300


def _texts(rng: random.Random) -> tuple[str, str | None]:
    title = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 4)))
    summary = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 6))) or None
    return title, summary


def _record(k: int, title: str, summary: str | None, detail: int = DETAIL_LISTING) -> ItemRecord:
    # Few distinct times, so the id breaks many ties in the feed order.
    return ItemRecord(url=f"https://p/{k}", source_id="s", title=title, summary=summary, detail=detail,
                      published=Timestamp(T0 - timedelta(hours=k % 37)))


def _seeded(url: str) -> Store:
    s = Store.from_url(url)
    s.upgrade_schema()
    s.sync_sources([RECIPE])
    rng = random.Random(4)
    s.upsert_items([_record(k, *_texts(rng)) for k in range(ITEMS)], now=T0)
    return s


@pytest.fixture(scope="module")
def shared_store(module_database_url):
    """Built once per module and backend, for the cases that only read."""
    s = _seeded(module_database_url)
    yield s
    s.engine.dispose()


@pytest.fixture
def store(database_url):
    """Of the case's own, which it may change."""
    s = _seeded(database_url)
    yield s
    s.engine.dispose()


def _brute(store: Store | list, word: str, excludes=()) -> list[str]:
    """Every visible item in feed order (of the store, or as read from it
    before), filtered in Python."""
    items = store if isinstance(store, list) else store.query_items(limit=10_000)
    return [i.guid for i in items
            if word in search_text(i.title, i.summary) and not any(x in search_text(i.title, i.summary)
                                                                  for x in excludes)]


def _found(store: Store, word: str, excludes=()) -> list[str]:
    return [i.guid for i in store.query_items(ItemQuery(text=word, excludes=excludes, limit=10_000))]


def _paged(store: Store, word: str, page: int = 7) -> list[str]:
    out, before = [], None
    while True:
        batch = store.query_items(ItemQuery(text=word, before=before, limit=page))
        out += [i.guid for i in batch]
        if len(batch) < page:
            return out
        last = batch[-1]
        before = (last.published or last.first_seen, last.seq)


def _check_index(store: Store) -> None:
    """SQLite's FTS5 compares each index with the items it indexes."""
    if store.engine.dialect.name == "sqlite":
        with store.engine.begin() as conn:
            for table in ("items_fts", "items_bigrams"):
                conn.execute(text(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')"))


def _keywords():
    texts = [fold(f) for f in FRAGMENTS]
    pieces = st.sampled_from(texts).flatmap(
        lambda t: st.tuples(st.integers(0, len(t)), st.integers(1, 6)).map(lambda ab: t[ab[0]:ab[0] + ab[1]]))
    joined = st.lists(st.sampled_from(texts), min_size=2, max_size=2).map("".join).flatmap(
        lambda t: st.integers(0, max(0, len(t) - 3)).map(lambda a: t[a:a + 5]))
    return st.one_of(pieces, joined, st.text(alphabet=ALPHABET, min_size=1, max_size=5).map(fold)) \
        .filter(bool)


def test_keyword_results_equal_a_plain_substring_filter(shared_store):
    visible = shared_store.query_items(limit=10_000)  # read once: the cases only read the store
    some = _brute(visible, "乡村振兴")
    assert 0 < len(some) < ITEMS  # the generated store has a rare-ish word to find

    @settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(word=_keywords(), exclude=st.sampled_from(["", "abc", "%", "振兴"]))
    def check(word, exclude):
        excludes = (exclude,) if exclude else ()
        assert _found(shared_store, word, excludes) == _brute(visible, word, excludes)

    check()


@pytest.mark.parametrize("word", ["乡村振兴", "abc", "quick", "100%", "a_b", "back\\slash", '引"号', "%", "_", "\\",
                                  "兴", "ab", "ss", "über", "12", '"', "a b"])
def test_edge_keywords_and_paging(shared_store, word):
    expected = _brute(shared_store, fold(word))
    assert _found(shared_store, fold(word)) == expected
    assert _paged(shared_store, fold(word)) == expected


def test_updates_and_deletes_keep_the_index_exact(store):
    [first] = [i for i in store.query_items(limit=10_000) if i.url == "https://p/0"]
    assert _found(store, "独一无二") == []
    result = store.upsert_items([_record(0, "独一无二的标题", "新摘要", detail=DETAIL_ARTICLE)], now=T0 + timedelta(hours=1))
    assert result.updated == 1
    assert _found(store, "独一无二") == [first.guid]
    old_words = [w for w in (fold(first.title), ) if len(w) >= 3 and w not in "独一无二的标题\n新摘要"]
    for word in old_words:
        assert first.guid not in _found(store, word)
        assert _found(store, word) == _brute(store, word)
    _check_index(store)

    deleted = store.prune("s", max_age=None, max_items=100, keep_newest=0, now=T0 + timedelta(hours=2))
    assert deleted > 0
    _check_index(store)
    for word in ("乡村振兴", "abc", "中文新闻", "独一无二"):
        assert _found(store, word) == _brute(store, word)


def _plan(conn, query: ItemQuery, index: str | None) -> str:
    statement = feed_select(query, index=index).compile(conn, compile_kwargs={"literal_binds": True})
    if conn.dialect.name == "sqlite":
        return " ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}"))
    return " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}"))


@pytest.mark.parametrize("word, table", [("乡村振兴", "items_fts"), ("振兴", "items_bigrams"), ("q1", "items_bigrams")])
def test_the_index_is_used(shared_store, word, table):
    query = ItemQuery(text=word, limit=50)
    with shared_store.engine.connect() as conn:
        index = keyword_index(conn, word)
        if conn.dialect.name == "sqlite":
            assert index == "sqlite"
            assert f"{table} VIRTUAL TABLE" in _plan(conn, query, index)
        else:  # the planner's choice; on a small table, show whether it can use the index at all
            assert index == (None if len(word) > 2 else "postgresql")
            conn.execute(text("SET enable_seqscan = off"))
            conn.execute(text("SET enable_indexscan = off"))
            expected = "ix_items_search_trgm" if len(word) > 2 else "ix_items_search_bigrams"
            assert expected in _plan(conn, query, index)


@pytest.mark.parametrize("word", ["兴", "a%", "1 ", "%_"])
def test_keywords_no_index_can_look_up_are_read_in_feed_order(shared_store, word):
    """One character, or a pair the tokenizer does not read as one word."""
    with shared_store.engine.connect() as conn:
        assert keyword_index(conn, word) is None
    assert _found(shared_store, word) == _brute(shared_store, word)


def test_both_sqlite_plans_agree(shared_store):
    """A common word is read in feed order, without the index: same rows."""
    if shared_store.engine.dialect.name != "sqlite":
        pytest.skip("one plan on PostgreSQL")
    with shared_store.engine.connect() as conn:
        for word in ("乡村振兴", "abc", "中文新", "100%", "a_b", "re1", "振兴", "ab", "济南", "ss", "①②"):
            query = ItemQuery(text=word, limit=10_000)
            assert conn.execute(feed_select(query, index="sqlite")).all() == conn.execute(feed_select(query)).all()


def test_a_pair_past_the_indexed_length_is_found(store):
    """Pairs are indexed from the first 2,000 characters; a longer text is
    read by every pair search, so nothing past that is missed."""
    long_title = "长" * 2500 + "鲸鲨"
    store.upsert_items([_record(ITEMS, long_title, "尾部有词")], now=T0)
    [item] = [i for i in store.query_items(limit=10_000) if i.url == f"https://p/{ITEMS}"]
    for word in ("鲸鲨", "尾部", "长鲸"):
        assert _found(store, word) == _brute(store, word) == [item.guid]
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            marked = conn.execute(text(f"SELECT rowid FROM items_bigrams WHERE items_bigrams MATCH '{OVERLONG}'"))
            assert [row[0] for row in marked] == [item.seq]
    _check_index(store)


def test_upgrade_indexes_existing_items(blank_database_url):
    engine = make_engine(blank_database_url)
    migrate.upgrade(engine, "0003_perf")
    now = datetime(2026, 1, 1)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sources (id, name, kind, consecutive_failures) VALUES ('s', 'S', 'feed', 0)"))
        for k, title in enumerate(["乡村振兴的新闻", "别的新闻"]):
            conn.execute(text(
                "INSERT INTO items (guid, url, source_id, title, editors, detail, first_seen_at, updated_at, sort_at, "
                "search_text) VALUES (:guid, :url, 's', :title, '[]', 1, :now, :now, :now, :search)"),
                {"guid": f"urn:uuid:{k}", "url": f"https://p/{k}", "title": title, "now": now,
                 "search": search_text(title, None)})
    migrate.upgrade(engine)
    store = Store(engine)
    assert _found(store, "乡村振兴") == ["urn:uuid:0"]
    assert _found(store, "新闻") == ["urn:uuid:1", "urn:uuid:0"]
    if engine.dialect.name == "sqlite":  # found through the indexes, not only the LIKE
        with engine.connect() as conn:
            assert conn.execute(text("SELECT rowid FROM items_fts WHERE items_fts MATCH '\"乡村振兴\"'")).all() != []
            assert len(conn.execute(text("SELECT rowid FROM items_bigrams WHERE items_bigrams MATCH '\"新闻\"'"))
                       .all()) == 2
        _check_index(store)
    migrate.upgrade(engine, "0003_perf")  # and back down
    assert _found(store, "乡村振兴") == ["urn:uuid:0"]
    engine.dispose()


def test_postgres_upgrades_without_the_right_to_create_the_extension(pg_database, caplog):
    """pg_trgm needs CREATE on the database; without it the schema is still
    brought to the head, keywords are matched by LIKE alone."""
    import uuid

    from tests.support.stores import PG_ADMIN_URL

    name = f"feedsvc_np_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'CREATE ROLE "{name}" LOGIN'))
    url = make_url(PG_ADMIN_URL).set(database=name)
    owner = create_engine(url, isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        conn.execute(text(f'REVOKE CREATE ON DATABASE "{name}" FROM PUBLIC'))
        conn.execute(text(f'GRANT ALL ON SCHEMA public TO "{name}"'))
    owner.dispose()
    engine = make_engine(url.set(username=name).render_as_string(hide_password=False))
    try:
        with caplog.at_level("WARNING", logger="feedsvc.store.migrate"):
            assert migrate.upgrade(engine) == migrate.head_revision()
        assert "search_index_skipped" in caplog.text
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_items_search_trgm'")
                                ).scalar_one() == 0
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()
