"""Engines for SQLite (embedded default) and PostgreSQL, with memos' connection settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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
        return create_engine(parsed, pool_pre_ping=True, future=True)
    raise ConfigError(f"unsupported database {backend!r}: memos runs on SQLite or PostgreSQL")


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


@contextmanager
def transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """A transaction that maps database failures to memos errors.

    Raises:
        ConflictError: a uniqueness or foreign-key constraint failed.
        BackendError: the database is unreachable, locked for too long, or corrupt.
    """
    try:
        with engine.connect() as connection:
            connection.execution_options(memos_write=write)
            with connection.begin():
                yield connection
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
