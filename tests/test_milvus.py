"""MilvusIndex against the VectorIndex contract: Milvus Lite embedded in this process, Milvus
Lite served from a child process on a loopback port, and a real Milvus when
MEMOS_TEST_MILVUS_URI is set. Needs `pip install 'memos-kernel[milvus]'`; skipped without it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from memos.errors import BackendError, ConfigError
from memos.retrieval.milvus import HnswParams, MilvusConnection, MilvusIndex, MilvusTarget

REMOTE = os.environ.get("MEMOS_TEST_MILVUS_URI")
DIM = 32

Connect = Callable[[], MilvusConnection]


def _need_milvus() -> None:
    pytest.importorskip("pymilvus", reason="pip install 'memos-kernel[milvus]' for these tests")
    pytest.importorskip("milvus_lite", reason="pip install 'memos-kernel[milvus]' for these tests")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Milvus Lite as a server process on a loopback port, killed at the end."""
    _need_milvus()
    port = _free_port()
    data = tmp_path_factory.mktemp("milvus-server") / "served.db"
    log = (data.parent / "server.log").open("w")
    command = [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data)]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"Milvus Lite server exited: {(data.parent / 'server.log').read_text()}"
                )
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("Milvus Lite server did not listen within 30 s")
                time.sleep(0.1)
        yield f"milvus://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(params=["embedded", "served", "remote"])
def connect(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Connect]:
    """Opens connections to one Milvus; each test gets its own collection prefix."""
    _need_milvus()
    if request.param == "embedded":
        uri = f"milvus://{tmp_path}/vectors.db"
    elif request.param == "served":
        uri = request.getfixturevalue("served")
    elif REMOTE:
        uri = REMOTE
    else:
        pytest.skip("set MEMOS_TEST_MILVUS_URI=milvus://host:19530 to run against a real Milvus")
    prefix = f"t{uuid.uuid4().hex[:10]}"
    opened: list[MilvusConnection] = []

    def make() -> MilvusConnection:
        connection = MilvusConnection.connect(uri, prefix=prefix, timeout=20)
        opened.append(connection)
        return connection

    yield make
    if request.param == "remote":
        cleanup = make()
        for name in cleanup.client.list_collections():
            if name.startswith(prefix):
                cleanup.client.drop_collection(name)
    for connection in opened:
        connection.close()


def _unit(rows: int, seed: int, dim: int = DIM) -> np.ndarray:
    data = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def _ids(*values: int) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


# -- the contract, on every backend ----------------------------------------------------------


def test_contract(connect: Connect) -> None:
    connection = connect()
    index = connection.index(1, DIM, "ip", identity="cube-1")
    assert len(index) == 0 and index.applied_seq == 0
    assert index.search(_unit(1, 0), 3)[0].tolist() == [[-1, -1, -1]]

    vectors = _unit(20, 1)
    index.add(np.arange(20, dtype=np.int64), vectors)
    index.add(np.arange(20, dtype=np.int64), vectors)  # a replay changes nothing
    assert len(index) == 20
    ids, scores = index.search(vectors[:3], 5)
    assert ids[:, 0].tolist() == [0, 1, 2]
    assert np.allclose(scores[:, 0], 1.0, atol=1e-4)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first

    # Replacing moves an id: 5 now sits where 0 was, and 0 is gone.
    index.add(_ids(5), -vectors[5:6])
    assert index.search(-vectors[5:6], 1)[0].tolist() == [[5]]
    index.add(_ids(0), vectors[7:8])
    assert len(index) == 20

    # A hard remove is gone from search even when asked for by its exact vector.
    index.remove(_ids(3, 4, 999))
    assert len(index) == 18
    found = index.search(vectors[3:5], 20)[0]
    assert not ({3, 4} & set(found.ravel().tolist()))
    assert sorted(x for x in found[0].tolist() if x >= 0) == sorted(set(range(20)) - {3, 4})

    # More asked for than held: -1 padding with zero scores.
    ids, scores = index.search(vectors[:1], 25)
    assert (ids[0, 18:] == -1).all() and (scores[0, 18:] == 0).all()

    index.mark_applied(7)
    index.mark_applied(5)  # never goes back
    index.close()
    connection.close()

    again = connect().index(1, DIM, "ip", identity="cube-1")
    assert again.applied_seq == 7
    assert len(again) == 18
    assert again.search(vectors[9:10], 1)[0].tolist() == [[9]]


