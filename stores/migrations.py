"""Schema migrations, applied in order when a database is opened.

A new database gets the current schema in one go. An older one (its version is in
`memos_meta`) gets each step above its version, in order, each in its own transaction
that also records the new version, so an interrupted upgrade resumes where it stopped.
A database newer than this memos is refused: an old release must not write to it.

Adding a change: bump `SCHEMA_VERSION` in stores/schema.py, change the tables there, and
append a `Migration` here that brings a database of the previous version to the new one
(create what is new from the current table objects, copy data, never drop user data).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, insert, inspect, select

from memos.errors import BackendError
from memos.stores import schema
from memos.stores.engine import transaction
from memos.stores.lexical import LexicalIndex

VERSION_KEY = "schema_version"


@dataclass(frozen=True, slots=True)
class Migration:
    """One step: brings a database at `version - 1` to `version`."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _v3_usage_table(conn: Connection) -> None:
    """The LLM-usage ledger moves from JSON values in memos_meta to its own table."""
    schema.llm_usage.create(conn, checkfirst=True)
    prefix = "llm_usage:cube:"
    rows = conn.execute(
        select(schema.meta.c.key, schema.meta.c.value).where(schema.meta.c.key.like(prefix + "%"))
    ).all()
    for key, value in rows:
        try:
            cube_id = int(str(key).removeprefix(prefix))
            totals = json.loads(value)
        except ValueError:
            continue  # a damaged counter is bookkeeping, not memory: drop it
        if not isinstance(totals, dict):
            continue
        for operation, counts in totals.items():
            if not isinstance(counts, dict):
                continue
            values = {
                name: int(counts.get(name, 0) or 0)
                for name in schema.USAGE_COUNTERS
                if isinstance(counts.get(name, 0), int | float)
            }
            conn.execute(
                insert(schema.llm_usage).values(cube_id=cube_id, operation=str(operation), **values)
            )
        conn.execute(delete(schema.meta).where(schema.meta.c.key == key))


MIGRATIONS: tuple[Migration, ...] = (Migration(3, "LLM usage ledger as a table", _v3_usage_table),)


def stored_version(conn: Connection) -> int | None:
    """The schema version a database records; None for a database without memos tables.

    Raises:
        BackendError: the database has tables but is not a memos database.
    """
    tables = set(inspect(conn).get_table_names())
    if schema.meta.name not in tables:
        known = {t.name for t in schema.metadata.sorted_tables}
        if tables & known:
            raise BackendError(
                "the database has memos tables but no schema version; "
                "it was not created by memos or is damaged"
            )
        if tables:
            raise BackendError(
                f"the database already holds {len(tables)} tables that are not memos' "
                f"({', '.join(sorted(tables)[:5])}); point memos at an empty database or its "
                "own file (MEMOS_HOME or --url)"
            )
        return None
    found = conn.execute(
        select(schema.meta.c.value).where(schema.meta.c.key == VERSION_KEY)
    ).scalar()
    try:
        return int(found) if found is not None else 0
    except ValueError:
        raise BackendError(f"the database records a malformed schema version {found!r}") from None


def _set_version(conn: Connection, version: int) -> None:
    conn.execute(delete(schema.meta).where(schema.meta.c.key == VERSION_KEY))
    conn.execute(insert(schema.meta).values(key=VERSION_KEY, value=str(version)))


def upgrade(engine: Engine, lexical: LexicalIndex) -> list[int]:
    """Create or migrate the schema to `SCHEMA_VERSION`; returns the versions applied.

    Raises:
        BackendError: a foreign or newer database, or a failed migration step.
    """
    with transaction(engine, write=True) as conn:
        found = stored_version(conn)
        if found is None:
            schema.metadata.create_all(conn)
            lexical.install(conn)
            _set_version(conn, schema.SCHEMA_VERSION)
            return []
    if found > schema.SCHEMA_VERSION:
        raise BackendError(
            f"the database has memos schema version {found}, newer than this memos "
            f"({schema.SCHEMA_VERSION}); upgrade memos to open it"
        )
    if found < min(m.version for m in MIGRATIONS) - 1:
        raise BackendError(
            f"the database has memos schema version {found}, older than any this memos can "
            "upgrade; open it with an earlier release and export it"
        )
    applied: list[int] = []
    for step in MIGRATIONS:
        if step.version <= found:
            continue
        with transaction(engine, write=True) as conn:
            # Another process may have upgraded meanwhile: re-read under the write lock.
            if (stored_version(conn) or 0) >= step.version:
                continue
            try:
                step.apply(conn)
            except BackendError:
                raise
            except Exception as exc:  # a failed step rolls back; say which one
                raise BackendError(
                    f"upgrading the database to schema version {step.version} "
                    f"({step.description}) failed: {exc}"
                ) from exc
            _set_version(conn, step.version)
        applied.append(step.version)
    return applied
