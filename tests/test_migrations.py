"""A user's database survives upgrades: fixtures written by the previous schema (v2, the
release before the migrations existed) open, migrate and keep every memory, on SQLite and
PostgreSQL; a newer or foreign database is refused and left untouched."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PG_URL, require_postgres
from sqlalchemy import create_engine, text

import memos
from memos.stores.schema import SCHEMA_VERSION
from memos.testing import HashEmbedder

FIXTURES = Path(__file__).parent / "fixtures"


def _open(home: Path, url: str | None = None) -> memos.MemOS:
    return memos.open(home, url=url, user="alice", embedder=HashEmbedder(dim=64))


def _check_v2_content(mos: memos.MemOS) -> None:
    """What tests/fixtures/make_v2.py wrote, read back through the current SDK."""
    assert sorted(c.name for c in mos.cubes()) == ["notes", "work"]
    work = mos.cube("work")
    launch = next(i for i in work.items(limit=50) if i.source_ref == "msg-17")
    assert launch.content == "Launch moved to March 10"
    assert [v.content for v in work.history(launch.id)] == [
        "Launch is on March 3",
        "Launch moved to March 10",
    ]
    assert work.search("launch March", k=1)[0].item.id == launch.id
    assert [link.kind for link in work.links(launch.id)] == ["related"]
    assert [g.user for g in work.grants()] == ["bob"]
    # The LLM-usage ledger moved from a JSON value to its own table, totals intact.
    usage = work.stats()["llm_usage"]["ingest"]
    assert (usage["runs"], usage["messages"], usage["llm_calls"], usage["prompt_tokens"]) == (
        1,
        3,
        2,
        100,
    )
    # New writes work on the migrated schema.
    added = work.add("written after the upgrade")
    assert work.get(added.id).content == "written after the upgrade"


def _stored_version(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        row = conn.execute("select value from memos_meta where key = 'schema_version'").fetchone()
    return int(row[0])


def test_sqlite_database_of_the_previous_schema_migrates(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(FIXTURES / "schema_v2.sqlite", home / "memos.db")
    assert _stored_version(home / "memos.db") == 2
    with _open(home) as mos:
        _check_v2_content(mos)
    assert _stored_version(home / "memos.db") == SCHEMA_VERSION
    with sqlite3.connect(home / "memos.db") as conn:
        leftovers = conn.execute("select key from memos_meta where key like 'llm_usage:%'")
        assert leftovers.fetchall() == []
    with _open(home) as mos:  # a second open finds nothing to do
        assert mos.cube("work").stats()["llm_usage"]["ingest"]["llm_calls"] == 2


@pytest.fixture
def pg_v2_url() -> Iterator[str]:
    """A PostgreSQL schema restored from the v2 dump."""
    require_postgres()
    schema = f"memos_v2_{uuid.uuid4().hex[:12]}"
    dump = (FIXTURES / "schema_v2.postgresql.sql").read_text().replace("memos_fixture_v2", schema)
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        conn.exec_driver_sql(dump)
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_postgresql_database_of_the_previous_schema_migrates(
    tmp_path: Path, pg_v2_url: str
) -> None:
    with _open(tmp_path / "home", pg_v2_url) as mos:
        _check_v2_content(mos)
    with _open(tmp_path / "other-host", pg_v2_url) as mos:
        assert mos.cube("work").stats()["llm_usage"]["ingest"]["llm_calls"] == 2


@pytest.mark.postgres
def test_postgresql_postings_key_of_schema_7_gains_tf_and_doclen(
    tmp_path: Path, pg_url: str
) -> None:
    """Schema 7 keyed postings by (cube, lexeme, item) alone; the upgrade rebuilds the key
    to cover tf and doclen and keeps every posting."""
    with _open(tmp_path / "home", pg_url) as mos:
        cube = mos.create_cube("work")
        cube.add_many([f"harbour note {n}" for n in range(20)])
        engine = mos.kernel.store.engine
        with engine.begin() as conn:
            conn.execute(
                text(
                    "ALTER TABLE memos_lexical_postings "
                    "DROP CONSTRAINT memos_lexical_postings_pkey, "
                    "ADD PRIMARY KEY (cube_id, lexeme, item_id)"
                )
            )
            conn.execute(text("UPDATE memos_meta SET value = '7' WHERE key = 'schema_version'"))
            before = conn.execute(text("SELECT count(*) FROM memos_lexical_postings")).scalar()

    def key_columns() -> tuple[int, int]:
        with create_engine(pg_url).connect() as conn:
            row = conn.execute(
                text(
                    "SELECT i.indnkeyatts, i.indnatts FROM pg_index i "
                    "WHERE i.indrelid = 'memos_lexical_postings'::regclass AND i.indisprimary"
                )
            ).one()
            return int(row[0]), int(row[1])

    assert key_columns() == (3, 3)
    with _open(tmp_path / "home", pg_url) as mos:
        cube = mos.cube("work")
        assert key_columns() == (3, 5)
        with mos.kernel.store.engine.connect() as conn:
            after = conn.execute(text("SELECT count(*) FROM memos_lexical_postings")).scalar()
            version = conn.execute(
                text("SELECT value FROM memos_meta WHERE key = 'schema_version'")
            ).scalar()
        assert after == before and int(version) == SCHEMA_VERSION
        assert cube.search("harbour note 7", k=1)[0].item.content == "harbour note 7"


def test_a_newer_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(FIXTURES / "schema_v2.sqlite", home / "memos.db")
    with sqlite3.connect(home / "memos.db") as conn:
        conn.execute("update memos_meta set value = '999' where key = 'schema_version'")
    with pytest.raises(memos.BackendError, match="newer than this memos"):
        _open(home)
    assert _stored_version(home / "memos.db") == 999


def test_a_foreign_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    database = tmp_path / "app.db"
    with sqlite3.connect(database) as conn:
        conn.execute("create table invoices (id integer primary key, total real)")
        conn.execute("insert into invoices values (1, 9.5)")
    with pytest.raises(memos.BackendError, match="not memos'"):
        memos.open(tmp_path / "home", url=f"sqlite:///{database}", embedder=HashEmbedder(dim=64))
    with sqlite3.connect(database) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
    assert tables == ["invoices"]
