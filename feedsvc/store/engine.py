"""Database connections. SQLite is set up for one writer and many readers
(WAL, writers taking the lock when they begin); PostgreSQL connections are
checked before use, since a pool outlives server restarts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection


CONNECT_TIMEOUT_SECONDS = 5


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Autocommit at the driver level; SQLAlchemy's "begin" hook below
    # issues BEGIN itself, so writers can take the lock up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # BEGIN IMMEDIATE for writers: a deferred transaction that later wants
    # to write can fail with "database is locked" without waiting.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writer") else "BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        path = url.removeprefix("sqlite:///")
        if path.startswith("file:"):  # a URI filename, e.g. file:/srv/feedsvc.sqlite3?mode=ro&uri=true
            path = path.removeprefix("file:").split("?")[0]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # A database host that does not answer must fail a connection, not
    # hold a request thread until the kernel gives up.
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS} if url.startswith("postgresql") else {}
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"), connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine
