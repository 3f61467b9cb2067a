"""Many memos processes on one database: every acknowledged write is stored once and
found by every host's index, including a writer that commits late."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

import memos
from memos.stores.engine import before_commit
from memos.testing import HashEmbedder

WRITERS = 6


def _memos(home: Path, url: str | None, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "memos.cli.app", "--home", str(home), "--embedder", "hash"]
    if url is not None:
        command += ["--url", url]
    env = {**os.environ, "MEMOS_USER": "alice", "MEMOS_NO_SERVER": "1"}
    return subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def test_parallel_first_writes_to_a_new_cube_all_succeed_once(
    tmp_path: Path, db_url: str | None
) -> None:
    """Six processes add to a cube nobody has indexed yet: each call that succeeds is
    stored exactly once, and every call succeeds (the item was committed before any index
    work, which must never turn a stored write into a reported failure)."""
    home = tmp_path / "home"
    created = _memos(home, db_url, "cube", "create", "c")
    assert created.wait(timeout=120) == 0, created.stderr.read() if created.stderr else ""
    writers = [_memos(home, db_url, "add", f"parallel item {n}", "-c", "c") for n in range(WRITERS)]
    results = [(w.wait(timeout=180), w.stdout, w.stderr) for w in writers]
    failures = [err.read() for code, _out, err in results if code != 0 and err is not None]
    assert failures == []
    with memos.open(home, url=db_url, user="alice", embedder="hash") as mos:
        cube = mos.cube("c")
        texts = sorted(i.content or "" for i in cube.items(limit=100))
        assert texts == sorted(f"parallel item {n}" for n in range(WRITERS))
        assert cube.verify_index().ok
        assert {h.item.content for h in cube.search("parallel item", k=10)} == set(texts)


@pytest.fixture
def hosts(pg_url: str, tmp_path: Path) -> Iterator[tuple[memos.MemOS, memos.MemOS, memos.MemOS]]:
    """Three memos processes' worth of state (separate homes, engines and indexes) on one
    PostgreSQL database."""
    embedder = HashEmbedder(dim=64)
    opened = [
        memos.open(tmp_path / name, url=pg_url, user="alice", embedder=embedder)
        for name in ("a", "b", "c")
    ]
    try:
        yield opened[0], opened[1], opened[2]
    finally:
        for mos in opened:
            mos.close()


@pytest.mark.postgres
def test_a_late_committing_writer_is_never_skipped(
    hosts: tuple[memos.MemOS, memos.MemOS, memos.MemOS],
) -> None:
    """Host A starts a write and stalls before committing; host B writes and commits;
    host C's index catches up past B's entry. When A commits, C must still find A's item:
    log places are given at commit, so A's entry lands after B's, never below it."""
    a, b, c = hosts
    a.create_cube("shared")
    watcher = c.cube("shared")
    assert watcher.search("anything") == []
    stall, stalled = threading.Event(), threading.Event()

    def hold(conn: Connection) -> None:
        if threading.current_thread().name == "late-writer":
            stalled.set()
            assert stall.wait(timeout=60)

    before_commit(a.kernel.store.engine, hold, first=True)
    late: list[memos.MemoryItem] = []
    writer = threading.Thread(
        target=lambda: late.append(a.cube("shared").add("the late writer's zeppelin")),
        name="late-writer",
    )
    writer.start()
    assert stalled.wait(timeout=60)  # A's rows are written, its transaction still open
    early = b.cube("shared").add("the early writer's balloon")
    assert [h.item.id for h in watcher.search("balloon zeppelin", k=5)] == [early.id]
    stall.set()
    writer.join(timeout=60)
    assert late, "the late writer failed"
    found = {h.item.id for h in watcher.search("balloon zeppelin", k=5)}
    assert found == {early.id, late[0].id}
    assert watcher.verify_index().ok
    places = [op.seq for op in watcher.operations()]
    assert places == list(range(1, len(places) + 1))  # gapless, in commit order


@pytest.mark.postgres
def test_concurrent_writers_on_many_hosts_lose_nothing(
    hosts: tuple[memos.MemOS, memos.MemOS, memos.MemOS],
) -> None:
    """Three hosts write to one cube from several threads at once; every host's index ends
    up with exactly the items SQL holds."""
    a, _, _ = hosts
    a.create_cube("busy")
    errors: list[BaseException] = []

    def write(mos: memos.MemOS, tag: str) -> None:
        try:
            cube = mos.cube("busy")
            for n in range(15):
                cube.add(f"{tag} note number {n}")
        except BaseException as exc:  # reported below; a thread must not swallow it
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(mos, f"host{index}-thread{t}"))
        for index, mos in enumerate(hosts)
        for t in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    for mos in hosts:
        cube = mos.cube("busy")
        assert len(cube.items(limit=1000)) == 90
        report = cube.verify_index()
        assert report.ok, report