def test_crash_keeps_last_flushed_seq(connect: Connect) -> None:
    """Vectors are durable per call; applied_seq only per flush, so a crash replays."""
    connection = connect()
    index = connection.index(4, DIM, "ip")
    index.add(_ids(1, 2), _unit(2, 3))
    index.mark_applied(3)
    index.flush()
    index.add(_ids(3), _unit(1, 4))
    index.mark_applied(4)
    connection.close()  # no index.close(): the process "died"

    reopened = connect().index(4, DIM, "ip")
    assert reopened.applied_seq == 3
    assert len(reopened) == 3  # the write itself survived; replaying it is idempotent
    reopened.add(_ids(3), _unit(1, 4))
    assert len(reopened) == 3


def test_cubes_never_see_each_other(connect: Connect) -> None:
    connection = connect()
    left = connection.index(10, DIM, "ip")
    right = connection.index(11, DIM, "ip")
    assert left.collection == right.collection
    vectors = _unit(30, 5)
    ids = np.arange(30, dtype=np.int64)
    left.add(ids, vectors)
    right.add(ids, -vectors)  # the same item ids, other vectors

    # Each score is the query against that cube's own vector for the id, never the other's.
    for index, sign in ((left, 1.0), (right, -1.0)):
        found, scores = index.search(vectors[:5], 30)
        assert (found >= 0).all()
        own = sign * np.einsum("qd,qkd->qk", vectors[:5], vectors[found])
        assert np.allclose(scores, own, atol=1e-4)
    assert left.search(vectors[:5], 1)[0].ravel().tolist() == list(range(5))

    right.remove(ids[:10])
    assert len(left) == 30 and len(right) == 20
    assert left.search(vectors[:1], 1)[0].tolist() == [[0]]

    right.destroy()
    assert len(right) == 0 and right.applied_seq == 0
    assert right.search(vectors[:1], 3)[0].tolist() == [[-1, -1, -1]]
    assert len(left) == 30


def test_filtered_recall_against_exact(connect: Connect) -> None:
    cubes = 3
    vectors = _unit(3000, 6, dim=64)
    owner = np.arange(len(vectors)) % cubes
    queries = _unit(40, 7, dim=64)
    connection = connect()
    recalls = []
    for cube in range(cubes):
        index = connection.index(cube + 1, 64, "ip")
        mine = np.flatnonzero(owner == cube)
        index.add(mine.astype(np.int64), vectors[mine])
    for cube in range(cubes):
        index = connection.index(cube + 1, 64, "ip")
        mine = np.flatnonzero(owner == cube)
        truth = mine[np.argsort(-(queries @ vectors[mine].T), axis=1)[:, :10]]
        found = index.search(queries, 10)[0]
        assert set(found.ravel().tolist()) <= set(mine.tolist())
        pairs = zip(found.tolist(), truth.tolist(), strict=True)
        hits = sum(len(set(got) & set(want)) for got, want in pairs)
        recalls.append(hits / truth.size)
    assert min(recalls) >= 0.95, recalls


# -- Milvus Lite embedded only -----------------------------------------------------------------


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[MilvusConnection]:
    _need_milvus()
    connection = MilvusConnection.connect(f"milvus://{tmp_path}/vectors.db")
    yield connection
    connection.close()


def test_l2_scores_are_negated_squared_distances(lite: MilvusConnection) -> None:
    index = lite.index(1, 8, "l2")
    vectors = np.random.default_rng(8).standard_normal((6, 8)).astype(np.float32)
    index.add(np.arange(6, dtype=np.int64), vectors)
    ids, scores = index.search(vectors[:1], 6)
    expected = -np.sum((vectors[ids[0]] - vectors[0]) ** 2, axis=1)
    assert ids[0, 0] == 0
    assert np.allclose(scores[0], expected, atol=1e-3)
    assert np.all(np.diff(scores[0]) <= 1e-6)


def test_another_cube_with_the_same_id_starts_empty(lite: MilvusConnection) -> None:
    old = lite.index(3, DIM, "ip", identity="notes@2026-01-01")
    old.add(_ids(1, 2), _unit(2, 9))
    old.mark_applied(9)
    old.close()
    assert lite.index(3, DIM, "ip", identity="notes@2026-01-01").applied_seq == 9
    reborn = lite.index(3, DIM, "ip", identity="notes@2026-06-01")
    assert reborn.applied_seq == 0 and len(reborn) == 0


def test_writers_on_many_threads(lite: MilvusConnection) -> None:
    indexes = [lite.index(cube, DIM, "ip") for cube in range(4)]
    vectors = _unit(200, 10)

    def fill(index: MilvusIndex) -> None:
        for start in range(0, 200, 20):
            ids = np.arange(start, start + 20, dtype=np.int64)
            index.add(ids, vectors[start : start + 20])
            index.remove(ids[:2])

    threads = [threading.Thread(target=fill, args=(index,)) for index in indexes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [len(index) for index in indexes] == [180] * 4
    assert indexes[2].search(vectors[5:6], 1)[0].tolist() == [[5]]


def test_params_and_bad_input(lite: MilvusConnection) -> None:
    with pytest.raises(ValueError, match="metric"):
        lite.index(1, DIM, "hamming")
    index = lite.index(1, DIM, "ip")
    with pytest.raises(ValueError, match="dimension"):
        index.add(_ids(1), _unit(1, 0, dim=DIM + 1))
    with pytest.raises(ValueError, match="duplicate"):
        index.add(_ids(1, 1), _unit(2, 0))
    assert HnswParams().ef >= 256


# -- targets and errors ------------------------------------------------------------------------


def test_parse_targets(tmp_path: Path) -> None:
    server = MilvusTarget.parse("milvus://vectors.internal:19531/tenant_a")
    assert (server.uri, server.database, server.embedded) == (
        "http://vectors.internal:19531",
        "tenant_a",
        False,
    )
    assert MilvusTarget.parse("milvus://localhost").uri == "http://localhost:19530"
    secured = MilvusTarget.parse("milvus://root:p%40ss@10.0.0.1:19530")
    assert (secured.user, secured.password) == ("root", "p@ss")
    assert "p@ss" not in str(secured)
    lite = MilvusTarget.parse(f"milvus://{tmp_path}/v.db")
    assert lite.embedded and lite.uri == f"{tmp_path}/v.db"
    for bad in [
        "http://localhost:19530",
        "milvus://relative.db",
        "milvus:///tmp/vectors.sqlite",
        "milvus://host:notaport",
        "milvus://host/bad-name!",
        "milvus://host?x=1",
    ]:
        with pytest.raises(ConfigError):
            MilvusTarget.parse(bad)


def test_missing_pymilvus_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(ConfigError, match=r"memos-kernel\[milvus\]"):
        MilvusConnection.connect("milvus://127.0.0.1:1")


def test_unreachable_server_is_a_backend_error() -> None:
    _need_milvus()
    started = time.monotonic()
    with pytest.raises(BackendError, match="running"):
        MilvusConnection.connect(f"milvus://127.0.0.1:{_free_port()}", timeout=2)
    assert time.monotonic() - started < 15


def test_memos_keeps_a_cubes_vectors_in_milvus(tmp_path: Path, db_url: str | None) -> None:
    """`memos.open(vectors="milvus:///...")`: search, forget and a reopen go through Milvus,
    driven by the operation log like the local index; verify agrees with SQL."""
    _need_milvus()
    import memos
    from memos.testing import HashEmbedder

    vectors = f"milvus:///{tmp_path / 'vectors.db'}"
    settings = {"url": db_url, "user": "alice", "embedder": HashEmbedder(dim=64)}
    with memos.open(tmp_path / "home", vectors=vectors, **settings) as mos:  # type: ignore[arg-type]
        cube = mos.create_cube("work")
        kept = cube.add("the harbour crane is blue")
        gone = cube.add("the glacier hut is red")
        assert [h.item.id for h in cube.search("harbour crane", k=1)] == [kept.id]
        cube.forget(gone.id, hard=True)
        assert gone.id not in [h.item.id for h in cube.search("glacier hut red", k=5)]
        assert cube.verify_index().ok
    again = tmp_path / ("other-home" if db_url else "home")  # PostgreSQL: a second host
    with memos.open(again, vectors=vectors, **settings) as mos:  # type: ignore[arg-type]
        cube = mos.cube("work")
        later = cube.add("a note written after reopening")
        report = cube.verify_index()
        assert report.ok and report.backend == "MilvusIndex" and report.index_vectors == 2
        assert cube.search("written after reopening", k=1)[0].item.id == later.id
