"""Crashes and corruption: a killed writer loses nothing acknowledged, a corrupt file is
reported clearly, and nothing already stored is damaged by the attempt."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import memos
from memos.retrieval.flat import SNAPSHOT, FlatIndex
from memos.retrieval.spann import SpannIndex
from memos.testing import HashEmbedder

CHILD_PRELUDE = """
import os, sys
import memos
from memos.testing import HashEmbedder
mos = memos.open(sys.argv[1], user="alice", embedder=HashEmbedder(dim=64))
"""


def _run_child(body: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = CHILD_PRELUDE + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script, str(home)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def _index_dir(home: Path, cube_id: int = 1) -> Path:
    return home / "indexes" / "local" / str(cube_id)


def test_kill_between_sql_commit_and_index_write(home: Path) -> None:
    done = _run_child(
        """
        cube = mos.create_cube("work")
        for n in range(5):
            cube.add(f"settled fact {n}")
        mos.flush()
        os.environ["MEMOS_CRASH_AT"] = "index-before-apply"
        cube.add("the fact written just before the crash")
        print("not reached")
        """,
        home,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert "not reached" not in done.stdout
    # The index on disk predates the last add: the crash really hit the gap.
    with SpannIndex.open(_index_dir(home), dim=64) as snapshot:
        assert len(snapshot) == 5
    with memos.open(home, user="alice", embedder=HashEmbedder(dim=64)) as mos:
        cube = mos.cube("work")
        hits = cube.search("written just before the crash", k=1)
        assert hits[0].item.content == "the fact written just before the crash"
        assert cube.stats()["indexed_vectors"] == 6


def test_kill_during_update_and_forget(home: Path) -> None:
    done = _run_child(
        """
        cube = mos.create_cube("work")
        keep = cube.add("alpha original wording")
        gone = cube.add("beta soon forgotten")
        mos.flush()
        os.environ["MEMOS_CRASH_AT"] = "index-before-apply"
        try:
            cube.update(keep.id, "gamma replacement wording")
        finally:
            pass
        """,
        home,
    )
    assert done.returncode == -signal.SIGKILL
    with memos.open(home, user="alice", embedder=HashEmbedder(dim=64)) as mos:
        cube = mos.cube("work")
        top = cube.search("gamma replacement wording", k=1)[0]
        assert top.item.content == "gamma replacement wording"
        # The index holds the new vector, not the old one.
        assert top.scores["vector"] == pytest.approx(1.0, abs=1e-4)


@pytest.mark.slow
def test_random_kills_lose_no_acknowledged_write(home: Path) -> None:
    rng = random.Random(7)
    acknowledged: list[int] = []
    writer = """
    import itertools
    try:
        cube = mos.cube("work")
    except memos.NotFoundError:
        cube = mos.create_cube("work")
    for n in itertools.count():
        item = cube.add(f"streamed memory {os.getpid()} {n}")
        if n % 7 == 3:
            cube.forget(item.id)
            print(f"forgot {item.id}", flush=True)
        else:
            print(f"added {item.id}", flush=True)
    """
    forgotten: list[int] = []
    for _round in range(3):
        script = CHILD_PRELUDE + textwrap.dedent(writer)
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(home)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        deadline = time.monotonic() + 60
        wanted = rng.randint(5, 40)
        lines = 0
        while lines < wanted and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            action, item_id = line.split()
            (acknowledged if action == "added" else forgotten).append(int(item_id))
            lines += 1
        time.sleep(rng.random() * 0.05)
        child.send_signal(signal.SIGKILL)
        child.wait()
        for line in child.stdout:  # acknowledged before the kill landed
            action, item_id = line.split()
            (acknowledged if action == "added" else forgotten).append(int(item_id))
    assert len(acknowledged) >= 10
    with memos.open(home, user="alice", embedder=HashEmbedder(dim=64)) as mos:
        cube = mos.cube("work")
        index = mos.kernel.index_of(cube.info).index
        live = {i.id for i in cube.items(status=["activated"], limit=10_000)}
        assert set(acknowledged) <= live
        assert not set(forgotten) & live
        for item_id in acknowledged:
            assert index.contains(item_id)
        for item_id in forgotten:
            assert not index.contains(item_id)
        # SQL and the index agree exactly.
        assert len(index) == len(live)


def test_corrupt_index_snapshot_is_rebuilt(home: Path, caplog: pytest.LogCaptureFixture) -> None:
    with memos.open(home, embedder=HashEmbedder(dim=64)) as mos:
        cube = mos.create_cube("work")
        ids = [cube.add(f"fact {n} about rivers").id for n in range(10)]
    snapshot = next(_index_dir(home).glob("ids.*.bin"))  # the SPANN id map
    data = bytearray(snapshot.read_bytes())
    data[len(data) // 2] ^= 0xFF
    snapshot.write_bytes(bytes(data))
    with pytest.raises(memos.BackendError):
        SpannIndex.open(_index_dir(home))
    with memos.open(home, embedder=HashEmbedder(dim=64)) as mos:
        cube = mos.cube("work")
        assert {h.item.id for h in cube.search("rivers", k=10)} == set(ids)
    assert "rebuilding the vector index" in caplog.text


def test_index_from_another_database_is_discarded(home: Path) -> None:
    with memos.open(home, embedder=HashEmbedder(dim=64)) as mos:
        mos.create_cube("work").add("old database fact")
    (home / "memos.db").unlink()
    for extra in ("memos.db-wal", "memos.db-shm"):
        (home / extra).unlink(missing_ok=True)
    with memos.open(home, embedder=HashEmbedder(dim=64)) as mos:
        cube = mos.create_cube("work")
        cube.add("new database fact")
        assert [h.item.content for h in cube.search("fact", k=5)] == ["new database fact"]


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_database_is_reported_not_overwritten(home: Path, damage: str) -> None:
    with memos.open(home, embedder=HashEmbedder(dim=64)) as mos:
        cube = mos.create_cube("work")
        cube.add_many([f"important memory {n} " + "x" * 500 for n in range(200)])
    db = home / "memos.db"
    if damage == "garbage":
        db.write_bytes(b"this is not a database" * 100)
    else:
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])
    before = db.read_bytes()
    with (
        pytest.raises(memos.BackendError, match=r"corrupt|malformed|database"),
        memos.open(home, embedder=HashEmbedder(dim=64)) as mos,
    ):
        cube = mos.cube("work")
        cube.items(limit=1000)
        cube.search("important memory")
    assert db.read_bytes() == before


def test_cli_reports_corrupt_database(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "memos.db").write_bytes(b"\x00garbage" * 64)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "memos.cli.app",
            "--home",
            str(home),
            "--embedder",
            "hash",
            "cube",
            "list",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 6
    assert "corrupt" in done.stderr and "Traceback" not in done.stderr


def test_flat_snapshot_roundtrip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((50, 16)).astype(np.float32)
    index = FlatIndex(tmp_path, 16, "l2")
    index.add(np.arange(50, dtype=np.int64) * 3, vectors)
    index.remove(np.asarray([0, 3], dtype=np.int64))
    index.mark_applied(42)
    index.flush()
    again = FlatIndex.open(tmp_path, 16, "l2")
    assert (len(again), again.applied_seq) == (48, 42)
    ids, scores = again.search(vectors[5:6], 1)
    assert ids[0, 0] == 15 and scores[0, 0] == pytest.approx(0.0, abs=1e-4)
    meta = json.loads(bytes(np.load(tmp_path / SNAPSHOT)["meta"]).decode())
    assert meta["count"] == 48
    with pytest.raises(memos.IndexMismatchError):
        FlatIndex.open(tmp_path, 16, "ip")


def test_schema_version_is_checked(home: Path) -> None:
    import sqlite3

    with memos.open(home, embedder=HashEmbedder(dim=64)) as mos:
        mos.create_cube("work").add("kept")
    with sqlite3.connect(home / "memos.db") as conn:
        conn.execute("UPDATE memos_meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(memos.BackendError, match="schema version 999"):
        memos.open(home, embedder=HashEmbedder(dim=64))
    with sqlite3.connect(home / "memos.db") as conn:
        assert conn.execute("SELECT content FROM memos_items").fetchall() == [("kept",)]


def test_hard_forget_leaves_no_text_in_database_files(home: Path) -> None:
    with memos.open(home, embedder=HashEmbedder(dim=64)) as mos:
        cube = mos.create_cube("work")
        secret = cube.add("zebra-violet-7731 is the vault code")
        cube.update(secret.id, "zebra-violet-7731 is still the vault code")
        cube.add("unrelated memory")
        cube.forget(secret.id, hard=True)
    for path in home.rglob("*"):
        if path.is_file():
            assert b"zebra-violet-7731" not in path.read_bytes(), path


def _drop_connections(pg_url: str, name: str) -> int:
    """Terminate every server connection named `name`, as a database restart would."""
    from sqlalchemy import create_engine, text

    admin = create_engine(pg_url)
    try:
        with admin.begin() as conn:
            dropped = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": name},
            ).scalar_one()
    finally:
        admin.dispose()
    return int(dropped)


@contextlib.contextmanager
def _named_memos(pg_url: str, home: Path, name: str) -> Iterator[memos.MemCube]:
    """A cube holding one fact, on connections PostgreSQL lists under `name`."""
    url = f"{pg_url}&application_name={name}"
    with memos.open(home, url=url, user="alice", embedder=HashEmbedder(dim=64)) as mos:
        cube = mos.create_cube("work")
        cube.add("the launch moved to friday")
        yield cube


@pytest.mark.postgres
def test_postgresql_connections_dropped_while_idle_are_replaced(
    pg_url: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memos.stores import engine as engines

    name = f"memos_drop_{os.getpid()}"
    with _named_memos(pg_url, home, name) as cube:
        assert _drop_connections(pg_url, name) >= 1
        # Pooled connections idle past the threshold are pinged, found dead and replaced.
        monkeypatch.setattr(engines, "PING_AFTER_IDLE_S", 0.0)
        assert [hit.item.content for hit in cube.search("launch", k=1)] == [
            "the launch moved to friday"
        ]
        cube.add("the budget review is on monday")
        assert len(cube.items()) == 2


@pytest.mark.postgres
def test_postgresql_connection_dropped_mid_use_fails_one_call_cleanly(
    pg_url: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memos.stores import engine as engines

    name = f"memos_drop_busy_{os.getpid()}"
    with _named_memos(pg_url, home, name) as cube:
        # Used a moment ago, so not pinged: the one call that meets the dead connection
        # fails with a clear error, and the pool is renewed for the next.
        monkeypatch.setattr(engines, "PING_AFTER_IDLE_S", 3600.0)
        assert _drop_connections(pg_url, name) >= 1
        with pytest.raises(memos.BackendError):
            cube.add("the budget review is on monday")
        cube.add("the budget review is on monday")
        assert sorted(item.content for item in cube.items()) == [
            "the budget review is on monday",
            "the launch moved to friday",
        ]
