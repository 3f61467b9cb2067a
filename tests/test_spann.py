"""SpannIndex against an exact index: recall, findability, removal, persistence, corruption,
concurrency. Crash tests live in test_spann_crash.py."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memos.errors import (
    BackendError,
    ConflictError,
    IndexMismatchError,
    InvalidInputError,
    NotFoundError,
)
from memos.protocols import VectorIndex
from memos.retrieval.flat import FlatIndex
from memos.retrieval.spann import SpannIndex, SpannParams

# Small postings so that a few hundred vectors exercise clustering, splits and compaction.
SMALL = SpannParams(flat_limit=32, posting_size=8, posting_max=24, max_probe=8, rerank=16)


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def clustered(n: int, dim: int, seed: int, centers: int = 60) -> np.ndarray:
    """Unit vectors around fixed centres, each at about 45 degrees from its centre."""
    rng = np.random.default_rng(seed)
    middle = unit(np.random.default_rng(999).standard_normal((centers, dim)))
    noise = rng.standard_normal((n, dim)) / np.sqrt(dim)
    return unit(middle[rng.integers(0, centers, n)] + noise)


def exact(vectors: dict[int, np.ndarray], queries: np.ndarray, k: int, metric: str) -> np.ndarray:
    ids = np.fromiter(vectors, dtype=np.int64)
    matrix = np.stack([vectors[i] for i in ids]) if len(ids) else np.zeros((0, queries.shape[1]))
    if metric == "ip":
        scores = queries @ matrix.T
    else:
        scores = -((queries[:, None, :] - matrix[None, :, :]) ** 2).sum(axis=2)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return ids[order]  # type: ignore[no-any-return]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = [
        len(set(f[f >= 0].tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True)
    ]
    return sum(hits) / max(1, truth.size)


operation = st.tuples(
    st.sampled_from(["add", "add", "remove", "flush", "reopen"]),
    st.integers(min_value=0, max_value=300),
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=2**31),
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(operation, min_size=1, max_size=12), st.sampled_from(["ip", "l2"]))
def test_matches_exact_index_under_random_updates(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, int, int, int]], metric: str
) -> None:
    dim = 16
    path = tmp_path_factory.mktemp("spann")
    index = SpannIndex.create(path, dim=dim, metric=metric, params=SMALL)
    truth: dict[int, np.ndarray] = {}
    removed: set[int] = set()
    try:
        for action, start, count, seed in ops:
            ids = np.arange(start, start + count, dtype=np.int64)
            if action == "add":
                vectors = clustered(count, dim, seed + start)
                index.add(ids, vectors)
                truth.update(zip(ids.tolist(), vectors, strict=True))
                removed -= set(ids.tolist())
            elif action == "remove":
                index.remove(ids)
                gone = set(ids.tolist()) & set(truth)
                for item_id in gone:
                    del truth[item_id]
                removed |= gone
            elif action == "flush":
                index.flush()
            else:
                index.close()
                index = SpannIndex.open(path)
        assert len(index) == len(truth)
        queries = clustered(20, dim, 12345)
        found, scores = index.search(queries, 10)
        returned = set(found[found >= 0].tolist())
        assert returned <= set(truth)
        assert not returned & removed
        if truth:
            assert recall(found, exact(truth, queries, 10, metric)) >= 0.7
            # Scores are true scores, best first, higher = closer.
            for row, ids_row in enumerate(found):
                for item_id, score in zip(ids_row, scores[row], strict=True):
                    if item_id >= 0:
                        vector, query = truth[int(item_id)], queries[row]
                        want = vector @ query if metric == "ip" else -((vector - query) ** 2).sum()
                        assert abs(float(want) - float(score)) < 1e-4
                valid = scores[row][ids_row >= 0]
                assert list(valid) == sorted(valid, reverse=True)
        # Every live id is found by its own vector when every posting is probed.
        for item_id, vector in list(truth.items())[:40]:
            ids_found, _ = index.search(vector[None, :], 1, max_probe=10_000)
            top = int(ids_found[0, 0])
            assert top == item_id or np.array_equal(truth[top], vector)  # or an exact twin
    finally:
        index.close()


@pytest.mark.parametrize("codec", ["pq2", "pq4"])
def test_recall_on_clustered_and_random_data(tmp_path: Path, codec: str) -> None:
    dim = 32
    params = SpannParams(codec=codec, flat_limit=256, posting_size=32, posting_max=96)
    for kind, vectors, queries, bound in [
        ("clustered", clustered(6000, dim, 1), clustered(100, dim, 2), 0.95),
        (
            "random",
            unit(np.random.default_rng(3).standard_normal((6000, dim))),
            unit(np.random.default_rng(4).standard_normal((100, dim))),
            0.7,  # no structure to exploit: the worst case for any clustering index
        ),
    ]:
        truth = dict(enumerate(vectors))
        with SpannIndex.build(tmp_path / kind, np.arange(6000), vectors, params=params) as index:
            assert index.stats()["layout"] == "clustered"
            found, _ = index.search(queries, 10)
            narrow = recall(found, exact(truth, queries, 10, "ip"))
            assert narrow >= bound, kind
            # Probing more postings only helps; what is left is the codes' ranking of
            # candidates for the exact re-score (coarse for random data at 32 dimensions
            # and 2 bits; sentence embeddings have 384 and structure).
            wide, _ = index.search(queries, 10, max_probe=200)
            floor = 0.9 if (codec, kind) == ("pq2", "random") else 0.97
            assert recall(wide, exact(truth, queries, 10, "ip")) >= max(narrow - 0.01, floor)


def test_grows_from_empty_without_a_rebuild_step(tmp_path: Path) -> None:
    dim = 24
    vectors = clustered(3000, dim, 5)
    queries = clustered(50, dim, 6)
    index = SpannIndex.create(tmp_path, dim=dim, params=SMALL)
    assert isinstance(index, VectorIndex)
    for start in range(0, 30, 10):  # tiny: exact, same as brute force
        index.add(np.arange(start, start + 10), vectors[start : start + 10])
    tiny = dict(enumerate(vectors[:30]))
    found, _ = index.search(queries, 5)
    assert np.array_equal(found, exact(tiny, queries, 5, "ip"))
    assert index.stats()["layout"] == "exact"
    for start in range(30, 3000, 97):
        stop = min(start + 97, 3000)
        index.add(np.arange(start, stop), vectors[start:stop])
    stats = index.stats()
    assert stats["layout"] == "clustered" and stats["postings"] > 50
    assert stats["posting_length_max"] <= SMALL.posting_max
    truth = exact(dict(enumerate(vectors)), queries, 10, "ip")
    grown = recall(index.search(queries, 10)[0], truth)
    index.close()
    # About as good as the same vectors bulk-built.
    with SpannIndex.build(tmp_path / "built", np.arange(3000), vectors, params=SMALL) as built:
        assert grown >= min(0.85, recall(built.search(queries, 10)[0], truth) - 0.05)


def test_replace_remove_and_compaction(tmp_path: Path) -> None:
    dim = 16
    vectors = clustered(2000, dim, 7)
    index = SpannIndex.build(tmp_path, np.arange(2000), vectors, params=SMALL)
    before = index.stats()
    # Replacing an id moves it: its old vector no longer finds it.
    moved = clustered(1, dim, 8)[0]
    index.add(np.asarray([5]), moved[None, :])
    assert len(index) == 2000
    found, score = index.search(moved[None, :], 1, max_probe=1000)
    assert found[0, 0] == 5 and score[0, 0] == pytest.approx(1.0, abs=1e-5)
    old, _ = index.search(vectors[5][None, :], 3, max_probe=1000)
    assert 5 not in old[0][:1] or np.allclose(vectors[5], moved)
    index.remove(np.arange(0, 1500))
    assert len(index) == 500 and not index.contains(10) and index.contains(1700)
    found, _ = index.search(vectors[:200], 10, max_probe=1000)
    assert (found[found >= 0] >= 1500).all()
    index.compact()
    after = index.stats()
    assert after["records"] < before["records"] / 2
    assert after["stale"] == 0
    assert len(list(tmp_path.glob("postings.*.dat"))) == 1
    found, _ = index.search(vectors[1500:1600], 1, max_probe=1000)
    assert np.array_equal(found[:, 0], np.arange(1500, 1600))
    index.close()


def test_persistence_round_trip(tmp_path: Path) -> None:
    dim = 16
    vectors = clustered(1500, dim, 9)
    queries = clustered(30, dim, 10)
    with SpannIndex.build(tmp_path, np.arange(1500) * 7, vectors, metric="l2", params=SMALL) as a:
        a.add(np.asarray([3]), vectors[:1])
        a.remove(np.asarray([7, 14]))
        a.mark_applied(41)
        a.flush()
        a.add(np.asarray([5]), vectors[1:2])  # after the checkpoint: replayed from the log
        a.mark_applied(42)
        expected_after = a.search(queries, 10)
        assert a.stats()["wal_bytes"] > 0
    with SpannIndex.open(tmp_path, dim=dim, metric="l2") as b:
        assert (b.applied_seq, len(b), b.metric) == (42, 1500, "l2")
        got = b.search(queries, 10)
        assert np.array_equal(got[0], expected_after[0])
        assert np.allclose(got[1], expected_after[1], atol=1e-5)
        # The add replayed from the log is there, and the removes before the checkpoint hold.
        top, _ = b.search(vectors[1:2], 1, max_probe=10_000)
        assert top[0, 0] == 5
        assert not b.contains(7) and not b.contains(14) and b.contains(3)
        # Scores are negative squared distances for l2.
        assert got[1][0, 0] <= 0
    with pytest.raises(IndexMismatchError):
        SpannIndex.open(tmp_path, dim=dim + 1)
    with pytest.raises(IndexMismatchError):
        SpannIndex.open(tmp_path, metric="ip")


def test_small_index_is_exact_like_flat_index(tmp_path: Path) -> None:
    dim = 16
    vectors = unit(np.random.default_rng(11).standard_normal((300, dim)))
    queries = unit(np.random.default_rng(12).standard_normal((10, dim)))
    for metric in ("ip", "l2"):
        spann = SpannIndex.create(tmp_path / metric, dim=dim, metric=metric)
        flat = FlatIndex(tmp_path / f"flat-{metric}", dim, metric)
        for index in (spann, flat):
            index.add(np.arange(300), vectors)
            index.remove(np.arange(0, 300, 3))
        got, want = spann.search(queries, 400), flat.search(queries, 400)
        assert np.array_equal(got[0], want[0])
        assert np.allclose(got[1], want[1], atol=1e-5)
        spann.close()


def test_corruption_is_detected(tmp_path: Path) -> None:
    dim = 16
    vectors = clustered(800, dim, 13)

    def fresh(name: str) -> Path:
        SpannIndex.build(tmp_path / name, np.arange(800), vectors, params=SMALL).close()
        return tmp_path / name

    def flip(path: Path, at: float = 0.5) -> None:
        data = bytearray(path.read_bytes())
        data[int(len(data) * at)] ^= 0x5A
        path.write_bytes(bytes(data))

    for pattern in ("manifest.json", "ids.*.bin", "table.*.bin", "centroids.*.bin"):
        path = fresh(pattern.split(".")[0])
        flip(next(path.glob(pattern)))
        with pytest.raises(BackendError, match=r"checksum|unreadable"):
            SpannIndex.open(path)
    # Posting and vector files are checked when first read.
    for pattern in ("postings.*.dat", "vectors.dat"):
        path = fresh(pattern.split(".")[0] + "-data")
        target = next(path.glob(pattern))
        data = bytearray(target.read_bytes())
        nonzero = np.flatnonzero(np.frombuffer(bytes(data), dtype=np.uint8))
        for at in nonzero[:: max(1, len(nonzero) // 50)]:
            data[at] ^= 0x5A
        target.write_bytes(bytes(data))
        with SpannIndex.open(path) as index, pytest.raises(BackendError, match="checksum"):
            index.search(vectors, 10, max_probe=1000)
    path = fresh("truncated")
    target = next(path.glob("postings.*.dat"))
    target.write_bytes(target.read_bytes()[:100])
    with pytest.raises(BackendError, match=r"truncated|short"):
        SpannIndex.open(path)
    with pytest.raises(NotFoundError):
        SpannIndex.open(tmp_path / "nothing-here")


def test_one_owner_per_directory(tmp_path: Path) -> None:
    index = SpannIndex.create(tmp_path, dim=4)
    index.add(np.asarray([1]), np.ones((1, 4), dtype=np.float32))
    with pytest.raises(ConflictError):
        SpannIndex.create(tmp_path, dim=4)
    # Opening it again in this process takes it over from the old object.
    again = SpannIndex.open(tmp_path)
    assert index.closed and len(again) == 1
    with pytest.raises(BackendError, match="closed"):
        index.search(np.ones((1, 4), dtype=np.float32), 1)
    again.close()


def test_rejects_bad_input(tmp_path: Path) -> None:
    index = SpannIndex.create(tmp_path, dim=8)
    with pytest.raises(InvalidInputError, match="dimension"):
        index.add(np.asarray([1]), np.zeros((1, 9), dtype=np.float32))
    with pytest.raises(InvalidInputError, match="duplicate"):
        index.add(np.asarray([1, 1]), np.zeros((2, 8), dtype=np.float32))
    with pytest.raises(InvalidInputError, match="NaN"):
        index.add(np.asarray([1]), np.full((1, 8), np.nan, dtype=np.float32))
    with pytest.raises(InvalidInputError, match="metric"):
        SpannIndex.create(tmp_path / "x", dim=8, metric="cosine")
    with pytest.raises(InvalidInputError, match="codec"):
        SpannParams(codec="pq")
    with pytest.raises(InvalidInputError, match="max_probe"):
        SpannParams(max_probe=0)
    with pytest.raises(InvalidInputError, match="max_probe"):
        index.search(np.zeros((1, 8), dtype=np.float32), 3, max_probe=0)
    ids, scores = index.search(np.zeros((2, 8), dtype=np.float32), 3)
    assert ids.shape == (2, 3) and (ids == -1).all() and (scores == 0).all()
    index.close()


def test_default_probing_reads_a_record_budget_that_does_not_grow() -> None:
    # Large balanced postings: a query reads about the same records at any index size.
    assert SpannParams().probe() == (64, SpannParams().scan_records)
    assert SpannParams(scan_records=1000).probe() == (64, 1000)
    assert SpannParams(max_probe=7).probe() == (7, None)
    assert SpannParams().probe(5) == (5, None)


def test_readers_run_during_writes_and_compaction(tmp_path: Path) -> None:
    dim = 16
    vectors = clustered(4000, dim, 14)
    index = SpannIndex.build(tmp_path, np.arange(2000), vectors[:2000], params=SMALL)
    gone: set[int] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                removed_before = set(gone)
                found, _ = index.search(vectors[:64], 10)
                assert not set(found[found >= 0].tolist()) & removed_before
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    for start in range(2000, 4000, 250):
        index.add(np.arange(start, start + 250), vectors[start : start + 250])
        doomed = np.arange(start - 2000, start - 1800)
        index.remove(doomed)
        gone.update(doomed.tolist())
        if start == 3000:
            index.compact()
    stop.set()
    for reader in readers:
        reader.join()
    assert not errors, errors[0]
    assert len(index) == 4000 - len(gone)
    index.close()


def test_a_cold_index_answers_as_a_warm_one(tmp_path: Path) -> None:
    dim = 32
    vectors = clustered(3000, dim, 15)
    queries = clustered(20, dim, 16)
    params = SpannParams(flat_limit=256, posting_size=32, posting_max=96)
    with SpannIndex.build(tmp_path, np.arange(3000), vectors, params=params) as index:
        warm = index.search(queries, 10)
        index.evict()  # page cache dropped, vector file unmapped
        one = [index.search(query[None, :], 10) for query in queries]
        index.evict()
        batch = index.search(queries, 10)  # prefetches each next query's postings
    for got in (np.concatenate([ids for ids, _ in one]), batch[0]):
        assert np.array_equal(got, warm[0])
    assert np.allclose(batch[1], warm[1], atol=1e-6)
