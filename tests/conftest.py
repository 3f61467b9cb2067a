"""Shared fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL comes from MEMOS_TEST_PG_URL (default: the local server, user postgres,
database test). Each test gets its own schema, dropped afterwards. Without a server the
PostgreSQL cases are skipped with the reason shown, unless MEMOS_REQUIRE_POSTGRES=1 (CI),
which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import memos
from memos.testing import FakeClock, HashEmbedder

PG_URL = os.environ.get("MEMOS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_problem: str | None = None
_pg_checked = False


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can (checked once)."""
    global _pg_checked, _pg_problem
    if not _pg_checked:
        _pg_checked = True
        try:
            engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            engine.dispose()
        except Exception as exc:  # any failure means "no usable server"; the reason is shown
            _pg_problem = f"PostgreSQL not reachable at {PG_URL}: {str(exc).splitlines()[0]}"
    return _pg_problem


def require_postgres() -> None:
    problem = postgres_problem()
    if problem is None:
        return
    if os.environ.get("MEMOS_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{problem} (MEMOS_REQUIRE_POSTGRES=1)")
    pytest.skip(problem)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    require_postgres()
    schema = f"memos_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """None for the embedded SQLite default, else a PostgreSQL URL."""
    if backend == "sqlite":
        return None
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def embedder() -> HashEmbedder:
    return HashEmbedder(dim=64)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def mos(
    home: Path, db_url: str | None, clock: FakeClock, embedder: HashEmbedder
) -> Iterator[memos.MemOS]:
    with memos.open(home, url=db_url, user="alice", embedder=embedder, clock=clock) as opened:
        yield opened


@pytest.fixture
def cube(mos: memos.MemOS) -> memos.MemCube:
    return mos.create_cube("work")
