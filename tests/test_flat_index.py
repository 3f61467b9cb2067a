"""FlatIndex against brute force, under random add / replace / remove sequences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memos.errors import InvalidInputError
from memos.retrieval.flat import FlatIndex

DIM = 8

operation = st.tuples(
    st.sampled_from(["add", "remove"]),
    st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=8, unique=True),
    st.integers(min_value=0, max_value=2**31),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(operation, max_size=25), st.sampled_from(["ip", "l2"]))
def test_matches_brute_force(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, list[int], int]], metric: str
) -> None:
    index = FlatIndex(tmp_path_factory.mktemp("flat"), DIM, metric)
    truth: dict[int, np.ndarray] = {}
    for action, ids, seed in ops:
        if action == "add":
            vectors = (
                np.random.default_rng(seed).standard_normal((len(ids), DIM)).astype(np.float32)
            )
            index.add(np.asarray(ids, dtype=np.int64), vectors)
            truth.update(zip(ids, vectors, strict=True))
        else:
            index.remove(np.asarray(ids, dtype=np.int64))
            for item_id in ids:
                truth.pop(item_id, None)
    assert len(index) == len(truth)
    query = np.random.default_rng(1).standard_normal((1, DIM)).astype(np.float32)
    k = 5
    ids, scores = index.search(query, k)

    def score(item_id: int) -> float:
        vector = truth[item_id]
        if metric == "ip":
            return float(vector @ query[0])
        return -float(np.sum((vector - query[0]) ** 2))

    found = [int(i) for i in ids[0] if i >= 0]
    assert len(found) == min(k, len(truth))
    # The best scores overall, and each returned score is that id's true score.
    best = sorted((score(i) for i in truth), reverse=True)[:k]
    assert np.allclose(scores[0][: len(found)], best, atol=1e-3)
    assert all(abs(score(i) - s) < 1e-3 for i, s in zip(found, scores[0], strict=False))
    assert all(i == -1 for i in ids[0][len(truth) :])
    # Scores come back best first, higher = closer for both metrics.
    assert list(scores[0][: len(found)]) == sorted(scores[0][: len(found)], reverse=True)
    index.flush()
    again = FlatIndex.open(index.path, DIM, metric)
    assert np.array_equal(again.search(query, k)[0], ids)


def test_rejects_wrong_shapes(tmp_path: Path) -> None:
    index = FlatIndex(tmp_path, DIM)
    with pytest.raises(InvalidInputError, match="dimension"):
        index.add(np.asarray([1], dtype=np.int64), np.zeros((1, DIM + 1), dtype=np.float32))
    with pytest.raises(InvalidInputError, match="metric"):
        FlatIndex(tmp_path, DIM, "cosine")
    ids, _ = index.search(np.zeros((2, DIM), dtype=np.float32), 3)
    assert ids.shape == (2, 3) and (ids == -1).all()
