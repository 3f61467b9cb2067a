"""Engines for SQLite (embedded default) and PostgreSQL, with memos' connection settings."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from memos.errors import BackendError, ConfigError, ConflictError


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_engine(url: str, *, busy_timeout_s: float = 30.0) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys, secure delete and write locks.

    Raises:
        ConfigError: the URL is malformed or names an unsupported database.
    """
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise ConfigError(f"{url!r} is not a SQLAlchemy database URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, busy_timeout_s)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # No server-side prepared statements: after five runs PostgreSQL may switch one to
        # a generic plan, and for `id IN (...)` lists over filters that plan scans the
        # cube (100x slower than the custom plan). Planning each query costs ~0.1 ms.
        engine = create_engine(parsed, future=True, connect_args={"prepare_threshold": None})
        _ping_when_idle(engine)
        return engine
    raise ConfigError(f"unsupported database {backend!r}: memos runs on SQLite or PostgreSQL")


# A pooled PostgreSQL connection idle for longer than this is pinged before use. One back
# in the pool for less was working moments ago; pinging it anyway (SQLAlchemy's
# `pool_pre_ping`) costs a round trip on every transaction, a quarter of a short read.
PING_AFTER_IDLE_S = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping connections that sat in the pool for `PING_AFTER_IDLE_S` or longer on checkout;
    a dead one (the server restarted, a proxy dropped it) is replaced, as with pre-ping."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["memos_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("memos_idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return  # new, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool drops every connection made before now and retries with a new one.
            raise exc.InvalidatePoolError(f"stale connection: {error}") from error


def _sqlite_engine(url: str, busy_timeout_s: float) -> Engine:
    # Pooled: opening a SQLite connection (and its PRAGMAs) costs more than most queries.
    # The pool hands a connection to one thread at a time, so the thread check can go.
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=8,
        connect_args={"check_same_thread": False},
        future=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so writes can BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Forgotten text is overwritten with zeros, not left in free pages.
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer takes the lock up front; a deferred BEGIN that later writes can fail
        # with SQLITE_BUSY instead of waiting.
        write = connection.get_execution_options().get("memos_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


# Steps every write transaction runs last, just before it commits (the store seals the
# operation log there: see StoreBase._seal_log). Keyed by engine; weak so engines can go.
_BEFORE_COMMIT: weakref.WeakKeyDictionary[Engine, list[Callable[[Connection], None]]] = (
    weakref.WeakKeyDictionary()
)


def before_commit(
    engine: Engine, step: Callable[[Connection], None], *, first: bool = False
) -> None:
    """Run `step(connection)` at the end of every write transaction on `engine` (`first`:
    before the steps already registered, as tests do to hold a transaction open)."""
    steps = _BEFORE_COMMIT.setdefault(engine, [])
    if step not in steps:
        steps.insert(0 if first else len(steps), step)


# A read session pinned by `reading()`: its connection serves every read transaction of
# this thread (or task) on that engine until it ends, so a search's many small reads cost
# one connection checkout and one BEGIN instead of one each (a round trip apiece on
# PostgreSQL).
_PINNED: ContextVar[dict[Engine, Connection] | None] = ContextVar("memos_pinned", default=None)


@contextmanager
def reading(engine: Engine) -> Iterator[None]:
    """Serve the read transactions inside this block from one connection and transaction.

    Raises:
        BackendError: the database is unreachable.
    """
    pinned = _PINNED.get()
    if pinned is not None and engine in pinned:
        yield  # already inside a read session on this engine
        return
    if engine.dialect.name != "postgresql":
        with transaction(engine, write=False) as connection:
            token = _PINNED.set({**(pinned or {}), engine: connection})
            try:
                yield
            finally:
                _PINNED.reset(token)
        return
    # PostgreSQL: no BEGIN / COMMIT around the reads (two round trips each search); every
    # statement sees what was committed when it started, which is all a search needs.
    try:
        with engine.connect() as plain:
            connection = plain.execution_options(isolation_level="AUTOCOMMIT")
            token = _PINNED.set({**(pinned or {}), engine: connection})
            try:
                yield
            finally:
                _PINNED.reset(token)
    except exc.DBAPIError as error:
        raise BackendError(describe_database_error(engine, error)) from None


@contextmanager
def transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """A transaction that maps database failures to memos errors. A read inside a
    `reading()` block joins the pinned one.

    Raises:
        ConflictError: a uniqueness or foreign-key constraint failed.
        BackendError: the database is unreachable, locked for too long, or corrupt.
    """
    pinned = None if write else (_PINNED.get() or {}).get(engine)
    if pinned is not None:
        try:
            yield pinned
        except exc.DBAPIError as error:
            raise BackendError(describe_database_error(engine, error)) from None
        return
    try:
        with engine.connect() as connection:
            connection.execution_options(memos_write=write)
            with connection.begin():
                yield connection
                if write:
                    for step in _BEFORE_COMMIT.get(engine, ()):
                        step(connection)
    except exc.IntegrityError as error:
        raise ConflictError(f"the change conflicts with stored data: {error.orig}") from None
    except exc.DBAPIError as error:
        raise BackendError(describe_database_error(engine, error)) from None


def describe_database_error(engine: Engine, error: exc.DBAPIError) -> str:
    where = engine.url.render_as_string(hide_password=True)
    text = str(error.orig).strip()
    if "file is not a database" in text or "malformed" in text:
        return (
            f"the database at {where} is corrupt or not a memos database ({text}); "
            "restore it from a backup or an export, or point MEMOS_HOME elsewhere"
        )
    if "connection" in text.lower() and engine.url.get_backend_name() == "postgresql":
        return f"cannot reach the database at {where}: {text}"
    return f"database error at {where}: {text}"
