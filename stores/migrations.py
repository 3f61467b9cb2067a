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

from sqlalchemy import Connection, Engine, delete, func, insert, inspect, select, text

from memos.errors import BackendError
from memos.stores import schema
from memos.stores.engine import transaction
from memos.stores.lexical import LexicalIndex
from memos.stores.lexical_postgres import PostgresLexical

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


def _v4_api_keys(conn: Connection) -> None:
    """API keys for `memos serve`: a new table, nothing to copy."""
    schema.api_keys.create(conn, checkfirst=True)


def _v5_commit_ordered_log(conn: Connection) -> None:
    """Each cube's log gets positions in commit order (`cube_seq`) and a head row; older
    entries are numbered in their existing order. Local indexes notice the new numbering
    (retrieval/cube_index.py's identity) and rebuild from SQL."""
    columns = {c["name"] for c in inspect(conn).get_columns(schema.oplog.name)}
    if "cube_seq" not in columns:
        conn.execute(text(f"ALTER TABLE {schema.oplog.name} ADD COLUMN cube_seq BIGINT"))
    conn.execute(
        text(
            f"""UPDATE {schema.oplog.name} SET cube_seq = (
                SELECT COUNT(*) FROM {schema.oplog.name} AS earlier
                WHERE earlier.cube_id = {schema.oplog.name}.cube_id
                  AND earlier.seq <= {schema.oplog.name}.seq)"""
        )
    )
    for index in schema.oplog.indexes:
        if index.name in ("ux_memos_oplog_cube_log", "ix_memos_oplog_unsealed"):
            index.create(conn, checkfirst=True)
    schema.log_heads.create(conn, checkfirst=True)
    conn.execute(
        insert(schema.log_heads).from_select(
            ["cube_id", "seq"],
            select(schema.oplog.c.cube_id, func.max(schema.oplog.c.cube_seq)).group_by(
                schema.oplog.c.cube_id
            ),
        )
    )


def _v6_postgres_postings(conn: Connection) -> None:
    """PostgreSQL's lexical index moves from a GIN-indexed tsvector per item to postings
    (stores/lexical_postgres.py); SQLite's FTS5 tables are unchanged."""
    if conn.dialect.name != "postgresql":
        return
    lexical = PostgresLexical()
    lexical.install(conn)  # the postings table; memos_lexical exists already
    columns = {c["name"] for c in inspect(conn).get_columns("memos_lexical")}
    if "tsv" in columns:
        conn.execute(
            text(
                "INSERT INTO memos_lexical_postings (cube_id, lexeme, item_id, tf, doclen) "
                "SELECT l.cube_id, u.lexeme, l.item_id, coalesce(array_length(u.positions, 1), 1),"
                " l.doclen FROM memos_lexical l, unnest(l.tsv) u ON CONFLICT DO NOTHING"
            )
        )
        conn.execute(text("DROP INDEX IF EXISTS ix_memos_lexical_tsv"))
        conn.execute(text("ALTER TABLE memos_lexical DROP COLUMN tsv"))


def _v7_scheduler_log(conn: Connection) -> None:
    """The scheduler's decisions get a table; nothing to copy."""
    schema.scheduler_log.create(conn, checkfirst=True)


def _v8_covering_postings(conn: Connection) -> None:
    """PostgreSQL's postings key carries tf and doclen, so BM25 scoring reads the index
    alone (stores/lexical_postgres.py). The key is rebuilt; no row changes."""
    if conn.dialect.name != "postgresql":
        return
    name, key_columns, all_columns = conn.execute(
        text(
            "SELECT c.conname, i.indnkeyatts, i.indnatts FROM pg_constraint c "
            "JOIN pg_index i ON i.indexrelid = c.conindid "
            "WHERE c.conrelid = 'memos_lexical_postings'::regclass AND c.contype = 'p'"
        )
    ).one()
    if all_columns > key_columns:
        return  # created by this release (v6 installs the current table)
    conn.execute(
        text(
            f'ALTER TABLE memos_lexical_postings DROP CONSTRAINT "{name}", '
            "ADD PRIMARY KEY (cube_id, lexeme, item_id) INCLUDE (tf, doclen)"
        )
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(3, "LLM usage ledger as a table", _v3_usage_table),
    Migration(4, "API keys of the server", _v4_api_keys),
    Migration(5, "commit-ordered log positions per cube", _v5_commit_ordered_log),
    Migration(6, "PostgreSQL lexical postings", _v6_postgres_postings),
    Migration(7, "scheduler decision log", _v7_scheduler_log),
    Migration(8, "PostgreSQL postings key covers tf and doclen", _v8_covering_postings),
)


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
